//! Staged CSV imports: a file checked once, kept in the database for an hour under an id so a
//! client can page its rows (a preview) and confirm it without uploading it again. Each read
//! checks the file again against the customer's spaces as they are now, so a confirmed import
//! creates exactly what `import_csv` would.

use chrono::{DateTime, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::csv_import::{CsvImport, CsvRow};
use crate::entities::staged_import;
use crate::error::{Error, ErrorKind, Result};
use crate::paging::{Page, PageRequest};
use crate::{Batch, Domain, Principal};

/// How long a staged import is kept.
pub const STAGED_IMPORT_TTL: chrono::Duration = chrono::Duration::hours(1);

/// Most rows one page of a staged import holds.
pub const STAGED_ROWS_PAGE: usize = 100;

/// A staged import and what checking its file finds now.
#[derive(Debug, Clone, PartialEq)]
pub struct StagedImport {
    pub id: String,
    pub customer: String,
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    /// The batch it was confirmed into.
    pub batch_id: Option<i64>,
    /// The file's rows and problems; `batch` is always none here.
    pub import: CsvImport,
}

impl StagedImport {
    /// Problems found, the file's own (header) included.
    pub fn error_count(&self) -> usize {
        self.import.errors.len()
    }

    /// The pages of [`STAGED_ROWS_PAGE`] rows, from 1, that hold a row with a problem.
    pub fn pages_with_errors(&self) -> Vec<usize> {
        let mut pages: Vec<usize> = self
            .import
            .rows
            .iter()
            .enumerate()
            .filter(|(_, row)| !row.is_valid())
            .map(|(index, _)| index / STAGED_ROWS_PAGE + 1)
            .collect();
        pages.dedup();
        pages
    }

    /// A page of rows in file order, at most [`STAGED_ROWS_PAGE`]; with `only_errors`, of the
    /// rows that have a problem (cursors then count in that list).
    pub fn rows_page(&self, request: &PageRequest, only_errors: bool) -> Result<Page<&CsvRow>> {
        let window = request.window()?;
        if window.limit > STAGED_ROWS_PAGE as u64 {
            return Err(Error::bad_request(format!(
                "a page of a staged import has at most {STAGED_ROWS_PAGE} rows"
            )));
        }
        let selected: Vec<&CsvRow> = self
            .import
            .rows
            .iter()
            .filter(|row| !only_errors || !row.is_valid())
            .collect();
        let total = selected.len() as u64;
        let items = selected
            .into_iter()
            .skip(usize::try_from(window.offset).unwrap_or(usize::MAX))
            .take(window.limit as usize)
            .collect();
        Ok(Page::new(window, items, total))
    }
}

/// A fresh unguessable id: 128 random bits, hex.
fn new_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::internal("no randomness for a staged import id"))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

fn unknown(id: &str) -> Error {
    Error::not_found(format!("no staged import {id:?}"))
}

impl Domain {
    /// Checks a CSV as a dry run of `import_csv` does and keeps it for an hour. A file that
    /// cannot be read as a CSV, has header problems, no rows or too many rows is refused
    /// (INVALID_INPUT); one with row problems is staged, so they can be shown.
    pub async fn stage_csv_import(
        &self,
        principal: &Principal,
        customer: &str,
        content: &[u8],
    ) -> Result<StagedImport> {
        self.stage_csv_import_for(principal, customer, content, STAGED_IMPORT_TTL)
            .await
    }

