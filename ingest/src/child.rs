//! Large masters' pyramids built in a process of their own (`vitrine build-pyramid`): what a
//! build of many megapixels allocates goes back to the system when that process ends, instead
//! of staying with the server's allocator for as long as the server runs, and a master that
//! kills its decoder takes only that process down.
//!
//! The parent writes the master to a temporary folder (a master it holds in a file is copied
//! by the kernel) and the request as JSON on the child's standard input; the child writes the
//! pyramid and thumbnails to that folder and its outcome as JSON on its standard output.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use imaging::{DecodeLimits, Master, PyramidOptions, Thumbnail, build_pyramid_file};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::fetch::Fetched;
use crate::process::Isolation;

/// A built pyramid, wherever it was built: the TIFF in a temporary file, and its facts.
#[derive(Debug)]
pub(crate) struct Built {
    pub file: std::fs::File,
    pub width: u32,
    pub height: u32,
    pub levels: usize,
    pub bytes: u64,
    pub thumbnails: Vec<Thumbnail>,
}

/// What the parent asks of the child.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    folder: PathBuf,
    tile_size: u32,
    jpeg_quality: u8,
    thumbnail_sizes: Vec<u32>,
    max_pixels: u64,
    memory_budget: u64,
}

/// What the child answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum Outcome {
    Built {
        width: u32,
        height: u32,
        levels: usize,
        bytes: u64,
        thumbnails: Vec<(u32, u32)>,
    },
    Failed {
        code: String,
        message: String,
    },
}

const MASTER: &str = "master";
const PYRAMID: &str = "pyramid.tif";

fn thumbnail_file(folder: &Path, width: u32, height: u32) -> PathBuf {
    folder.join(format!("thumbnail-{width}x{height}.jpg"))
}

fn temporary(error: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Internal,
        format!("the build's temporary files: {error}"),
    )
}

/// Builds a pyramid in memory of this process (on the calling thread; rayon encodes tiles on
/// every core) into a temporary file.
pub(crate) fn build_here(
    master: Master<'_>,
    limits: &DecodeLimits,
    options: &PyramidOptions,
    file: std::fs::File,
) -> Result<Built> {
    let (writer, built) = build_pyramid_file(
        master,
        limits,
        options,
        std::io::BufWriter::with_capacity(1 << 20, file),
    )?;
    let file = writer
        .into_inner()
        .map_err(|error| temporary(error.into_error()))?;
    Ok(Built {
        file,
        width: built.layout.width,
        height: built.layout.height,
        levels: built.layout.levels.len(),
        bytes: built.bytes,
        thumbnails: built.thumbnails,
    })
}

/// The arenas the build process's glibc allocator may use. Its decoding threads free
/// buffers of tens of megabytes (a row of JPEG 2000 areas, bands), and with an arena each
/// they kept a tiled gigapixel master's build at 456-506 MB instead of about 400 MB, for no
/// gain in speed (`docs/benchmarks.md`). glibc reads this as the process starts.
const BUILD_MALLOC_ARENAS: &str = "1";

impl Isolation {
    /// Builds a pyramid in a child process (`build-pyramid`) and waits for it. A child that
    /// dies (an out-of-memory kill, a crash in a decoder) fails the build, not the server.
    pub(crate) async fn build_pyramid(
        &self,
        master: Fetched,
        limits: &DecodeLimits,
        options: &PyramidOptions,
    ) -> Result<Built> {
        let folder = tempfile::tempdir().map_err(temporary)?;
        let path = folder.path().to_owned();
        let written = tokio::task::spawn_blocking(move || master.write_to(&path.join(MASTER)))
            .await
            .map_err(|error| {
                Error::new(ErrorKind::Internal, format!("write task failed: {error}"))
            })?;
        written.map_err(temporary)?;
        let request = serde_json::to_vec(&Request {
            folder: folder.path().to_owned(),
            tile_size: options.tile_size,
            jpeg_quality: options.jpeg_quality,
            thumbnail_sizes: options.thumbnail_sizes.clone(),
            max_pixels: limits.max_pixels,
            memory_budget: limits.memory_budget,
        })
        .map_err(|error| Error::new(ErrorKind::Internal, error.to_string()))?;
        let mut child = self
            .command("build-pyramid")
            .env("MALLOC_ARENA_MAX", BUILD_MALLOC_ARENAS)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|error| {
                Error::new(
                    ErrorKind::Internal,
                    format!("cannot start the build's process: {error}"),
                )
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            use tokio::io::AsyncWriteExt;
            stdin.write_all(&request).await.map_err(temporary)?;
        }
        let output = child.wait_with_output().await.map_err(temporary)?;
        let outcome = serde_json::from_slice::<Outcome>(&output.stdout).map_err(|_| {
            Error::new(
                ErrorKind::Internal,
                format!(
                    "the build's own process ended without an answer ({})",
                    output.status
                ),
            )
        })?;
        match outcome {
            Outcome::Failed { code, message } => Err(Error::new(
                ErrorKind::from_code(&code).unwrap_or(ErrorKind::Internal),
                message,
            )),
            Outcome::Built {
                width,
                height,
                levels,
                bytes,
                thumbnails,
            } => {
                let folder_path = folder.path().to_owned();
                tokio::task::spawn_blocking(move || {
                    let thumbnails = thumbnails
                        .into_iter()
                        .map(|(width, height)| {
                            let jpeg = std::fs::read(thumbnail_file(&folder_path, width, height))?;
                            Ok(Thumbnail {
                                width,
                                height,
                                jpeg,
                            })
                        })
                        .collect::<std::io::Result<Vec<_>>>()?;
                    // the file stays readable once the folder is gone
                    let file = std::fs::File::open(folder_path.join(PYRAMID))?;
                    drop(folder);
                    Ok(Built {
                        file,
                        width,
                        height,
                        levels,
                        bytes,
                        thumbnails,
                    })
                })
                .await
                .map_err(|error| {
                    Error::new(ErrorKind::Internal, format!("read task failed: {error}"))
                })?
                .map_err(temporary)
            }
        }
    }
}

