//! Where a master's encoded bytes are: in memory, or in a file that formats read in bands
//! (PNG, TIFF) are read from as they are decoded, so that building a pyramid of a master of
//! hundreds of megabytes does not first hold its file.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};

use image::ImageFormat;

use crate::error::{Error, ErrorKind, Result};

/// A master's encoded bytes: held in memory, or read from a file.
#[derive(Debug, Clone, Copy)]
pub enum Master<'a> {
    Bytes(&'a [u8]),
    File(&'a File),
}

/// A reader of a master from its first byte.
pub(crate) trait MasterReader: BufRead + Seek {}
impl<T: BufRead + Seek> MasterReader for T {}

/// Reads of a file go through a buffer this large.
pub(crate) const FILE_BUFFER: usize = 256 * 1024;

fn unreadable(error: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Internal,
        format!("cannot read the master's file: {error}"),
    )
}

impl<'a> Master<'a> {
    /// The master's length in bytes.
    pub(crate) fn len(&self) -> Result<u64> {
        match self {
            Master::Bytes(bytes) => Ok(bytes.len() as u64),
            Master::File(file) => file.metadata().map(|m| m.len()).map_err(unreadable),
        }
    }

    /// The bytes of the master held in memory while it is read.
    pub(crate) fn held(&self) -> Result<u64> {
        match self {
            Master::Bytes(bytes) => Ok(bytes.len() as u64),
            Master::File(_) => Ok(FILE_BUFFER as u64),
        }
    }

    /// A reader from the master's first byte (a file is read from its start again).
    pub(crate) fn open(&self) -> Result<Box<dyn MasterReader + 'a>> {
        match *self {
            Master::Bytes(bytes) => Ok(Box::new(Cursor::new(bytes))),
            Master::File(mut file) => {
                file.seek(SeekFrom::Start(0)).map_err(unreadable)?;
                Ok(Box::new(BufReader::with_capacity(FILE_BUFFER, file)))
            }
        }
    }

    /// A file's format when it is one read from the file in bands (PNG or TIFF); any other
    /// file is read into memory first.
    pub(crate) fn file_format(&self) -> Result<Option<ImageFormat>> {
        let Master::File(mut file) = *self else {
            return Ok(None);
        };
        let mut head = [0u8; 16];
        file.seek(SeekFrom::Start(0)).map_err(unreadable)?;
        let read = file
            .take(head.len() as u64)
            .read(&mut head)
            .map_err(unreadable)?;
        Ok(match image::guess_format(&head[..read]) {
            Ok(format @ (ImageFormat::Png | ImageFormat::Tiff)) => Some(format),
            _ => None,
        })
    }

    /// The whole file in memory.
    pub(crate) fn read_all(&self) -> Result<Vec<u8>> {
        match *self {
            Master::Bytes(bytes) => Ok(bytes.to_vec()),
            Master::File(mut file) => {
                let mut bytes = Vec::with_capacity(self.len()? as usize);
                file.seek(SeekFrom::Start(0)).map_err(unreadable)?;
                file.read_to_end(&mut bytes).map_err(unreadable)?;
                Ok(bytes)
            }
        }
    }
}

impl<'a> From<&'a [u8]> for Master<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Master::Bytes(bytes)
    }
}

impl<'a> From<&'a Vec<u8>> for Master<'a> {
    fn from(bytes: &'a Vec<u8>) -> Self {
        Master::Bytes(bytes)
    }
}

impl<'a> From<&'a File> for Master<'a> {
    fn from(file: &'a File) -> Self {
        Master::File(file)
    }
}
