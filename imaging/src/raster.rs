//! Decoded pixels and the pixel operations of the render path.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{Filter, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::error::{Error, ErrorKind, Result};

/// How many bytes each pixel has, and what they mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channels {
    Gray = 1,
    Rgb = 3,
    Rgba = 4,
}

impl Channels {
    pub fn count(self) -> usize {
        self as usize
    }

    fn pixel_type(self) -> PixelType {
        match self {
            Channels::Gray => PixelType::U8,
            Channels::Rgb => PixelType::U8x3,
            Channels::Rgba => PixelType::U8x4,
        }
    }
}

/// 8-bit pixels, row by row, without padding.
#[derive(Clone, PartialEq, Eq)]
pub struct Raster {
    pub width: u32,
    pub height: u32,
    pub channels: Channels,
    pub pixels: Vec<u8>,
}

impl AsRef<Raster> for Raster {
    fn as_ref(&self) -> &Raster {
        self
    }
}

impl std::fmt::Debug for Raster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Raster({}x{} {:?})",
            self.width, self.height, self.channels
        )
    }
}

impl Raster {
    /// A raster filled with one value per channel.
    pub fn filled(width: u32, height: u32, channels: Channels, value: u8) -> Self {
        Self {
            width,
            height,
            channels,
            pixels: vec![value; width as usize * height as usize * channels.count()],
        }
    }

    pub fn new(width: u32, height: u32, channels: Channels, pixels: Vec<u8>) -> Result<Self> {
        if pixels.len() != width as usize * height as usize * channels.count() {
            return Err(Error::new(
                ErrorKind::Internal,
                "pixel buffer does not match the raster size",
            ));
        }
        Ok(Self {
            width,
            height,
            channels,
            pixels,
        })
    }

    fn row_bytes(&self) -> usize {
        self.width as usize * self.channels.count()
    }

    /// Copies a rectangle out; the rectangle must lie inside.
    #[cfg(test)]
    pub fn crop(&self, x: u32, y: u32, width: u32, height: u32) -> Raster {
        let channels = self.channels.count();
        let mut pixels = Vec::with_capacity(width as usize * height as usize * channels);
        for row in y..y + height {
            let start = row as usize * self.row_bytes() + x as usize * channels;
            pixels.extend_from_slice(&self.pixels[start..start + width as usize * channels]);
        }
        Raster {
            width,
            height,
            channels: self.channels,
            pixels,
        }
    }

    /// Copies `source` in with its top-left corner at (`x`, `y`), clipping what falls outside.
    pub fn paste(&mut self, source: &Raster, x: u32, y: u32) {
        let channels = self.channels.count();
        let width = source.width.min(self.width.saturating_sub(x)) as usize;
        let height = source.height.min(self.height.saturating_sub(y));
        for row in 0..height {
            let from = row as usize * source.row_bytes();
            let to = (y + row) as usize * self.row_bytes() + x as usize * channels;
            self.pixels[to..to + width * channels]
                .copy_from_slice(&source.pixels[from..from + width * channels]);
        }
    }

    /// Copies a rectangle out at exactly `width` x `height`, repeating the last column and row
    /// where the rectangle runs past the edge (padding a TIFF edge tile without a seam).
    pub fn crop_padded(&self, x: u32, y: u32, width: u32, height: u32) -> Raster {
        let channels = self.channels.count();
        let mut pixels = Vec::with_capacity(width as usize * height as usize * channels);
        let valid_width = width.min(self.width - x) as usize;
        for row in 0..height {
            let source_row = (y + row).min(self.height - 1) as usize;
            let start = source_row * self.row_bytes() + x as usize * channels;
            let line = &self.pixels[start..start + valid_width * channels];
            pixels.extend_from_slice(line);
            let last = &line[line.len() - channels..];
            for _ in valid_width..width as usize {
                pixels.extend_from_slice(last);
            }
        }
        Raster {
            width,
            height,
            channels: self.channels,
            pixels,
        }
    }

    /// Resamples to `width` x `height` with Lanczos3 (downscaling) or Catmull-Rom (upscaling).
    pub fn resize(&self, width: u32, height: u32) -> Result<Raster> {
        self.resize_area(
            0.0,
            0.0,
            f64::from(self.width),
            f64::from(self.height),
            width,
            height,
        )
    }

