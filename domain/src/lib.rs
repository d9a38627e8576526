//! The business rules of Vitrine: customers, API keys, spaces and assets, with tenancy
//! enforced on every call, over sea-orm on SQLite or PostgreSQL.
//!
//! This crate knows nothing of HTTP or GraphQL: callers hand it a [`Principal`] and plain
//! inputs, and get plain values or an [`Error`] with a stable code back.

mod access;
mod access_control;
mod annotations;
mod assets;
mod batch_control;
mod batches;
mod credentials;
mod csv_import;
mod customers;
mod db;
pub mod entities;
mod error;
mod fields;
pub mod model;
mod origin_rules;
mod origin_secrets;
pub mod paging;
mod presentation;
mod processing;
mod queue;
mod quotas;
mod search;
mod spaces;
mod staged_imports;
pub mod validate;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

pub use access_control::{
    AccessProfile, ActiveKind, AuthService, AuthServiceInput, AuthServicePatch,
    DEFAULT_SESSION_TTL, GrantedSession, Role, RoleInput, RolePatch, SessionLookup, Viewer,
    ViewerInput, ViewerPatch, VisitorSession,
};
pub use annotations::{
    Annotation, AnnotationInput, AnnotationPatch, BODY_FORMATS, Granularity, ImportFormat,
    MAX_IMPORT_ANNOTATIONS, MOTIVATIONS, Region, TimeRange,
};
pub use assets::{
    AssetFilter, AssetInput, AssetOrder, AssetOrderField, AssetPatch, Change, References,
    ReferencesPatch, SortDirection, new_asset_id,
};
pub use auth::Principal;
pub use batch_control::CANCELLED_REASON;
pub use batches::{
    Batch, BatchListing, BatchMember, BatchMemberInput, MAX_BATCH_MEMBERS, MAX_IMPORT_MEMBERS,
    MemberProblem, QueueCounts,
};
pub use credentials::CredentialSettings;
pub use csv_import::{CSV_SAMPLE, CsvCell, CsvImport, CsvProblem, CsvRow, parse_csv};
pub use customers::{CustomerInput, CustomerPatch};
pub use db::{DatabaseKind, connect, migrate, sqlite_file};
pub use error::{Error, ErrorKind, Result};
pub use fields::{
    FieldDefinition, FieldType, FieldValue, LocalizedText, MAX_FIELDS, MAX_VALUE_CHARS,
};
pub use model::{
    ApiKey, Asset, AssetFamily, AssetStatus, CreatedApiKey, Customer, Space, media_file_name,
};
pub use origin_rules::{
    OriginCredentials, OriginRule, OriginRuleInput, OriginStrategy, S3Credentials,
};
pub use paging::{Page, PageRequest};
pub use presentation::{
    LinkTemplate, Links, MAX_QUERY_CANVASES, NamedQuery, NamedQueryInput, NamedQueryPatch, Part,
    PresentationPatch, PresentationSettings, ProviderSetting, RangeField, SearchScope, Statement,
};
pub use queue::{
    AssetFacts, ClaimedJob, JobEnd, JobKind, JobOutcome, QueueSettings, poisoned_reason,
};
pub use quotas::Quotas;
pub use search::{
    CatchingUp, CompleteRequest, MAX_COMPLETIONS, RESULTS_PER_PAGE, SearchOutcome, SearchRequest,
    Searcher,
};
pub use spaces::{SpaceInput, SpacePatch};
pub use staged_imports::{STAGED_IMPORT_TTL, STAGED_ROWS_PAGE, StagedImport};

/// The domain services over one database. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct Domain {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    credentials: credentials::Credentials,
    queue: QueueSettings,
    quotas: Quotas,
    /// Seals origin-rule secrets at rest, under a key derived from the signing secret.
    origin_secrets: origin_secrets::SecretBox,
}

impl std::fmt::Debug for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Domain").finish_non_exhaustive()
    }
}

impl Domain {
    /// Wraps a migrated database connection, with the queue's default settings.
    pub fn new(db: DatabaseConnection, settings: CredentialSettings) -> Self {
        Self::with_settings(db, settings, QueueSettings::default(), Quotas::default())
    }

    /// Wraps a migrated database connection.
    pub fn with_settings(
        db: DatabaseConnection,
        settings: CredentialSettings,
        queue: QueueSettings,
        quotas: Quotas,
    ) -> Self {
        let origin_secrets = origin_secrets::SecretBox::derive(&settings.jwt_secret);
        let credentials = credentials::Credentials::new(settings);
        Self {
            inner: Arc::new(Inner {
                db,
                credentials,
                queue,
                quotas,
                origin_secrets,
            }),
        }
    }

    pub(crate) fn origin_secrets(&self) -> &origin_secrets::SecretBox {
        &self.inner.origin_secrets
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once, so
    /// concurrent writers queue (up to the busy timeout) instead of failing when a read lock
    /// cannot be upgraded; PostgreSQL ignores the mode.
    pub(crate) async fn begin_write(&self) -> Result<sea_orm::DatabaseTransaction> {
        let options = sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        Ok(sea_orm::TransactionTrait::begin_with_options(&self.inner.db, options).await?)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.inner.db.ping().await.map_err(Error::from)
    }
}
