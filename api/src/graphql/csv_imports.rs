//! CSV imports as a client previews them: every row with its cells and problems, a sample file
//! to start from, and staged imports that are paged and confirmed without uploading the file
//! again.

use async_graphql::{Context, Object, Result, SimpleObject, Upload};
use chrono::{DateTime, Utc};

use super::batches::{BatchObject, CsvImportObject};
use super::connection::{PagedConnection, connection};
use super::context::{call, principal, read_upload};
use crate::error::{graphql_code, graphql_error};

/// One problem of a CSV import.
#[derive(SimpleObject, Debug, Clone)]
pub struct CsvError {
    /// The row's Line value, or its line in the file when Line is missing or not a number or
    /// the row is malformed (the header is line 1).
    pub line: i64,
    /// The column at fault (Line, ID, MediaType, ...), when there is one: the `column` of the
    /// row's cell to highlight.
    pub column: Option<String>,
    /// Stable code: MISSING_COLUMN, DUPLICATE_COLUMN, MALFORMED_ROW, MISSING_VALUE,
    /// INVALID_LINE, DUPLICATE_LINE, INVALID_NUMBER, UNKNOWN_SPACE, DUPLICATE_ASSET,
    /// INVALID_ID, INVALID_MEDIA_TYPE, INVALID_ORIGIN, INVALID_INPUT, INVALID_METADATA (a
    /// descriptive field's value; `column` is the field's key).
    pub code: String,
    /// What is wrong, in words.
    pub message: String,
}

impl From<&domain::CsvProblem> for CsvError {
    fn from(problem: &domain::CsvProblem) -> Self {
        Self {
            line: problem.line,
            column: problem.column.clone(),
            code: graphql_code(problem.code),
            message: problem.message.clone(),
        }
    }
}

/// A cell of a CSV row as the file has it.
#[derive(SimpleObject, Debug, Clone)]
pub struct CsvCell {
    /// The header of its position as the file spells it; null for a field past the header.
    pub header: Option<String>,
    /// The importer's column it fills (Line, ID, MediaType, ...); null for a column the
    /// importer ignores.
    pub column: Option<String>,
    /// The text, trimmed.
    pub value: String,
}

/// A data row of a CSV, whether or not it could be read.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "CsvRow")]
pub struct CsvRowObject {
    /// The row's Line value, or its line in the file when Line is missing or not a number or
    /// the row is malformed.
    pub line: i64,
    /// Its line in the file (the header is line 1).
    pub file_line: i64,
    /// Whether it can be imported: it has no problem.
    pub valid: bool,
    /// Its cells in file order, as written.
    pub cells: Vec<CsvCell>,
    /// Its problems, each with the column at fault when there is one.
    pub errors: Vec<CsvError>,
    /// What may go wrong once it is imported without stopping the import: an origin that
    /// cannot be fetched now (code ORIGIN_UNREACHABLE, column Origin). Filled only when the
    /// rows are asked for with `checkOrigins: true`.
    pub warnings: Vec<CsvError>,
    /// The space's number as read (0 when the Space cell cannot be read; see `cells`).
    pub space: i32,
    /// The ID as read (empty when missing).
    pub id: String,
    /// The MediaType as read (empty when missing).
    pub media_type: String,
    pub origin: Option<String>,
    /// Reference1-3 and Number1-3 as read (a number only when it reads as a whole number).
    #[graphql(flatten)]
    pub references: domain::References,
    pub max_unauthorised: Option<i32>,
    pub tags: Option<Vec<String>>,
    pub roles: Option<Vec<String>>,
    /// Values of the descriptive fields the row's space declares, by key (a multi-valued
    /// field repeats its column).
    pub fields: Vec<domain::FieldValue>,
}