    /// Resamples the sub-pixel area (`left`, `top`, `width`, `height`) to `out_width` x
    /// `out_height`.
    pub fn resize_area(
        &self,
        left: f64,
        top: f64,
        width: f64,
        height: f64,
        out_width: u32,
        out_height: u32,
    ) -> Result<Raster> {
        let whole = left == 0.0
            && top == 0.0
            && width == f64::from(self.width)
            && height == f64::from(self.height);
        if whole && (out_width, out_height) == (self.width, self.height) {
            return Ok(self.clone());
        }
        let mut pixels = vec![0; out_width as usize * out_height as usize * self.channels.count()];
        self.resize_area_into(
            (left, top, width, height),
            (out_width, out_height),
            &mut pixels,
        )?;
        Raster::new(out_width, out_height, self.channels, pixels)
    }

    /// [`Raster::resize_area`] written into `out`, `out_width` x `out_height` pixels of these
    /// channels: a render's bands go straight into its output.
    pub fn resize_area_into(
        &self,
        (left, top, width, height): (f64, f64, f64, f64),
        (out_width, out_height): (u32, u32),
        out: &mut [u8],
    ) -> Result<()> {
        let pixel_type = self.channels.pixel_type();
        let source = ImageRef::new(self.width, self.height, &self.pixels, pixel_type)
            .map_err(|error| Error::new(ErrorKind::Internal, format!("resize source: {error}")))?;
        let mut target = Image::from_slice_u8(out_width, out_height, out, pixel_type)
            .map_err(|error| Error::new(ErrorKind::Internal, format!("resize target: {error}")))?;
        let upscaling = f64::from(out_width) > width || f64::from(out_height) > height;
        let filter = if upscaling {
            FilterType::CatmullRom
        } else {
            lanczos3()
        };
        let options = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(filter))
            .crop(left, top, width, height)
            .use_alpha(false);
        Resizer::new()
            .resize(&source, &mut target, &options)
            .map_err(|error| Error::new(ErrorKind::Internal, format!("resize: {error}")))
    }

    /// Halves both sides (rounding up) by averaging 2x2 blocks: the next pyramid level.
    pub fn halve(&self) -> Raster {
        use rayon::prelude::*;
        let channels = self.channels.count();
        let (width, height) = (self.width.div_ceil(2), self.height.div_ceil(2));
        let row_bytes = self.row_bytes();
        let out_row_bytes = width as usize * channels;
        let mut pixels = vec![0u8; out_row_bytes * height as usize];
        // each output row from two input rows (the last repeated when the height is odd); the
        // columns in pairs, the last repeated when the width is odd
        let pairs = self.width as usize / 2;
        pixels
            .par_chunks_mut(out_row_bytes)
            .enumerate()
            .with_min_len(16)
            .for_each(|(y, out)| {
                let top = &self.pixels[2 * y * row_bytes..(2 * y + 1) * row_bytes];
                let bottom_row = (2 * y + 1).min(self.height as usize - 1);
                let bottom = &self.pixels[bottom_row * row_bytes..(bottom_row + 1) * row_bytes];
                let (whole, rest) = out.split_at_mut(pairs * channels);
                for ((out, top), bottom) in whole
                    .chunks_exact_mut(channels)
                    .zip(top.chunks_exact(2 * channels))
                    .zip(bottom.chunks_exact(2 * channels))
                {
                    for c in 0..channels {
                        let sum = u16::from(top[c])
                            + u16::from(top[c + channels])
                            + u16::from(bottom[c])
                            + u16::from(bottom[c + channels]);
                        out[c] = ((sum + 2) / 4) as u8;
                    }
                }
                if !rest.is_empty() {
                    let last = row_bytes - channels;
                    for c in 0..channels {
                        let sum = 2 * u16::from(top[last + c]) + 2 * u16::from(bottom[last + c]);
                        rest[c] = ((sum + 2) / 4) as u8;
                    }
                }
            });
        Raster {
            width,
            height,
            channels: self.channels,
            pixels,
        }
    }

    /// Flips left to right.
    pub fn mirror(&self) -> Raster {
        let channels = self.channels.count();
        let mut pixels = Vec::with_capacity(self.pixels.len());
        for row in self.pixels.chunks_exact(self.row_bytes()) {
            for pixel in row.chunks_exact(channels).rev() {
                pixels.extend_from_slice(pixel);
            }
        }
        Raster {
            width: self.width,
            height: self.height,
            channels: self.channels,
            pixels,
        }
    }

    /// Rotates clockwise by 90, 180 or 270 degrees exactly.
    pub fn rotate_right_angle(&self, degrees: u32) -> Raster {
        let channels = self.channels.count();
        let (w, h) = (self.width as usize, self.height as usize);
        let (new_width, new_height) = if degrees.is_multiple_of(180) {
            (w, h)
        } else {
            (h, w)
        };
        let mut pixels = vec![0u8; self.pixels.len()];
        for y in 0..h {
            for x in 0..w {
                let (nx, ny) = match degrees % 360 {
                    90 => (h - 1 - y, x),
                    180 => (w - 1 - x, h - 1 - y),
                    270 => (y, w - 1 - x),
                    _ => (x, y),
                };
                let from = (y * w + x) * channels;
                let to = (ny * new_width + nx) * channels;
                pixels[to..to + channels].copy_from_slice(&self.pixels[from..from + channels]);
            }
        }
        Raster {
            width: new_width as u32,
            height: new_height as u32,
            channels: self.channels,
            pixels,
        }
    }

    /// Rotates clockwise by any angle into a `width` x `height` canvas, bilinear; the corners
    /// outside the image are transparent (RGBA output).
    pub fn rotate_arbitrary(&self, degrees: f64, width: u32, height: u32) -> Raster {
        let source = self.to_rgba();
        let radians = degrees.to_radians();
        let (sin, cos) = radians.sin_cos();
        let (source_cx, source_cy) = (f64::from(self.width) / 2.0, f64::from(self.height) / 2.0);
        let (target_cx, target_cy) = (f64::from(width) / 2.0, f64::from(height) / 2.0);
        let mut pixels = vec![0u8; width as usize * height as usize * 4];
        let (sw, sh) = (self.width as i64, self.height as i64);
        for ty in 0..height as usize {
            for tx in 0..width as usize {
                // map the target pixel centre back into the source (inverse rotation)
                let dx = tx as f64 + 0.5 - target_cx;
                let dy = ty as f64 + 0.5 - target_cy;
                let sx = dx * cos + dy * sin + source_cx - 0.5;
                let sy = -dx * sin + dy * cos + source_cy - 0.5;
                if sx < -0.5 || sy < -0.5 || sx > sw as f64 - 0.5 || sy > sh as f64 - 0.5 {
                    continue;
                }
                let (x0, y0) = (sx.floor() as i64, sy.floor() as i64);
                let (fx, fy) = (sx - x0 as f64, sy - y0 as f64);
                let sample = |x: i64, y: i64, channel: usize| {
                    let (x, y) = (x.clamp(0, sw - 1) as usize, y.clamp(0, sh - 1) as usize);
                    f64::from(source.pixels[(y * sw as usize + x) * 4 + channel])
                };
                let to = (ty * width as usize + tx) * 4;
                for channel in 0..4 {
                    let top =
                        sample(x0, y0, channel) * (1.0 - fx) + sample(x0 + 1, y0, channel) * fx;
                    let bottom = sample(x0, y0 + 1, channel) * (1.0 - fx)
                        + sample(x0 + 1, y0 + 1, channel) * fx;
                    pixels[to + channel] = (top * (1.0 - fy) + bottom * fy).round() as u8;
                }
            }
        }
        Raster {
            width,
            height,
            channels: Channels::Rgba,
            pixels,
        }
    }

    /// The same pixels with an opaque alpha channel.
    pub fn to_rgba(&self) -> Raster {
        let pixels = match self.channels {
            Channels::Rgba => return self.clone(),
            Channels::Rgb => self
                .pixels
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            Channels::Gray => self.pixels.iter().flat_map(|v| [*v, *v, *v, 255]).collect(),
        };
        Raster {
            width: self.width,
            height: self.height,
            channels: Channels::Rgba,
            pixels,
        }
    }

    /// RGB, with transparent areas laid on white.
    pub fn to_rgb(&self) -> Raster {
        let pixels = match self.channels {
            Channels::Rgb => return self.clone(),
            Channels::Gray => self.pixels.iter().flat_map(|v| [*v, *v, *v]).collect(),
            Channels::Rgba => self
                .pixels
                .chunks_exact(4)
                .flat_map(|p| {
                    let alpha = u32::from(p[3]);
                    let blend = |value: u8| {
                        ((u32::from(value) * alpha + 255 * (255 - alpha) + 127) / 255) as u8
                    };
                    [blend(p[0]), blend(p[1]), blend(p[2])]
                })
                .collect(),
        };
        Raster {
            width: self.width,
            height: self.height,
            channels: Channels::Rgb,
            pixels,
        }
    }

    /// Luma (ITU-R BT.601 weights), keeping alpha when there is one.
    pub fn to_gray(&self) -> Raster {
        let luma = |p: &[u8]| {
            ((299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]) + 500) / 1000)
                as u8
        };
        match self.channels {
            Channels::Gray => self.clone(),
            Channels::Rgb => Raster {
                width: self.width,
                height: self.height,
                channels: Channels::Gray,
                pixels: self.pixels.chunks_exact(3).map(luma).collect(),
            },
            Channels::Rgba => Raster {
                width: self.width,
                height: self.height,
                channels: Channels::Rgba,
                pixels: self
                    .pixels
                    .chunks_exact(4)
                    .flat_map(|p| {
                        let v = luma(p);
                        [v, v, v, p[3]]
                    })
                    .collect(),
            },
        }
    }

    /// Pure black and white: luma thresholded at the middle.
    pub fn to_bitonal(&self) -> Raster {
        let mut gray = self.to_gray();
        let step = gray.channels.count();
        for pixel in gray.pixels.chunks_exact_mut(step) {
            let value = if pixel[0] >= 128 { 255 } else { 0 };
            let colour_channels = if step == 4 { 3 } else { 1 };
            pixel[..colour_channels].fill(value);
        }
        gray
    }

    /// Whether every pixel is grey (R = G = B).
    #[cfg(test)]
    pub fn is_gray(&self) -> bool {
        match self.channels {
            Channels::Gray => true,
            Channels::Rgb => self
                .pixels
                .chunks_exact(3)
                .all(|p| p[0] == p[1] && p[1] == p[2]),
            Channels::Rgba => self
                .pixels
                .chunks_exact(4)
                .all(|p| p[0] == p[1] && p[1] == p[2]),
        }
    }
}