    /// [`Domain::stage_csv_import`] with its own lifetime.
    pub async fn stage_csv_import_for(
        &self,
        principal: &Principal,
        customer: &str,
        content: &[u8],
        lifetime: chrono::Duration,
    ) -> Result<StagedImport> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let import = self.import_csv(principal, customer, content, true).await?;
        if import.total_rows == 0 {
            // a file without rows has nothing to preview: its header problems are the answer
            let problems: Vec<&str> = import
                .errors
                .iter()
                .map(|problem| problem.message.as_str())
                .collect();
            return Err(Error::invalid_input(format!(
                "the CSV cannot be staged: {}",
                problems.join("; ")
            )));
        }
        self.delete_expired_imports().await?;
        let created = Utc::now();
        let row = staged_import::ActiveModel {
            id: Set(new_id()?),
            customer_id: Set(owner.id),
            content: Set(content.to_vec()),
            created: Set(created),
            expires: Set(created + lifetime),
            confirmed: Set(None),
            batch_id: Set(None),
        }
        .insert(self.db())
        .await?;
        Ok(StagedImport {
            id: row.id,
            customer: customer.to_owned(),
            created: row.created,
            expires: row.expires,
            batch_id: None,
            import,
        })
    }

    /// A staged import of a customer, its file checked again. Another customer's import is
    /// NOT_FOUND; an expired one is EXPIRED (and deleted with every other expired one).
    pub async fn staged_csv_import(
        &self,
        principal: &Principal,
        customer: &str,
        id: &str,
    ) -> Result<StagedImport> {
        let row = self.live_staged_import(principal, customer, id).await?;
        let import = self
            .import_csv(principal, customer, &row.content, true)
            .await?;
        Ok(StagedImport {
            id: row.id,
            customer: customer.to_owned(),
            created: row.created,
            expires: row.expires,
            batch_id: row.batch_id,
            import,
        })
    }

    /// Creates the batch of a staged import, as `import_csv` without a dry run does: refused
    /// (INVALID_INPUT) while the file has a problem, and only once (CONFLICT after).
    pub async fn confirm_csv_import(
        &self,
        principal: &Principal,
        customer: &str,
        id: &str,
    ) -> Result<CsvImport> {
        let row = self.live_staged_import(principal, customer, id).await?;
        let already = || match row.batch_id {
            Some(batch) => Error::conflict(format!(
                "staged import {id:?} was confirmed already, into batch {batch}"
            )),
            None => Error::conflict(format!("staged import {id:?} is being confirmed already")),
        };
        if row.confirmed.is_some() {
            return Err(already());
        }
        // claiming first makes a second, concurrent confirm fail instead of creating a batch
        let claimed = staged_import::Entity::update_many()
            .col_expr(staged_import::Column::Confirmed, Expr::value(Utc::now()))
            .filter(staged_import::Column::Id.eq(id))
            .filter(staged_import::Column::Confirmed.is_null())
            .exec(self.db())
            .await?;
        if claimed.rows_affected == 0 {
            return Err(already());
        }
        let outcome = self
            .import_csv(principal, customer, &row.content, false)
            .await;
        let batch: Option<&Batch> = match &outcome {
            Ok(import) => import.batches.first(),
            Err(_) => None,
        };
        let mut release = staged_import::ActiveModel {
            id: Set(row.id.clone()),
            ..Default::default()
        };
        match batch {
            Some(batch) => release.batch_id = Set(Some(batch.id)),
            None => release.confirmed = Set(None),
        }
        release.update(self.db()).await?;
        let import = outcome?;
        if import.batches.is_empty() {
            return Err(Error::invalid_input(format!(
                "staged import {id:?} has {} problem(s) and was not confirmed: fix the CSV and \
                 stage it again",
                import.errors.len()
            )));
        }
        Ok(import)
    }

    /// The stored row of a staged import that has not expired.
    async fn live_staged_import(
        &self,
        principal: &Principal,
        customer: &str,
        id: &str,
    ) -> Result<staged_import::Model> {
        let owner = self.customer_in_scope(principal, customer).await?;
        if !crate::validate::storable(id) {
            return Err(unknown(id));
        }
        let row = staged_import::Entity::find_by_id(id.to_owned())
            .one(self.db())
            .await?
            .filter(|row| row.customer_id == owner.id)
            .ok_or_else(|| unknown(id))?;
        if row.expires <= Utc::now() {
            self.delete_expired_imports().await?;
            return Err(Error::new(
                ErrorKind::Expired,
                format!(
                    "staged import {id:?} expired at {}: stage the file again",
                    row.expires.to_rfc3339()
                ),
            ));
        }
        Ok(row)
    }

    /// Deletes every staged import past its expiry.
    async fn delete_expired_imports(&self) -> Result<()> {
        staged_import::Entity::delete_many()
            .filter(staged_import::Column::Expires.lte(Utc::now()))
            .exec(self.db())
            .await?;
        Ok(())
    }
}