impl From<&domain::CsvRow> for CsvRowObject {
    fn from(row: &domain::CsvRow) -> Self {
        let asset = &row.member.asset;
        Self {
            line: row.line,
            file_line: i64::try_from(row.file_line).unwrap_or(i64::MAX),
            valid: row.is_valid(),
            cells: row
                .cells
                .iter()
                .map(|cell| CsvCell {
                    header: cell.header.clone(),
                    column: cell.column.clone(),
                    value: cell.value.clone(),
                })
                .collect(),
            errors: row.problems.iter().map(CsvError::from).collect(),
            warnings: Vec::new(),
            space: row.member.space,
            id: asset.id.clone(),
            media_type: asset.media_type.clone(),
            origin: asset.origin.clone(),
            references: asset.references.clone(),
            max_unauthorised: asset.max_unauthorised,
            tags: asset.tags.clone(),
            roles: asset.roles.clone(),
            fields: asset.fields.clone(),
        }
    }
}

/// A CSV checked and kept on the server for an hour, to page through and confirm.
#[derive(Debug)]
pub struct StagedCsvImportObject(domain::StagedImport);

#[Object(name = "StagedCsvImport")]
impl StagedCsvImportObject {
    /// Its id, for `csvImport` and `confirmCsvImport`.
    async fn id(&self) -> &str {
        &self.0.id
    }

    /// When it was staged.
    async fn created(&self) -> DateTime<Utc> {
        self.0.created
    }

    /// When it stops being kept; after that it must be staged again (code EXPIRED).
    async fn expires(&self) -> DateTime<Utc> {
        self.0.expires
    }

    /// Data rows in the file, the header not counted.
    async fn total_rows(&self) -> i32 {
        i32::try_from(self.0.import.total_rows).unwrap_or(i32::MAX)
    }

    /// Rows without any problem.
    async fn valid_rows(&self) -> i32 {
        i32::try_from(self.0.import.valid_rows).unwrap_or(i32::MAX)
    }

    /// Problems found, across all rows. The import can be confirmed only when there is none.
    async fn error_count(&self) -> i32 {
        i32::try_from(self.0.error_count()).unwrap_or(i32::MAX)
    }

    /// The pages of 100 rows (from 1, in file order) that hold a row with a problem.
    async fn pages_with_errors(&self) -> Vec<i32> {
        self.0
            .pages_with_errors()
            .into_iter()
            .map(|page| i32::try_from(page).unwrap_or(i32::MAX))
            .collect()
    }

    /// Every data row in file order, readable or not, with its cells and problems; at most 100
    /// a page. Page n of 100 starts after the cursor of row 100 * (n - 1).
    #[graphql(
        complexity = "super::limits::list_complexity(domain::STAGED_ROWS_PAGE, child_complexity)"
    )]
    async fn rows(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many rows to return (at most 100; default 100).")] first: Option<i32>,
        #[graphql(desc = "Return the rows after this cursor.")] after: Option<String>,
        #[graphql(
            default = false,
            desc = "Only the rows with a problem (cursors then count in that list)."
        )]
        with_errors: bool,
        #[graphql(
            default = false,
            desc = "Also check that the origin of each row of the page without problems can be \
                    fetched now, as ingest would fetch it (a file under an import root, an \
                    http(s) HEAD, an S3 object with the customer's rule), without reading it; \
                    what fails is in the row's `warnings`."
        )]
        check_origins: bool,
    ) -> Result<PagedConnection<CsvRowObject>> {
        let request = domain::PageRequest::new(first, after);
        let page = self
            .0
            .rows_page(&request, with_errors)
            .map_err(graphql_error)?;
        let mut rows = connection(page, CsvRowObject::from);
        if check_origins {
            let customer = self.0.customer.clone();
            let customer = call(ctx, |domain, principal| async move {
                domain.customer(&principal, &customer).await
            })
            .await?;
            let processing = ctx.data::<crate::processing::Processing>()?;
            check_origins_of(&processing.ingestor, customer.id, &mut rows).await;
        }
        Ok(rows)
    }

    /// The batch it was confirmed into, once confirmed.
    async fn batch(&self, ctx: &Context<'_>) -> Result<Option<BatchObject>> {
        let Some(batch_id) = self.0.batch_id else {
            return Ok(None);
        };
        let customer = self.0.customer.clone();
        let batch = call(ctx, |domain, principal| async move {
            domain.batch(&principal, &customer, batch_id).await
        })
        .await?;
        Ok(Some(batch.into()))
    }
}

/// Origins checked at once when a page of rows is checked.
const ORIGIN_CHECKS_AT_ONCE: usize = 16;

