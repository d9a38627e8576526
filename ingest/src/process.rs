//! Processing one asset from its master to READY (or ERROR with the reason).

use std::sync::Arc;

use bytes::Bytes;
use domain::{Asset, AssetFamily, Domain, ImageFacts};
use imaging::{PyramidOptions, build_pyramid, decode_master};
use storage::{BlobStore, keys};
use tokio::sync::Semaphore;

use crate::error::{Error, ErrorKind, Result};
use crate::fetch::{Fetcher, OriginPolicy};

/// How derivatives are made.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Pyramid tile size in pixels.
    pub tile_size: u32,
    /// JPEG quality of tiles and thumbnails.
    pub jpeg_quality: u8,
    /// Largest master, in pixels, decoded at all.
    pub max_pixels: u64,
    /// How many masters are decoded and tiled at once (each uses every core while tiling).
    pub concurrent_builds: usize,
    pub origins: OriginPolicy,
}

/// Where the master comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Fetch the asset's origin.
    Origin,
    /// Bytes uploaded with the registration.
    Upload(Bytes),
}

/// Processes assets: the same code for a registration that waits, an upload, and the queue.
#[derive(Debug, Clone)]
pub struct Ingestor {
    domain: Domain,
    storage: BlobStore,
    options: Arc<IngestOptions>,
    fetcher: Fetcher,
    builds: Arc<Semaphore>,
}

impl Ingestor {
    pub fn new(domain: Domain, storage: BlobStore, options: IngestOptions) -> Result<Self> {
        let fetcher = Fetcher::new(options.origins.clone())?;
        let builds = Arc::new(Semaphore::new(options.concurrent_builds.max(1)));
        Ok(Self {
            domain,
            storage,
            options: Arc::new(options),
            fetcher,
            builds,
        })
    }

    /// Processes an asset and records the outcome on it: READY with its derivatives, or ERROR
    /// with the reason. Only database failures are returned as errors.
    pub async fn process(&self, asset: &Asset, source: Source) -> domain::Result<Asset> {
        let asset = self.domain.mark_ingesting(asset).await?;
        match self.build(&asset, source).await {
            Ok(facts) => self.domain.complete_image(&asset, facts).await,
            Err(error) => {
                tracing::warn!(customer = %asset.customer, space = asset.space, asset = %asset.id, code = error.code(), %error, "processing failed");
                self.domain
                    .fail_processing(&asset, &format!("{}: {error}", error.code()))
                    .await
            }
        }
    }

    async fn build(&self, asset: &Asset, source: Source) -> Result<ImageFacts> {
        if asset.family != AssetFamily::Image {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{} assets are not processed by this server yet",
                    asset.family.as_str()
                ),
            ));
        }
        let master = match source {
            Source::Upload(bytes) => {
                self.storage
                    .put(
                        &keys::master(asset.customer_id, asset.space, &asset.id),
                        bytes.clone(),
                    )
                    .await?;
                bytes
            }
            Source::Origin => {
                let origin = asset.origin.as_deref().ok_or_else(|| {
                    Error::new(ErrorKind::OriginRefused, "the asset has no origin")
                })?;
                self.fetcher.fetch(origin).await?
            }
        };
        let thumbnail_sizes = self
            .domain
            .space_thumbnail_sizes(asset.customer_id, asset.space)
            .await
            .map_err(|error| Error::new(ErrorKind::Internal, error.to_string()))?;
        let options = PyramidOptions {
            tile_size: self.options.tile_size,
            jpeg_quality: self.options.jpeg_quality,
            thumbnail_sizes: thumbnail_sizes.iter().map(|size| *size as u32).collect(),
        };
        let max_pixels = self.options.max_pixels;
        let permit = self
            .builds
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::new(ErrorKind::Internal, "shutting down"))?;
        let built = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let raster = decode_master(&master, max_pixels)?;
            drop(master);
            build_pyramid(raster, &options)
        })
        .await
        .map_err(|error| {
            Error::new(ErrorKind::Internal, format!("build task failed: {error}"))
        })??;

        let prefix = keys::asset_prefix(asset.customer_id, asset.space, &asset.id);
        let master_key = keys::master(asset.customer_id, asset.space, &asset.id);
        for old in self.storage.list(&prefix).await? {
            if old != master_key {
                self.storage.delete(&old).await?;
            }
        }
        let (width, height) = (built.layout.width, built.layout.height);
        let levels = built.layout.levels.len();
        let longest_edges = built
            .thumbnails
            .iter()
            .map(|t| t.width.max(t.height) as i32)
            .collect();
        let mut bytes_stored = built.tiff.len() as i64;
        for thumbnail in built.thumbnails {
            bytes_stored += thumbnail.jpeg.len() as i64;
            let key = keys::thumbnail(
                asset.customer_id,
                asset.space,
                &asset.id,
                thumbnail.width,
                thumbnail.height,
            );
            self.storage.put(&key, Bytes::from(thumbnail.jpeg)).await?;
        }
        let pyramid_key = keys::pyramid(asset.customer_id, asset.space, &asset.id);
        self.storage
            .put(&pyramid_key, Bytes::from(built.tiff))
            .await?;
        Ok(ImageFacts {
            width: width as i32,
            height: height as i32,
            pyramid_levels: levels as i32,
            tile_size: self.options.tile_size as i32,
            thumbnail_sizes: longest_edges,
            bytes_stored,
        })
    }
}