/// Lanczos3, the same function as fast_image_resize's own, for a third of the cost: its
/// coefficients are computed afresh for every resize (each band of a render), and two calls
/// of the system's `sin` for each were a twentieth of an arbitrary region's CPU
/// (`docs/benchmarks.md`). Here one sine gives both factors, by the triple-angle identity
/// sin(3a) = sin(a)(3 - 4 sin²(a)), and that sine is a polynomial good to 1e-11, far below
/// what the 16-bit fixed-point coefficients it becomes can hold.
fn lanczos3() -> FilterType {
    match Filter::new("Lanczos3", lanczos3_kernel, 3.0) {
        Ok(filter) => FilterType::Custom(filter),
        Err(_) => FilterType::Lanczos3,
    }
}

fn lanczos3_kernel(x: f64) -> f64 {
    use std::f64::consts::PI;
    if x == 0.0 {
        return 1.0;
    }
    if !(-3.0..3.0).contains(&x) {
        return 0.0;
    }
    // sinc(x) sinc(x / 3) = 3 sin(πx) sin(πx / 3) / (πx)², with a = πx / 3
    let sine = sin_within_pi(PI * x / 3.0);
    let squared = sine * sine;
    3.0 * squared * (3.0 - 4.0 * squared) / (PI * PI * x * x)
}

