use std::fmt;

/// What went wrong, as a stable kind the API layer maps to a status and a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The credential is malformed, unknown, expired or signed by someone else.
    InvalidCredential,
    /// A hash or key could not be produced or read (configuration or corrupt data).
    Internal,
}

impl ErrorKind {
    /// The stable kebab-case code of this kind.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidCredential => "invalid-credential",
            ErrorKind::Internal => "internal",
        }
    }
}

/// The error type of the auth crate.
#[derive(Debug, Clone, thiserror::Error)]
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
    pub fn invalid_credential(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::InvalidCredential,
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Internal,
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
