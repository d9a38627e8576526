//! CPU work on images: decode masters, build the tiled pyramid (a standard tiled TIFF whose
//! tiles are complete JPEG streams), read its layout back, and render an IIIF image request
//! from its tiles. Synchronous code: callers run it on a bounded blocking pool.
//!
//! This crate must not read configuration, storage or the database: options travel in the
//! arguments, and tile bytes are handed in by the caller.

mod codec;
mod decode;
mod error;
mod layout;
mod master;
mod pyramid;
mod raster;
mod render;
mod stream;
mod tiff_writer;

pub use codec::{encode, encode_jpeg};
pub use decode::{DecodeLimits, decode_master, memory_needed, probe};
pub use error::{Error, ErrorKind, Result};
pub use layout::{LevelLayout, PyramidLayout};
pub use master::Master;
pub use pyramid::{
    BuiltPyramid, PyramidFile, PyramidOptions, Thumbnail, WHOLE_IMAGE_MAX_PIXELS, build_pyramid,
    build_pyramid_file,
};
pub use raster::{Channels, Raster};
pub use render::{
    RenderPlan, TileRequest, check_deadline, decode_tile, exact_tile, plan, render, render_decoded,
    render_decoded_within,
};
