use std::fmt;

/// What went wrong with an image, as a stable kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The master has more pixels than allowed, or would take more memory to decode than its
    /// budget (checked before decoding).
    TooLarge,
    /// The bytes are not an image this server can decode.
    Unsupported,
    /// The image's data ends early (a truncated file).
    Truncated,
    /// A stored derivative is not what it should be.
    CorruptDerivative,
    /// A render passed its deadline (checked between its steps).
    TimedOut,
    /// Encoding or another step failed unexpectedly.
    Internal,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::TooLarge => "image-too-large",
            ErrorKind::Unsupported => "unsupported-image",
            ErrorKind::Truncated => "truncated-image",
            ErrorKind::CorruptDerivative => "corrupt-derivative",
            ErrorKind::TimedOut => "render-timeout",
            ErrorKind::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