/// The child's side (`vitrine build-pyramid`): reads the request from standard input, builds,
/// and writes the outcome to standard output. A failed build is an answer too; only a
/// request that cannot be read or answered makes the process fail.
pub fn build_pyramid_command() -> std::io::Result<()> {
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input)?;
    let request: Request = serde_json::from_slice(&input).map_err(std::io::Error::other)?;
    let outcome = match build_in_folder(&request) {
        Ok(outcome) => outcome,
        Err(error) => Outcome::Failed {
            code: error.code().to_owned(),
            message: error.message,
        },
    };
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer(&mut stdout, &outcome).map_err(std::io::Error::other)?;
    stdout.flush()
}

fn build_in_folder(request: &Request) -> Result<Outcome> {
    // a PNG or TIFF is read from the file as it is decoded, not held whole
    let master = std::fs::File::open(request.folder.join(MASTER)).map_err(temporary)?;
    let file = std::fs::File::create(request.folder.join(PYRAMID)).map_err(temporary)?;
    let limits = DecodeLimits {
        max_pixels: request.max_pixels,
        memory_budget: request.memory_budget,
    };
    let options = PyramidOptions {
        tile_size: request.tile_size,
        jpeg_quality: request.jpeg_quality,
        thumbnail_sizes: request.thumbnail_sizes.clone(),
    };
    let built = build_here(Master::File(&master), &limits, &options, file)?;
    drop(master);
    let mut thumbnails = Vec::new();
    for thumbnail in &built.thumbnails {
        std::fs::write(
            thumbnail_file(&request.folder, thumbnail.width, thumbnail.height),
            &thumbnail.jpeg,
        )
        .map_err(temporary)?;
        thumbnails.push((thumbnail.width, thumbnail.height));
    }
    Ok(Outcome::Built {
        width: built.width,
        height: built.height,
        levels: built.levels,
        bytes: built.bytes,
        thumbnails,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(folder: &Path) -> Request {
        Request {
            folder: folder.to_owned(),
            tile_size: 256,
            jpeg_quality: 80,
            thumbnail_sizes: vec![100],
            max_pixels: 100_000_000,
            memory_budget: 512 * 1024 * 1024,
        }
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 256) as u8])
        });
        let mut bytes = Vec::new();
        image::DynamicImage::ImageRgb8(image)
            .write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .unwrap();
        bytes
    }

    /// The child reads its master from the folder's file (a PNG as it is decoded) and leaves
    /// the pyramid and thumbnails beside it; a master cut short is a failed build, not a
    /// failed process.
    #[test]
    fn the_child_builds_from_the_master_file_in_its_folder() {
        let folder = tempfile::tempdir().unwrap();
        let master = png(600, 400);
        std::fs::write(folder.path().join(MASTER), &master).unwrap();
        let Outcome::Built {
            width,
            height,
            levels,
            bytes,
            thumbnails,
        } = build_in_folder(&request(folder.path())).unwrap()
        else {
            panic!("not built");
        };
        assert_eq!((width, height, levels), (600, 400, 3));
        assert_eq!(
            std::fs::metadata(folder.path().join(PYRAMID))
                .unwrap()
                .len(),
            bytes
        );
        assert_eq!(thumbnails, vec![(100, 67)]);
        assert!(thumbnail_file(folder.path(), 100, 67).exists());

        std::fs::write(folder.path().join(MASTER), &master[..master.len() / 2]).unwrap();
        let error = build_in_folder(&request(folder.path())).unwrap_err();
        assert_eq!(error.code(), "truncated-image", "{}", error.message);
    }
}
