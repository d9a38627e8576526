//! A fetched master: small ones in memory, large ones in a file (a `file://` origin's own file,
//! or an http(s) answer written to a temporary file as it arrives), so that a master of
//! hundreds of megabytes is never held whole by the server.

use std::io::{Read, Seek, SeekFrom};

use bytes::Bytes;

use crate::error::{Error, ErrorKind, Result};

/// Masters larger than this are kept in a file rather than in memory.
pub const SPOOL_BYTES: u64 = 32 * 1024 * 1024;

/// How many of a master's first bytes its format is told from.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// A master's bytes, in memory or in a file.
#[derive(Debug)]
pub enum Fetched {
    Bytes(Bytes),
    File { file: std::fs::File, len: u64 },
}

fn unreadable(error: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Internal,
        format!("cannot read the fetched master's file: {error}"),
    )
}

impl Fetched {
    /// The master's length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Fetched::Bytes(bytes) => bytes.len() as u64,
            Fetched::File { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes a format is told from: all of a master in memory, the first
    /// [`SNIFF_BYTES`] of a file.
    pub fn head(&self) -> Result<Bytes> {
        match self {
            Fetched::Bytes(bytes) => Ok(bytes.clone()),
            Fetched::File { file, .. } => {
                let mut head = Vec::with_capacity(SNIFF_BYTES);
                let mut file = file;
                file.seek(SeekFrom::Start(0)).map_err(unreadable)?;
                file.take(SNIFF_BYTES as u64)
                    .read_to_end(&mut head)
                    .map_err(unreadable)?;
                Ok(Bytes::from(head))
            }
        }
    }

    /// The whole master in memory (what audio, video and other files are probed and stored
    /// from).
    pub fn into_bytes(self) -> Result<Bytes> {
        match self {
            Fetched::Bytes(bytes) => Ok(bytes),
            Fetched::File { mut file, len } => {
                let mut bytes = Vec::with_capacity(len as usize);
                file.seek(SeekFrom::Start(0)).map_err(unreadable)?;
                file.read_to_end(&mut bytes).map_err(unreadable)?;
                Ok(Bytes::from(bytes))
            }
        }
    }

    /// The master as the imaging crate reads it.
    pub fn as_master(&self) -> imaging::Master<'_> {
        match self {
            Fetched::Bytes(bytes) => imaging::Master::Bytes(bytes),
            Fetched::File { file, .. } => imaging::Master::File(file),
        }
    }

    /// Writes the master to `path` (a file is copied by the kernel, not through memory).
    pub fn write_to(&self, path: &std::path::Path) -> std::io::Result<()> {
        match self {
            Fetched::Bytes(bytes) => std::fs::write(path, bytes),
            Fetched::File { file, .. } => {
                let mut file = file;
                file.seek(SeekFrom::Start(0))?;
                std::io::copy(&mut file, &mut std::fs::File::create(path)?).map(|_| ())
            }
        }
    }
}
