use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use sea_orm::{ConnectionTrait, Database};

/// The database a domain test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The variable naming the PostgreSQL server the suite may create databases on.
pub const POSTGRES_URL_VARIABLE: &str = "VITRINE_TEST_DATABASE_URL";

/// A fresh, migrated database of one test, removed when the test ends: by
/// [`TestDatabase::drop_database`], or when it is dropped (a test that panicked first).
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Folder(#[allow(dead_code)] tempfile::TempDir),
    PostgresDatabase { server_url: String, name: String },
    Done,
}

/// Drops the PostgreSQL database `name` of the server at `server_url`.
async fn drop_named(server_url: &str, name: &str) -> Result<(), sea_orm::DbErr> {
    let admin = Database::connect(server_url).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    admin.close().await.ok();
    Ok(())
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::PostgresDatabase { server_url, name } =
            std::mem::replace(&mut self.cleanup, Cleanup::Done)
        {
            // a drop cannot await, and may run inside the test's runtime: a thread of its own
            // runs the async calls; a failure here cannot fail the test again
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(drop_named(&server_url, &name)).ok()
            })
            .join();
            if !matches!(dropped, Ok(Some(()))) {
                eprintln!("the test database could not be dropped");
            }
        }
    }
}

impl TestDatabase {
    /// A database on `backend`, or `None` when PostgreSQL is not configured outside CI. In CI
    /// (`CI` set) a missing PostgreSQL is a failure, never a silent skip.
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/test.db", dir.path().display());
                Some(Self {
                    url,
                    cleanup: Cleanup::Folder(dir),
                })
            }
            Backend::Postgres => {
                let Some(server_url) = std::env::var(POSTGRES_URL_VARIABLE)
                    .ok()
                    .filter(|url| !url.is_empty())
                else {
                    let in_ci = std::env::var("CI")
                        .is_ok_and(|value| !value.is_empty() && value != "false");
                    assert!(
                        !in_ci,
                        "{POSTGRES_URL_VARIABLE} must be set in CI: the PostgreSQL suite may not skip there"
                    );
                    eprintln!("skipped: set {POSTGRES_URL_VARIABLE} to run the PostgreSQL suite");
                    return None;
                };
                let name = format!("vitrine_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&server_url)
                    .await
                    .expect("connect to the PostgreSQL test server");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let mut url = url::Url::parse(&server_url).expect("PostgreSQL URL");
                url.set_path(&format!("/{name}"));
                Some(Self {
                    url: url.to_string(),
                    cleanup: Cleanup::PostgresDatabase { server_url, name },
                })
            }
        }
    }

    /// Removes the database.
    pub async fn drop_database(mut self) {
        if let Cleanup::PostgresDatabase { server_url, name } =
            std::mem::replace(&mut self.cleanup, Cleanup::Done)
        {
            drop_named(&server_url, &name)
                .await
                .expect("drop test database");
        }
    }

    /// Opens the domain services on this database (migrated).
    pub async fn domain(&self) -> domain::Domain {
        let db = domain::connect(&self.url)
            .await
            .expect("connect to test database");
        domain::migrate(&db).await.expect("migrate test database");
        let settings = domain::CredentialSettings {
            jwt_secret: b"test-signing-secret-test-signing-secret".to_vec(),
            jwt_ttl_seconds: 600,
            static_admin: None,
        };
        domain::Domain::new(db, settings)
    }
}

/// Runs `test` on a fresh database of `backend` and drops the database afterwards, also when
/// the test fails.
pub async fn with_database<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(domain::Domain) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let domain = database.domain().await;
    let outcome = AssertUnwindSafe(test(domain.clone())).catch_unwind().await;
    domain.db().clone().close().await.ok();
    database.drop_database().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbBackend, Statement};

    /// A test that panics before `drop_database` leaves no database behind on the server.
    #[tokio::test]
    async fn a_database_is_removed_even_when_its_test_panics() {
        let Some(database) = TestDatabase::create(Backend::Postgres).await else {
            return;
        };
        let Cleanup::PostgresDatabase { server_url, name } = &database.cleanup else {
            unreachable!("a PostgreSQL database")
        };
        let (server_url, name) = (server_url.clone(), name.clone());
        let panicked = std::panic::catch_unwind(AssertUnwindSafe(move || {
            let _held = database;
            panic!("the test fails before it drops its database");
        }));
        assert!(panicked.is_err());
        let admin = Database::connect(&server_url).await.unwrap();
        let left = admin
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT 1 FROM pg_database WHERE datname = $1",
                [name.clone().into()],
            ))
            .await
            .unwrap();
        admin.close().await.ok();
        assert!(left.is_none(), "{name} is left behind");
    }
}
