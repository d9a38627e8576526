//! Getting the bytes of an image response: asset lookup, the pyramid layout, stored tiles and
//! thumbnails, and rendering on a bounded blocking pool, with in-memory caches for each.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use domain::{Asset, AssetFamily, AssetStatus};
use iiif::image::{Format, Limits, Quality, ResolvedRequest};
use imaging::{PyramidLayout, Raster, TileRequest};
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use storage::{BlobStore, keys};

use super::pools::{RenderLimits, RenderPools, timed_out};
use crate::error::RestError;

/// How long an asset record is reused before it is read again (changes show after this).
const ASSET_TTL: Duration = Duration::from_secs(2);

/// The disk cache the settings ask for; a folder that cannot be made leaves it off, said in
/// the log.
fn open_disk_cache(
    (dir, bytes): &(std::path::PathBuf, u64),
) -> Option<super::disk_cache::TileDiskCache> {
    if *bytes == 0 {
        return None;
    }
    match super::disk_cache::TileDiskCache::open(dir.clone(), *bytes) {
        Ok(cache) => Some(cache),
        Err(error) => {
            tracing::error!(%error, dir = %dir.display(), "cannot use the tile disk cache; running without it");
            None
        }
    }
}

/// A decoded 256-px RGB tile's bytes: sizes the decoded-tile cache's table.
const DECODED_TILE_ESTIMATE: u64 = 256 * 256 * 3;

impl From<imaging::Error> for RestError {
    fn from(error: imaging::Error) -> Self {
        if error.kind == imaging::ErrorKind::TimedOut {
            tracing::warn!("render stopped at its deadline");
            return timed_out();
        }
        tracing::error!(%error, "render failed");
        Self::internal(format!("cannot render this image: {error}"))
    }
}

#[derive(Clone)]
struct BytesWeight;

impl Weighter<String, Bytes> for BytesWeight {
    fn weight(&self, key: &String, value: &Bytes) -> u64 {
        (key.len() + value.len()) as u64
    }
}

type AssetAddress = (String, i32, String);

/// A decoded tile: its pyramid's derivative key, level and index.
type TileKey = (Arc<str>, usize, usize);

#[derive(Clone)]
struct RasterWeight;

impl Weighter<TileKey, Arc<Raster>> for RasterWeight {
    fn weight(&self, key: &TileKey, value: &Arc<Raster>) -> u64 {
        (key.0.len() + value.pixels.len()) as u64
    }
}

/// Image delivery for every request: shared, cheap to clone behind an `Arc`.
pub struct ImageDelivery {
    domain: domain::Domain,
    storage: BlobStore,
    pub limits: Limits,
    jpeg_quality: u8,
    assets: Cache<AssetAddress, (Instant, Arc<Asset>)>,
    layouts: Cache<String, Arc<PyramidLayout>>,
    rendered: Cache<String, Bytes, BytesWeight>,
    /// Decoded tiles, for the next render under the same part of the image (none when the
    /// setting is 0).
    decoded: Option<Cache<TileKey, Arc<Raster>, RasterWeight>>,
    /// Stored tiles on this node's disk, in front of a remote store (none when off).
    disk: Option<super::disk_cache::TileDiskCache>,
    renders: RenderPools,
}

impl std::fmt::Debug for ImageDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageDelivery")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// What the delivery needs from configuration.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    pub limits: Limits,
    pub jpeg_quality: u8,
    pub render_cache_bytes: u64,
    pub decoded_tile_cache_bytes: u64,
    pub render_threads: usize,
    /// Heavy renders' own pool, the wait queue and the deadline of each render.
    pub heavy_render_threads: usize,
    pub heavy_render_pixels: u64,
    pub render_queue_length: usize,
    pub render_timeout: Duration,
    /// A folder for a bounded cache of stored tiles, and its size in bytes (0: none).
    pub tile_disk_cache: (std::path::PathBuf, u64),
}

impl ImageDelivery {
    pub fn new(domain: domain::Domain, storage: BlobStore, settings: DeliverySettings) -> Self {
        Self {
            domain,
            storage,
            limits: settings.limits,
            jpeg_quality: settings.jpeg_quality,
            assets: Cache::new(10_000),
            layouts: Cache::new(10_000),
            rendered: Cache::with_weighter(10_000, settings.render_cache_bytes, BytesWeight),
            decoded: (settings.decoded_tile_cache_bytes > 0).then(|| {
                let tiles = settings.decoded_tile_cache_bytes / DECODED_TILE_ESTIMATE + 1;
                Cache::with_weighter(
                    tiles as usize,
                    settings.decoded_tile_cache_bytes,
                    RasterWeight,
                )
            }),
            disk: open_disk_cache(&settings.tile_disk_cache),
            renders: RenderPools::new(RenderLimits {
                threads: settings.render_threads,
                heavy_threads: settings.heavy_render_threads,
                heavy_pixels: settings.heavy_render_pixels,
                queue_length: settings.render_queue_length,
                timeout: settings.render_timeout,
            }),
        }
    }