/// sin(a) for -π <= a <= π: folded onto [-π/2, π/2], then its Taylor series to a^15
/// (the first term left out is under 7e-12 there).
fn sin_within_pi(a: f64) -> f64 {
    use std::f64::consts::{FRAC_PI_2, PI};
    let a = if a > FRAC_PI_2 {
        PI - a
    } else if a < -FRAC_PI_2 {
        -PI - a
    } else {
        a
    };
    let a2 = a * a;
    // Horner's rule over 1 - a²/3! + a⁴/5! - ... - a¹⁴/15!
    let mut sum = -1.0 / 1_307_674_368_000.0;
    for factorial in [
        6_227_020_800.0,
        -39_916_800.0,
        362_880.0,
        -5_040.0,
        120.0,
        -6.0,
    ] {
        sum = sum * a2 + 1.0 / factorial;
    }
    a * (sum * a2 + 1.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_lanczos3_filter_is_the_textbook_one() {
        fn sinc(x: f64) -> f64 {
            let x = x * std::f64::consts::PI;
            if x == 0.0 { 1.0 } else { x.sin() / x }
        }
        let FilterType::Custom(filter) = lanczos3() else {
            panic!("not the custom filter");
        };
        assert_eq!(filter.support(), 3.0);
        let ours = lanczos3_kernel;
        for step in -3_500..=3_500 {
            let x = f64::from(step) / 1_000.0 + 1e-4;
            let textbook = if x.abs() < 3.0 {
                sinc(x) * sinc(x / 3.0)
            } else {
                0.0
            };
            assert!(
                (ours(x) - textbook).abs() < 1e-10,
                "at {x}: {} against {textbook}",
                ours(x)
            );
        }
        assert_eq!(ours(0.0), 1.0);
        for a in [-3.0, 3.0, 4.5] {
            assert_eq!(ours(a), 0.0);
        }
    }

    #[test]
    fn downscales_match_the_library_lanczos3_to_the_pixel() {
        let (width, height) = (301, 203);
        let pixels = (0..height)
            .flat_map(|y: u32| {
                (0..width).flat_map(move |x: u32| {
                    [
                        (x * 7 + y * 3) as u8,
                        ((x ^ y) * 5) as u8,
                        ((x * y) % 251) as u8,
                    ]
                })
            })
            .collect();
        let image = Raster::new(width, height, Channels::Rgb, pixels).unwrap();
        for (left, top, w, h, out_w, out_h) in [
            (0.0, 0.0, 301.0, 203.0, 150, 101),
            (10.5, 7.25, 200.0, 120.0, 130, 80),
            (3.0, 5.0, 250.0, 190.0, 97, 61),
        ] {
            let ours = image.resize_area(left, top, w, h, out_w, out_h).unwrap();
            let source = ImageRef::new(width, height, &image.pixels, PixelType::U8x3).unwrap();
            let mut library = Image::new(out_w, out_h, PixelType::U8x3);
            let options = ResizeOptions::new()
                .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
                .crop(left, top, w, h)
                .use_alpha(false);
            Resizer::new()
                .resize(&source, &mut library, &options)
                .unwrap();
            assert_eq!(
                ours.pixels,
                library.buffer(),
                "{left},{top} {w}x{h} to {out_w}x{out_h}"
            );
        }
    }

    #[test]
    fn halving_averages_each_square_of_four_repeating_the_last_row_and_column() {
        for (width, height, channels) in [
            (1, 1, Channels::Gray),
            (5, 3, Channels::Rgb),
            (8, 7, Channels::Rgba),
            (6, 4, Channels::Rgb),
        ] {
            let count = channels.count();
            let pixels: Vec<u8> = (0..width * height * count as u32)
                .map(|i| (i * 37 % 256) as u8)
                .collect();
            let raster = Raster::new(width, height, channels, pixels.clone()).unwrap();
            let half = raster.halve();
            assert_eq!(
                (half.width, half.height),
                (width.div_ceil(2), height.div_ceil(2))
            );
            let at = |x: u32, y: u32, c: usize| {
                let (x, y) = (x.min(width - 1), y.min(height - 1));
                u32::from(pixels[(y * width + x) as usize * count + c])
            };
            for y in 0..half.height {
                for x in 0..half.width {
                    for c in 0..count {
                        let sum = at(2 * x, 2 * y, c)
                            + at(2 * x + 1, 2 * y, c)
                            + at(2 * x, 2 * y + 1, c)
                            + at(2 * x + 1, 2 * y + 1, c);
                        assert_eq!(
                            u32::from(half.pixels[(y * half.width + x) as usize * count + c]),
                            (sum + 2) / 4,
                            "{width}x{height} at {x},{y}"
                        );
                    }
                }
            }
        }
    }

    use super::*;

    fn numbered(width: u32, height: u32) -> Raster {
        let pixels = (0..width * height)
            .flat_map(|i| [i as u8, (i * 2) as u8, (i * 3) as u8])
            .collect();
        Raster::new(width, height, Channels::Rgb, pixels).unwrap()
    }

    #[test]
    fn crop_and_paste_round_trip() {
        let image = numbered(5, 4);
        let piece = image.crop(1, 1, 3, 2);
        let mut canvas = Raster::filled(5, 4, Channels::Rgb, 0);
        canvas.paste(&piece, 1, 1);
        assert_eq!(canvas.crop(1, 1, 3, 2), piece);
        // pasting past the edge clips
        canvas.paste(&piece, 4, 3);
        assert_eq!(&canvas.crop(4, 3, 1, 1).pixels, &piece.pixels[..3]);
    }

    #[test]
    fn padded_crop_repeats_the_edge() {
        let image = numbered(3, 2);
        let padded = image.crop_padded(2, 1, 3, 3);
        assert_eq!((padded.width, padded.height), (3, 3));
        let corner = &image.crop(2, 1, 1, 1).pixels;
        assert!(padded.pixels.chunks_exact(3).all(|p| p == &corner[..]));
    }

    #[test]
    fn halving_rounds_up_and_averages() {
        let image = Raster::new(3, 1, Channels::Gray, vec![10, 30, 200]).unwrap();
        let half = image.halve();
        assert_eq!((half.width, half.height), (2, 1));
        assert_eq!(half.pixels, vec![20, 200]);
    }

    #[test]
    fn right_angle_rotations_move_corners() {
        let image = Raster::new(2, 1, Channels::Gray, vec![1, 2]).unwrap();
        assert_eq!(image.rotate_right_angle(90).pixels, vec![1, 2]);
        assert_eq!(
            (
                image.rotate_right_angle(90).width,
                image.rotate_right_angle(90).height
            ),
            (1, 2)
        );
        assert_eq!(image.rotate_right_angle(180).pixels, vec![2, 1]);
        assert_eq!(image.rotate_right_angle(270).pixels, vec![2, 1]);
        assert_eq!(image.mirror().pixels, vec![2, 1]);
    }

    #[test]
    fn arbitrary_rotation_leaves_transparent_corners() {
        let image = Raster::filled(10, 10, Channels::Rgb, 200);
        let rotated = image.rotate_arbitrary(45.0, 14, 14);
        assert_eq!(rotated.channels, Channels::Rgba);
        assert_eq!(rotated.pixels[3], 0, "top-left corner is transparent");
        let centre = ((7 * 14 + 7) * 4) as usize;
        assert_eq!(&rotated.pixels[centre..centre + 4], &[200, 200, 200, 255]);
    }

    #[test]
    fn qualities() {
        let image = Raster::new(2, 1, Channels::Rgb, vec![255, 0, 0, 250, 250, 250]).unwrap();
        assert_eq!(image.to_gray().pixels, vec![76, 250]);
        assert_eq!(image.to_bitonal().pixels, vec![0, 255]);
        assert!(!image.is_gray());
        assert!(image.to_gray().is_gray());
        let transparent = Raster::new(1, 1, Channels::Rgba, vec![0, 0, 0, 0]).unwrap();
        assert_eq!(transparent.to_rgb().pixels, vec![255, 255, 255]);
    }

    #[test]
    fn resizes() {
        let image = Raster::filled(100, 50, Channels::Rgb, 128);
        let small = image.resize(10, 5).unwrap();
        assert_eq!((small.width, small.height), (10, 5));
        assert!(small.pixels.iter().all(|v| (127..=129).contains(v)));
        assert_eq!(image.resize(200, 100).unwrap().width, 200);
    }
}
