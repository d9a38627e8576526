//! Opening the database and bringing its schema up to date.

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl DatabaseKind {
    /// The kind a database URL names, or `None` for an unsupported scheme.
    pub fn of_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme)?;
        match scheme {
            "sqlite" => Some(DatabaseKind::Sqlite),
            "postgres" | "postgresql" => Some(DatabaseKind::Postgres),
            _ => None,
        }
    }
}

/// The file a SQLite URL names, if it names one (not `:memory:`).
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

/// Makes a SQLite file (and the journal files beside it) readable by its owner only, creating
/// the file empty when missing: SQLite gives its journals the main file's mode, and would
/// otherwise create the file with the process umask (usually world-readable).
fn make_sqlite_file_private(path: &std::path::Path) -> Result<(), DbErr> {
    let failed = |error: std::io::Error| {
        DbErr::Custom(format!(
            "cannot make {} private to its owner: {error}",
            path.display()
        ))
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(failed)?;
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm", "-journal"] {
        use std::os::unix::fs::PermissionsExt;
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .map_err(failed)?;
        }
    }
    Ok(())
}

/// Connects to a database URL. A SQLite file is created when missing (readable by its owner
/// only) and put in WAL mode so readers never wait for the writer.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let kind = DatabaseKind::of_url(url)
        .ok_or_else(|| DbErr::Custom(format!("unsupported database url scheme in {url:?}")))?;
    if kind == DatabaseKind::Sqlite
        && let Some(file) = sqlite_file(url)
        && !url.contains("mode=ro")
    {
        make_sqlite_file_private(&file)?;
    }
    let url = match kind {
        DatabaseKind::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
            let separator = if url.contains('?') { '&' } else { '?' };
            format!("{url}{separator}mode=rwc")
        }
        _ => url.to_owned(),
    };
    let mut options = ConnectOptions::new(url);
    options
        .connect_timeout(Duration::from_secs(10))
        // a request waits this long for a connection before it answers 503: a database that
        // is down or restarting is reported within seconds, not after a client's own timeout
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if kind == DatabaseKind::Sqlite {
        // SQLite has one writer; a small pool avoids queuing many writers on its lock
        options.max_connections(4).min_connections(1);
    }
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok(db)
}

/// The PostgreSQL advisory lock nodes take while they migrate ("vitrine" in ASCII).
const MIGRATION_LOCK: i64 = 0x0076_6974_7269_6e65;

/// Applies every pending migration. On PostgreSQL, nodes starting together take turns (an
/// advisory lock held on one connection while the migrations run on others): the first
/// migrates, the others then find nothing left to do.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    let to_db = |error: sea_orm::sqlx::Error| DbErr::Custom(format!("migration lock: {error}"));
    let mut holder = db
        .get_postgres_connection_pool()
        .acquire()
        .await
        .map_err(to_db)?;
    sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *holder)
        .await
        .map_err(to_db)?;
    let migrated = Migrator::up(db, None).await;
    let unlocked = sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *holder)
        .await;
    if unlocked.is_err() {
        // a lock that cannot be released goes with its connection
        holder.detach();
    }
    migrated
}