    /// A READY image asset, or the 404 that says why not.
    pub async fn image_asset(
        &self,
        customer: &str,
        space: i32,
        id: &str,
    ) -> Result<Arc<Asset>, RestError> {
        let address = (customer.to_owned(), space, id.to_owned());
        let asset = match self.assets.get(&address) {
            Some((read, asset)) if read.elapsed() < ASSET_TTL => asset,
            _ => {
                let asset = self
                    .domain
                    .visible_asset(customer, space, id)
                    .await
                    .map(Arc::new)
                    .map_err(RestError::unavailable)?;
                self.assets.insert(address, (Instant::now(), asset.clone()));
                asset
            }
        };
        let not_found = |message: String| Err(RestError::new("not-found", message));
        if asset.family != AssetFamily::Image {
            return not_found(format!("{customer}/{space}/{id} is not an image"));
        }
        match asset.status {
            AssetStatus::Ready => Ok(asset),
            AssetStatus::Waiting | AssetStatus::Ingesting => not_found(format!(
                "{customer}/{space}/{id} is still being processed; try again shortly"
            )),
            AssetStatus::Error => not_found(format!(
                "{customer}/{space}/{id} could not be processed: {}",
                asset.error.as_deref().unwrap_or("unknown error")
            )),
        }
    }

    /// The version stamp of an asset's derivatives: changes whenever they are rebuilt.
    pub fn stamp(asset: &Asset) -> String {
        asset
            .finished
            .map(|finished| finished.timestamp_micros().to_string())
            .unwrap_or_default()
    }

    fn derivative_key(asset: &Asset) -> String {
        format!(
            "{}/{}",
            keys::asset_prefix(asset.customer_id, asset.space, &asset.id),
            Self::stamp(asset)
        )
    }

    /// Bytes `range` of a stored pyramid: from this node's disk cache when it has them.
    async fn read_tile(
        &self,
        pyramid: &Pyramid,
        range: std::ops::Range<u64>,
    ) -> Result<Bytes, storage::Error> {
        self.read_tiles(pyramid, vec![range])
            .await?
            .pop()
            .ok_or_else(|| storage::Error {
                kind: storage::ErrorKind::Backend,
                message: "a range was not read".to_owned(),
            })
    }

    /// Bytes `ranges` of a stored pyramid, in order: those this node's disk cache has from
    /// there, the rest read together (one open file, or one request per run of touching
    /// tiles).
    async fn read_tiles(
        &self,
        pyramid: &Pyramid,
        ranges: Vec<std::ops::Range<u64>>,
    ) -> Result<Vec<Bytes>, storage::Error> {
        let key = pyramid.key.as_str();
        let Some(disk) = &self.disk else {
            return pyramid.read(&self.storage, &ranges).await;
        };
        let mut found = Vec::with_capacity(ranges.len());
        for range in &ranges {
            found.push(disk.get(key, range).await);
        }
        let missing: Vec<std::ops::Range<u64>> = ranges
            .iter()
            .zip(&found)
            .filter(|(_, found)| found.is_none())
            .map(|(range, _)| range.clone())
            .collect();
        let mut read = pyramid.read(&self.storage, &missing).await?.into_iter();
        let mut tiles = Vec::with_capacity(ranges.len());
        for (range, found) in ranges.iter().zip(found) {
            let bytes = match found {
                Some(bytes) => bytes,
                None => {
                    let bytes = read.next().ok_or_else(|| storage::Error {
                        kind: storage::ErrorKind::Backend,
                        message: "fewer ranges read than asked".to_owned(),
                    })?;
                    disk.put(key, range, &bytes).await;
                    bytes
                }
            };
            tiles.push(bytes);
        }
        Ok(tiles)
    }

    /// Where the pyramid the asset's record names is stored.
    fn pyramid_key(asset: &Asset) -> String {
        keys::pyramid(
            asset.customer_id,
            asset.space,
            &asset.id,
            asset.derivatives.as_deref(),
        )
    }

    fn pyramid(asset: &Asset) -> Pyramid {
        Pyramid {
            key: Self::pyramid_key(asset),
            sealed: asset.derivatives.is_some(),
        }
    }

    /// The pyramid layout, read from the TIFF's header and IFDs once and then remembered.
    pub async fn layout(&self, asset: &Asset) -> Result<Arc<PyramidLayout>, RestError> {
        let cache_key = Self::derivative_key(asset);
        if let Some(layout) = self.layouts.get(&cache_key) {
            return Ok(layout);
        }
        let key = Self::pyramid_key(asset);
        let header = self.storage.get_range(&key, 0..8).await?;
        let first_ifd = PyramidLayout::first_ifd_offset(&header)?;
        let size = self.storage.size(&key).await?;
        if first_ifd >= size {
            return Err(RestError::internal(
                "the pyramid file is truncated; re-ingest it",
            ));
        }
        let tail = self.storage.get_range(&key, first_ifd..size).await?;
        let layout = Arc::new(PyramidLayout::parse(&tail, first_ifd)?);
        self.layouts.insert(cache_key, layout.clone());
        Ok(layout)
    }

