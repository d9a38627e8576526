use std::fmt;

/// Why processing failed, as a stable kind; transient kinds are worth a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The origin could not be reached or answered 5xx/429 (transient).
    OriginUnavailable,
    /// The origin answered that the master is not there, or refused (4xx).
    OriginRefused,
    /// The origin is not one this server may read (private address, outside import roots,
    /// unsupported scheme).
    OriginForbidden,
    /// The master is over the byte or pixel limit, or its decoding over the memory budget.
    TooLarge,
    /// The master is not an image this server decodes.
    Unsupported,
    /// The master's data ends early (a truncated file).
    Truncated,
    /// The bytes are not what the declared media type says.
    WrongMediaType,
    /// An audio or video master whose container cannot be read (truncated, corrupt).
    UnreadableMedia,
    /// Object storage failed (transient).
    Storage,
    /// The database failed (transient).
    Database,
    Internal,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::OriginUnavailable => "origin-unavailable",
            ErrorKind::OriginRefused => "origin-refused",
            ErrorKind::OriginForbidden => "origin-forbidden",
            ErrorKind::TooLarge => "image-too-large",
            ErrorKind::Unsupported => "unsupported-image",
            ErrorKind::Truncated => "truncated-image",
            ErrorKind::WrongMediaType => "wrong-media-type",
            ErrorKind::UnreadableMedia => "unreadable-media",
            ErrorKind::Storage => "storage-unavailable",
            ErrorKind::Database => "database-unavailable",
            ErrorKind::Internal => "internal",
        }
    }

    /// The kind whose [`code`](Self::code) this is.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            ErrorKind::OriginUnavailable,
            ErrorKind::OriginRefused,
            ErrorKind::OriginForbidden,
            ErrorKind::TooLarge,
            ErrorKind::Unsupported,
            ErrorKind::Truncated,
            ErrorKind::WrongMediaType,
            ErrorKind::UnreadableMedia,
            ErrorKind::Storage,
            ErrorKind::Database,
            ErrorKind::Internal,
        ]
        .into_iter()
        .find(|kind| kind.code() == code)
    }

    /// Whether another attempt may succeed: the origin, storage or database were unavailable.
    /// Everything else (refusals, bad masters, limits) fails at once.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::OriginUnavailable | ErrorKind::Storage | ErrorKind::Database
        )
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

impl From<imaging::Error> for Error {
    fn from(error: imaging::Error) -> Self {
        let kind = match error.kind {
            imaging::ErrorKind::TooLarge => ErrorKind::TooLarge,
            imaging::ErrorKind::Unsupported => ErrorKind::Unsupported,
            imaging::ErrorKind::Truncated => ErrorKind::Truncated,
            imaging::ErrorKind::CorruptDerivative
            | imaging::ErrorKind::TimedOut
            | imaging::ErrorKind::Internal => ErrorKind::Internal,
        };
        Self::new(kind, error.message)
    }
}

impl From<storage::Error> for Error {
    fn from(error: storage::Error) -> Self {
        Self::new(ErrorKind::Storage, format!("storage: {error}"))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
