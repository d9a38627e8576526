use std::fmt;

/// How a request fails, in the Image API's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageErrorKind {
    /// Malformed or out-of-range parameters, or over the server's limits: 400.
    BadRequest,
    /// Well-formed but not implemented by this server (e.g. `^` without upscaling): 501.
    NotImplemented,
}

impl ImageErrorKind {
    /// The stable kebab-case code.
    pub fn code(self) -> &'static str {
        match self {
            ImageErrorKind::BadRequest => "invalid-image-request",
            ImageErrorKind::NotImplemented => "unsupported-image-request",
        }
    }
}

/// A refused image request, with a message for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ImageError {
    pub kind: ImageErrorKind,
    pub message: String,
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl ImageError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            kind: ImageErrorKind::BadRequest,
            message: message.into(),
        }
    }

    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self {
            kind: ImageErrorKind::NotImplemented,
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

pub type Result<T, E = ImageError> = std::result::Result<T, E>;