    /// The bytes answering a resolved request: a stored thumbnail or tile as it is, or a
    /// rendering (cached by the canonical request).
    pub async fn image(
        &self,
        asset: &Asset,
        request: &ResolvedRequest,
    ) -> Result<Bytes, RestError> {
        if let Some((width, height)) = self.stored_thumbnail(asset, request) {
            return Ok(self
                .storage
                .get(&keys::thumbnail(
                    asset.customer_id,
                    asset.space,
                    &asset.id,
                    asset.derivatives.as_deref(),
                    (width, height),
                ))
                .await?);
        }
        let layout = self.layout(asset).await?;
        let pyramid = Self::pyramid(asset);
        if let Some(tile) = imaging::exact_tile(&layout, request) {
            let range = layout.levels[tile.level].tile_range(tile.index);
            return Ok(self.read_tile(&pyramid, range).await?);
        }
        let derivative: Arc<str> = Self::derivative_key(asset).into();
        let cache_key = format!("{derivative}/{request}");
        if let Some(bytes) = self.rendered.get(&cache_key) {
            return Ok(bytes);
        }
        // the deadline covers reading the tiles, the wait for a slot and the render
        let deadline = self.renders.deadline();
        let heavy = self.renders.is_heavy(request);
        let plan = imaging::plan(&layout, request);
        let tile_key = |tile: &TileRequest| (derivative.clone(), tile.level, tile.index);
        let kept: Vec<Option<Arc<Raster>>> = plan
            .tiles
            .iter()
            .map(|tile| self.decoded.as_ref()?.get(&tile_key(tile)))
            .collect();
        let ranges = plan
            .tiles
            .iter()
            .zip(&kept)
            .filter(|(_, kept)| kept.is_none())
            .map(|(tile, _)| layout.levels[tile.level].tile_range(tile.index))
            .collect();
        let fetched: Vec<Bytes> =
            tokio::time::timeout_at(deadline.into(), self.read_tiles(&pyramid, ranges))
                .await
                .map_err(|_| timed_out())??;
        let permit = self.renders.slot(heavy, deadline).await?;
        let (request, quality) = (*request, self.jpeg_quality);
        let rendering = self.renders.run(move || {
            // held until the render ends or stops at its deadline, whoever still waits for it
            let _permit = permit;
            let mut fetched = fetched.iter();
            let mut decoded = Vec::new();
            let mut tiles = Vec::with_capacity(kept.len());
            for (tile, kept) in plan.tiles.iter().zip(kept) {
                let raster = match kept {
                    Some(raster) => raster,
                    None => {
                        let bytes = fetched.next().ok_or_else(|| {
                            imaging::Error::new(
                                imaging::ErrorKind::Internal,
                                "fewer tiles read than the plan needs",
                            )
                        })?;
                        imaging::check_deadline(Some(deadline))?;
                        let raster = Arc::new(imaging::decode_tile(&layout, bytes)?);
                        decoded.push((*tile, raster.clone()));
                        raster
                    }
                };
                tiles.push(raster);
            }
            let bytes = imaging::render_decoded_within(
                &layout,
                &plan,
                &tiles,
                &request,
                quality,
                Some(deadline),
            )?;
            Ok::<_, imaging::Error>((bytes, decoded))
        });
        let (bytes, decoded) = tokio::time::timeout_at(deadline.into(), rendering)
            .await
            .map_err(|_| timed_out())???;
        if let Some(cache) = &self.decoded {
            for (tile, raster) in decoded {
                cache.insert(tile_key(&tile), raster);
            }
        }
        let bytes = Bytes::from(bytes);
        self.rendered.insert(cache_key, bytes.clone());
        Ok(bytes)
    }

    /// The stored thumbnail that is exactly this request, if any.
    fn stored_thumbnail(&self, asset: &Asset, request: &ResolvedRequest) -> Option<(u32, u32)> {
        let plain = request.is_full_region()
            && request.rotation == iiif::image::Rotation::NONE
            && matches!(request.quality, Quality::Default | Quality::Color)
            && request.format == Format::Jpg;
        if !plain {
            return None;
        }
        asset
            .thumbnail_dimensions()
            .into_iter()
            .find(|size| *size == (request.width, request.height))
    }
}

/// A stored pyramid: its key, and whether it is sealed (a processing version's, never
/// rewritten under that key, so a folder store may keep it open between reads).
struct Pyramid {
    key: String,
    sealed: bool,
}

impl Pyramid {
    async fn read(
        &self,
        storage: &storage::BlobStore,
        ranges: &[std::ops::Range<u64>],
    ) -> Result<Vec<Bytes>, storage::Error> {
        if self.sealed {
            storage.get_sealed_ranges(&self.key, ranges).await
        } else {
            storage.get_ranges(&self.key, ranges).await
        }
    }
}
