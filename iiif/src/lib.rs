//! iiif
