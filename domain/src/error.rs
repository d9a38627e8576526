use std::fmt;

use sea_orm::{DbErr, SqlErr};

/// The kinds of failure a domain call can end in. Each has a stable code; the API layer maps
/// codes to HTTP statuses and GraphQL `extensions.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    InvalidId,
    InvalidName,
    InvalidMediaType,
    InvalidOrigin,
    InvalidInput,
    /// An imported annotation file that cannot be read or holds a bad annotation.
    InvalidAnnotations,
    /// Descriptive metadata that breaks its space's field declarations, or a bad declaration.
    InvalidMetadata,
    BadRequest,
    /// A valid request this server cannot carry out.
    Unsupported,
    /// The customer is at one of its limits.
    QuotaExceeded,
    /// Too many failed credential checks from this client or for this account: wait.
    TooManyAttempts,
    /// Something kept for a while (a staged import) is past its expiry.
    Expired,
    /// The database cannot be reached now (down, restarting, out of connections): retry.
    Unavailable,
    Internal,
}

impl ErrorKind {
    /// The stable kebab-case code of this kind.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::InvalidId => "invalid-id",
            ErrorKind::InvalidName => "invalid-name",
            ErrorKind::InvalidMediaType => "invalid-media-type",
            ErrorKind::InvalidOrigin => "invalid-origin",
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::InvalidAnnotations => "invalid-annotations",
            ErrorKind::InvalidMetadata => "invalid-metadata",
            ErrorKind::BadRequest => "bad-request",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::QuotaExceeded => "quota-exceeded",
            ErrorKind::TooManyAttempts => "too-many-attempts",
            ErrorKind::Expired => "expired",
            ErrorKind::Unavailable => "database-unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

/// The domain's error: a kind and a message meant for the caller.
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

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthenticated, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// Whether a database error is a unique-key violation (a concurrent create won the race).
    pub(crate) fn is_unique_violation(error: &DbErr) -> bool {
        matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
    }
}

impl From<DbErr> for Error {
    fn from(error: DbErr) -> Self {
        // races between concurrent calls are the caller's to retry, not server faults
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                return Error::conflict("a concurrent change created the same record; try again");
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                return Error::conflict(
                    "a concurrent change removed or still uses a related record; try again",
                );
            }
            _ => {}
        }
        if database_unreachable(&error) {
            tracing::warn!(%error, "database unreachable");
            return Error::new(
                ErrorKind::Unavailable,
                "the database cannot be reached now; try again",
            );
        }
        if matches!(error, DbErr::RecordNotUpdated | DbErr::RecordNotFound(_)) {
            return Error::not_found("the record was removed by a concurrent change");
        }
        // the caller sees a generic message; the details go to the log, not over the wire
        tracing::error!(%error, "database error");
        Error::internal("database error")
    }
}

/// Whether an error says the database could not be reached, rather than that a statement
/// failed: no connection, a broken one, or the server shutting connections down.
fn database_unreachable(error: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let runtime = match error {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return matches!(error, DbErr::Conn(_));
    };
    match sqlx.as_ref() {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::Protocol(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed => true,
        // SQLSTATE classes 08 (connection exception) and 57P (operator intervention: admin
        // shutdown, crash shutdown, cannot connect now)
        Sqlx::Database(database) => database
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

impl From<auth::Error> for Error {
    fn from(error: auth::Error) -> Self {
        match error.kind {
            auth::ErrorKind::InvalidCredential => Error::unauthenticated(error.message),
            auth::ErrorKind::Internal => {
                tracing::error!(%error, "credential error");
                Error::internal("credential error")
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