/// Fills the warnings of the page's rows without problems whose origin cannot be fetched now.
/// A page holds at most 100 rows, and each check is bounded by the origin timeouts.
async fn check_origins_of(
    ingestor: &ingest::Ingestor,
    customer_id: i32,
    rows: &mut PagedConnection<CsvRowObject>,
) {
    use futures::StreamExt;
    let checks: Vec<(usize, String)> = rows
        .edges
        .iter()
        .enumerate()
        .filter(|(_, edge)| edge.node.valid)
        .filter_map(|(index, edge)| Some((index, edge.node.origin.clone()?)))
        .collect();
    let failures: Vec<(usize, ingest::Error)> = futures::stream::iter(checks)
        .map(|(index, origin)| async move {
            let outcome = ingestor.check_origin(customer_id, &origin).await;
            (index, outcome)
        })
        .buffer_unordered(ORIGIN_CHECKS_AT_ONCE)
        .filter_map(|(index, outcome)| async move { outcome.err().map(|error| (index, error)) })
        .collect()
        .await;
    for (index, error) in failures {
        let row = &mut rows.edges[index].node;
        row.warnings.push(CsvError {
            line: row.line,
            column: Some("Origin".to_owned()),
            code: "ORIGIN_UNREACHABLE".to_owned(),
            message: format!(
                "the origin cannot be fetched now ({}: {}); the row will fail unless it is fixed before ingest",
                error.code(),
                error.message
            ),
        });
    }
}

#[derive(Default, Debug)]
pub struct CsvImportQuery;

#[Object]
impl CsvImportQuery {
    /// A staged CSV import of a customer, its file checked again against the spaces as they
    /// are now. Unknown ids (and another customer's) are NOT_FOUND; expired ones EXPIRED.
    async fn csv_import(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The staged import's id.")] id: String,
    ) -> Result<StagedCsvImportObject> {
        let staged = call(ctx, |domain, principal| async move {
            domain.staged_csv_import(&principal, &customer, &id).await
        })
        .await?;
        Ok(StagedCsvImportObject(staged))
    }

    /// A CSV to start from: the importer's exact columns (Line, ID, MediaType, Space, Origin,
    /// Reference1-3, Number1-3, MaxUnauthorised, Tags, Roles) and two example rows for space 1
    /// whose origins are to be replaced.
    async fn csv_sample(&self, ctx: &Context<'_>) -> Result<&'static str> {
        if principal(ctx)? == domain::Principal::Anonymous {
            return Err(graphql_error(domain::Error::unauthenticated(
                "a credential is required",
            )));
        }
        Ok(domain::CSV_SAMPLE)
    }
}

#[derive(Default, Debug)]
pub struct CsvImportMutation;

#[Object]
impl CsvImportMutation {
    /// Checks an uploaded CSV as a dry run of `importCsv` does and keeps it on the server for
    /// an hour, to page through with `csvImport` and confirm with `confirmCsvImport`. Rows with
    /// problems are kept and shown; a file that is not a CSV, has header problems, no rows or
    /// more than 10,000 rows is refused (INVALID_INPUT).
    async fn stage_csv_import(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The CSV as an upload.")] file: Upload,
    ) -> Result<StagedCsvImportObject> {
        let bytes = read_upload(ctx, file).await?;
        let staged = call(ctx, |domain, principal| async move {
            domain.stage_csv_import(&principal, &customer, &bytes).await
        })
        .await?;
        Ok(StagedCsvImportObject(staged))
    }

    /// Creates the batch of a staged import exactly as `importCsv` without a dry run does.
    /// All or nothing: refused (INVALID_INPUT) while its file has a problem; an import is
    /// confirmed once (CONFLICT after). Unknown ids are NOT_FOUND; expired ones EXPIRED.
    async fn confirm_csv_import(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The staged import's id.")] id: String,
    ) -> Result<CsvImportObject> {
        let imported = call(ctx, |domain, principal| async move {
            domain.confirm_csv_import(&principal, &customer, &id).await
        })
        .await?;
        ctx.data::<crate::processing::Processing>()?.job_queued();
        Ok(CsvImportObject(imported))
    }
}
