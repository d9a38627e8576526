//! Batches from the CSV a collection system exports: columns Line, ID, MediaType, Space,
//! Origin (mandatory), Reference1-3, Number1-3, MaxUnauthorised, Tags and Roles (optional,
//! `;`-separated lists), and a column for each descriptive field the row's space declares,
//! named by the field's key (a multi-valued field repeats its column, one value in each).
//! Header names are case-insensitive; other columns are ignored. A BOM, CRLF line ends and
//! quoted fields are read as spreadsheets write them. Every problem is reported with its line
//! and column before anything is created.

use std::collections::HashMap;

use crate::assets::{AssetInput, References};
use crate::batches::{Batch, BatchMemberInput, MAX_IMPORT_MEMBERS, MemberProblem};
use crate::error::{Error, Result};
use crate::fields::{self, FieldDefinition, FieldValue};
use crate::{Domain, Principal};

/// The columns, as the header spells them (any case), and the field each fills.
const COLUMNS: [(&str, &str); 14] = [
    ("Line", "line"),
    ("ID", "id"),
    ("MediaType", "mediaType"),
    ("Space", "space"),
    ("Origin", "origin"),
    ("Reference1", "string1"),
    ("Reference2", "string2"),
    ("Reference3", "string3"),
    ("Number1", "number1"),
    ("Number2", "number2"),
    ("Number3", "number3"),
    ("MaxUnauthorised", "maxUnauthorised"),
    ("Tags", "tags"),
    ("Roles", "roles"),
];

const MANDATORY: [&str; 5] = ["Line", "ID", "MediaType", "Space", "Origin"];

/// A CSV a client can start from: the importer's columns and two rows that import cleanly into
/// space 1 (their origins are examples to replace).
pub const CSV_SAMPLE: &str = "Line,ID,MediaType,Space,Origin,Reference1,Reference2,Reference3,\
Number1,Number2,Number3,MaxUnauthorised,Tags,Roles\r\n\
1,book1-page1,image/jpeg,1,https://example.org/scans/book1/page1.jpg,book1,,,1,,,-1,book;scan,\r\n\
2,book1-page2,image/jpeg,1,https://example.org/scans/book1/page2.jpg,book1,,,2,,,-1,book;scan,\r\n";

/// One problem of an import. `line` is the row's Line value, or its line in the file when the
/// Line value is missing or not a number, or the row is malformed (the header is line 1 of the
/// file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvProblem {
    pub line: i64,
    /// The column at fault, as the specification names it (Line, ID, ...) or as the space
    /// declares the field it holds (its key), when there is one.
    pub column: Option<String>,
    /// Stable kebab-case code: missing-column, duplicate-column, malformed-row,
    /// missing-value, invalid-line, duplicate-line, invalid-number, unknown-space,
    /// duplicate-asset, or a registration's own code (invalid-id, invalid-media-type,
    /// invalid-origin, invalid-input).
    pub code: &'static str,
    pub message: String,
}

/// One cell of a row as the file has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvCell {
    /// The header of its position as the file spells it; none for a field past the header.
    pub header: Option<String>,
    /// The importer's column it fills (Line, ID, ...), or the key of the descriptive field it
    /// holds; none for columns the importer ignores.
    pub column: Option<String>,
    pub value: String,
}

/// A data row of the file, read or not: its cells as written, what could be read of them, and
/// its problems (none when it can be imported).
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    /// The row's Line value, or its line in the file (see [`CsvProblem::line`]).
    pub line: i64,
    /// Its line in the file.
    pub file_line: u64,
    pub cells: Vec<CsvCell>,
    /// What could be read; for a row with problems, fields that could not be read are empty.
    pub member: BatchMemberInput,
    pub problems: Vec<CsvProblem>,
}

impl CsvRow {
    /// Whether the row can be imported.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What an import found, and the batches it created (none on a dry run or when any row has a
/// problem; more than one when the file has more rows than a batch holds).
#[derive(Debug, Clone, PartialEq)]
pub struct CsvImport {
    pub total_rows: usize,
    pub valid_rows: usize,
    /// Every data row, in file order.
    pub rows: Vec<CsvRow>,
    /// Every problem, the rows' and the file's own (header, no rows), by line.
    pub errors: Vec<CsvProblem>,
    pub batches: Vec<Batch>,
}

/// The column of a registration field.
fn column_of(field: &str) -> Option<&'static str> {
    COLUMNS
        .iter()
        .find(|(_, name)| *name == field)
        .map(|(column, _)| *column)
}

fn list(value: &str) -> Vec<String> {
    value
        .split(';')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The cells of a record, each named by its header and the importer column it fills.
fn cells_of(
    record: &csv::StringRecord,
    header: &csv::StringRecord,
    columns: &HashMap<usize, &'static str>,
) -> Vec<CsvCell> {
    record
        .iter()
        .enumerate()
        .map(|(position, value)| CsvCell {
            header: header.get(position).map(str::to_owned),
            column: columns.get(&position).map(|column| (*column).to_owned()),
            value: value.to_owned(),
        })
        .collect()
}

/// The line of the file (from 1) where each record starts, counted from its byte offset. With
/// CRLF line ends (as Excel writes them) the csv crate ends a record at the CR and starts the
/// next at the LF, so its own line count is one short: the line ending is skipped first.
/// Records are read in order, so each answer counts only the newlines since the previous one
/// and a whole file costs one pass, not one per row.
#[derive(Default)]
struct LineCounter {
    /// Bytes of the content counted so far.
    scanned: usize,
    /// Newlines among them.
    newlines: u64,
}

impl LineCounter {
    /// The line where the record at `position` starts.
    fn line_at(&mut self, content: &[u8], position: Option<&csv::Position>) -> u64 {
        let Some(position) = position else {
            return 0;
        };
        let mut start = usize::try_from(position.byte())
            .unwrap_or(usize::MAX)
            .min(content.len());
        while matches!(content.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start < self.scanned {
            // a position before the last one: count again from the start
            *self = LineCounter::default();
        }
        self.newlines += content[self.scanned..start]
            .iter()
            .filter(|&&byte| byte == b'\n')
            .count() as u64;
        self.scanned = start;
        1 + self.newlines
    }
}

/// Reads the rows of a CSV and the problems it has on its own (before any database check).
/// Every data row is returned, in file order, with its own problems; the problems list holds
/// them all, and the header's.
pub fn parse_csv(content: &[u8]) -> Result<(Vec<CsvRow>, Vec<CsvProblem>, usize)> {
    let content = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(content);
    let header = reader
        .headers()
        .map_err(|error| Error::invalid_input(format!("the CSV header cannot be read: {error}")))?
        .clone();
    if header.iter().all(str::is_empty) {
        return Err(Error::invalid_input(
            "the CSV is empty: it needs a header row",
        ));
    }
    let mut problems = Vec::new();
    let mut positions: HashMap<&'static str, usize> = HashMap::new();
    for (position, name) in header.iter().enumerate() {
        let Some((column, _)) = COLUMNS
            .iter()
            .find(|(column, _)| column.eq_ignore_ascii_case(name))
        else {
            continue; // other columns a collection system exports are ignored
        };
        if positions.insert(column, position).is_some() {
            problems.push(CsvProblem {
                line: 1,
                column: Some(column.to_string()),
                code: "duplicate-column",
                message: format!("the header names {column} twice"),
            });
        }
    }
    for column in MANDATORY {
        if !positions.contains_key(column) {
            problems.push(CsvProblem {
                line: 1,
                column: Some(column.to_owned()),
                code: "missing-column",
                message: format!("the header has no {column} column"),
            });
        }
    }
    if !problems.is_empty() {
        return Ok((Vec::new(), problems, 0));
    }
    let columns: HashMap<usize, &'static str> = positions
        .iter()
        .map(|(column, position)| (*position, *column))
        .collect();
    // every other column may hold a descriptive field of the row's space: which ones do is
    // known once the spaces are (see `Domain::import_csv`)
    let field_columns: Vec<(usize, String)> = header
        .iter()
        .enumerate()
        .filter(|(position, name)| !columns.contains_key(position) && !name.is_empty())
        .map(|(position, name)| (position, name.to_ascii_lowercase()))
        .collect();

    let mut rows = Vec::new();
    let mut total = 0;
    let mut lines_seen: HashMap<i64, u64> = HashMap::new();
    let mut lines = LineCounter::default();
    for record in reader.records() {
        total += 1;
        if total > MAX_IMPORT_MEMBERS {
            return Err(Error::invalid_input(format!(
                "a CSV import has at most {MAX_IMPORT_MEMBERS} rows"
            )));
        }
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let file_line = lines.line_at(content, error.position());
                let problem = CsvProblem {
                    line: file_line as i64,
                    column: None,
                    code: "malformed-row",
                    message: format!("the row cannot be read: {error}"),
                };
                problems.push(problem.clone());
                rows.push(CsvRow {
                    line: file_line as i64,
                    file_line,
                    cells: Vec::new(),
                    member: BatchMemberInput::default(),
                    problems: vec![problem],
                });
                continue;
            }
        };
        let file_line = lines.line_at(content, record.position());
        let cells = cells_of(&record, &header, &columns);
        let value = |column: &str| {
            positions
                .get(column)
                .and_then(|position| record.get(*position))
                .filter(|value| !value.is_empty())
        };
        let owned = |column: &str| value(column).map(str::to_owned);
        if record.len() != header.len() {
            // the fields may be shifted: nothing in them is trusted, not even Line
            let problem = CsvProblem {
                line: file_line as i64,
                column: None,
                code: "malformed-row",
                message: format!(
                    "the row has {} fields, the header {}",
                    record.len(),
                    header.len()
                ),
            };
            problems.push(problem.clone());
            let mut member = BatchMemberInput::default();
            member.asset.id = owned("ID").unwrap_or_default();
            member.asset.media_type = owned("MediaType").unwrap_or_default();
            member.asset.origin = owned("Origin");
            rows.push(CsvRow {
                line: file_line as i64,
                file_line,
                cells,
                member,
                problems: vec![problem],
            });
            continue;
        }
        let line_value = value("Line");
        let line = line_value
            .and_then(|text| text.parse::<i64>().ok())
            .filter(|n| *n > 0);
        let at = line.unwrap_or(file_line as i64);
        let mut row_problems = Vec::new();
        let mut problem = |column: &'static str, code: &'static str, message: String| {
            row_problems.push(CsvProblem {
                line: at,
                column: Some(column.to_owned()),
                code,
                message,
            });
        };
        for column in MANDATORY {
            if value(column).is_none() {
                problem(column, "missing-value", format!("{column} is required"));
            }
        }
        if let (Some(text), None) = (line_value, line) {
            problem(
                "Line",
                "invalid-line",
                format!("Line must be a positive whole number, got {text:?}"),
            );
        }
        if let Some(line) = line
            && let Some(first) = lines_seen.insert(line, file_line)
        {
            problem(
                "Line",
                "duplicate-line",
                format!("Line {line} is also on line {first} of the file"),
            );
        }
        let mut number = |column: &'static str| -> Option<i64> {
            let text = value(column)?;
            match text.parse::<i64>() {
                Ok(number) => Some(number),
                Err(_) => {
                    problem(
                        column,
                        "invalid-number",
                        format!("{column} must be a whole number, got {text:?}"),
                    );
                    None
                }
            }
        };
        let space = number("Space");
        let number1 = number("Number1");
        let number2 = number("Number2");
        let number3 = number("Number3");
        let max_unauthorised = number("MaxUnauthorised");
        let max_unauthorised = match max_unauthorised.map(i32::try_from) {
            Some(Ok(value)) => Some(value),
            Some(Err(_)) => {
                problem(
                    "MaxUnauthorised",
                    "invalid-number",
                    "MaxUnauthorised is out of range".to_owned(),
                );
                None
            }
            None => None,
        };
        let space = match space.map(i32::try_from) {
            Some(Ok(space)) => Some(space),
            Some(Err(_)) => {
                problem("Space", "unknown-space", "Space is out of range".to_owned());
                None
            }
            None => None,
        };
        problems.extend(row_problems.iter().cloned());
        rows.push(CsvRow {
            line: at,
            file_line,
            cells,
            member: BatchMemberInput {
                space: space.unwrap_or_default(),
                line: i32::try_from(at).ok(),
                asset: AssetInput {
                    id: owned("ID").unwrap_or_default(),
                    media_type: owned("MediaType").unwrap_or_default(),
                    origin: owned("Origin"),
                    references: References {
                        string1: owned("Reference1"),
                        string2: owned("Reference2"),
                        string3: owned("Reference3"),
                        number1,
                        number2,
                        number3,
                    },
                    tags: value("Tags").map(list),
                    roles: value("Roles").map(list),
                    max_unauthorised,
                    fields: field_values(&record, &field_columns),
                    published: None,
                },
            },
            problems: row_problems,
        });
    }
    Ok((rows, problems, total))
}

/// The values of a row's other columns, by lower-cased header; repeated columns give several
/// values, empty cells none.
fn field_values(record: &csv::StringRecord, columns: &[(usize, String)]) -> Vec<FieldValue> {
    let mut found: Vec<FieldValue> = Vec::new();
    for (position, key) in columns {
        let Some(value) = record.get(*position).filter(|value| !value.is_empty()) else {
            continue;
        };
        match found.iter_mut().find(|field| field.key == *key) {
            Some(field) => field.values.push(value.to_owned()),
            None => found.push(FieldValue {
                key: key.clone(),
                values: vec![value.to_owned()],
            }),
        }
    }
    found
}

/// The CSV problem of a member problem, at the member's row.
fn row_problem(row: &CsvRow, problem: &MemberProblem) -> CsvProblem {
    let code = match (problem.field, problem.error.kind) {
        (Some("space"), _) => "unknown-space",
        (_, crate::ErrorKind::Conflict) => "duplicate-asset",
        (_, kind) => kind.code(),
    };
    let column = match problem.field {
        Some("fields") => problem.field_key.clone(),
        field => field.and_then(column_of).map(str::to_owned),
    };
    CsvProblem {
        line: row.line,
        column,
        code,
        message: problem.error.message.clone(),
    }
}

impl Domain {
    /// Keeps of each row's other columns those its space declares as fields.
    async fn keep_declared_fields(
        &self,
        principal: &Principal,
        customer: &str,
        rows: &mut [CsvRow],
    ) -> Result<()> {
        let mut declared: HashMap<i32, Vec<FieldDefinition>> = HashMap::new();
        for row in rows.iter_mut() {
            let space = row.member.space;
            if let std::collections::hash_map::Entry::Vacant(slot) = declared.entry(space) {
                // an unknown space is the batch check's to report
                slot.insert(
                    match self.space_in_scope(principal, customer, space).await {
                        Ok((_, space_row)) => fields::decode(space_row.fields.as_deref())?,
                        Err(_) => Vec::new(),
                    },
                );
            }
            let keys = &declared[&space];
            let declares = |name: &str| keys.iter().any(|field| field.key == name);
            row.member.asset.fields.retain(|value| declares(&value.key));
            // its cells name the field they hold, for a problem to point at
            for cell in &mut row.cells {
                if cell.column.is_none()
                    && let Some(key) = cell.header.as_deref().map(str::to_ascii_lowercase)
                    && declares(&key)
                {
                    cell.column = Some(key);
                }
            }
        }
        Ok(())
    }

    /// Checks a CSV and, unless it is a dry run or any row has a problem, creates its batch.
    pub async fn import_csv(
        &self,
        principal: &Principal,
        customer: &str,
        content: &[u8],
        dry_run: bool,
    ) -> Result<CsvImport> {
        self.customer_in_scope(principal, customer).await?;
        let (mut rows, mut errors, total_rows) = parse_csv(content)?;
        self.keep_declared_fields(principal, customer, &mut rows)
            .await?;
        // the rows that read cleanly go on to the batch's own checks
        let readable: Vec<usize> = (0..rows.len()).filter(|i| rows[*i].is_valid()).collect();
        let members: Vec<BatchMemberInput> = readable
            .iter()
            .map(|index| rows[*index].member.clone())
            .collect();
        let mut batches = Vec::new();
        if !members.is_empty() {
            // creating checks the rows itself: a file without problems is checked once
            let problems = if dry_run || !errors.is_empty() {
                self.check_batch(principal, customer, &members).await?
            } else {
                match self.create_batch(principal, customer, members).await? {
                    Ok(created) => {
                        batches = created;
                        Vec::new()
                    }
                    Err(problems) => problems,
                }
            };
            for problem in problems {
                let row = &mut rows[readable[problem.index]];
                let found = row_problem(row, &problem);
                row.problems.push(found.clone());
                errors.push(found);
            }
        }
        errors.sort_by_key(|problem| problem.line);
        let valid_rows = rows.iter().filter(|row| row.is_valid()).count();
        if total_rows == 0 && errors.is_empty() {
            errors.push(CsvProblem {
                line: 2,
                column: None,
                code: "missing-value",
                message: "the CSV has a header but no rows".to_owned(),
            });
        }
        Ok(CsvImport {
            total_rows,
            valid_rows,
            rows,
            errors,
            batches,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_any_case_bom_crlf_and_quotes() {
        let csv = "\u{feff}line,id,MEDIATYPE,Space,origin,Reference1,Number1,Tags\r\n\
                   1,a,image/jpeg,1,https://example.org/a.jpg,\"Smith, J.\",3,x; y\r\n";
        let (rows, problems, total) = parse_csv(csv.as_bytes()).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(total, 1);
        let member = &rows[0].member;
        assert_eq!(member.asset.id, "a");
        assert_eq!(
            member.asset.references.string1.as_deref(),
            Some("Smith, J.")
        );
        assert_eq!(member.asset.references.number1, Some(3));
        assert_eq!(
            member.asset.tags,
            Some(vec!["x".to_owned(), "y".to_owned()])
        );
        assert_eq!(member.line, Some(1));
    }

    #[test]
    fn file_lines_count_every_line_ending() {
        for ending in ["\n", "\r\n"] {
            let content = [
                "Line,ID,MediaType,Space,Origin",
                "1,a,image/png,1,https://example.org/a.png",
                "2,b,image/png,1,https://example.org/b.png",
                "3,c/d,image/png,1,https://example.org/c.png",
            ]
            .join(ending);
            let (rows, _, _) = parse_csv(content.as_bytes()).unwrap();
            let lines: Vec<u64> = rows.iter().map(|row| row.file_line).collect();
            assert_eq!(lines, [2, 3, 4], "line ending {ending:?}");
        }
    }

    #[test]
    fn row_problems_name_line_and_column() {
        let csv = "Line,ID,MediaType,Space,Origin,Number2\n\
                   1,a,image/jpeg,1,https://example.org/a.jpg,x\n\
                   1,b,,1,https://example.org/b.jpg,\n\
                   z,c,image/jpeg,1,https://example.org/c.jpg,\n\
                   4,d,image/jpeg\n";
        let (rows, problems, total) = parse_csv(csv.as_bytes()).unwrap();
        assert_eq!(total, 4);
        let lines: Vec<_> = rows.iter().map(|row| (row.line, row.file_line)).collect();
        assert_eq!(lines, vec![(1, 2), (1, 3), (4, 4), (5, 5)]);
        assert!(rows.iter().all(|row| !row.is_valid()));
        assert_eq!(rows[3].cells[2].value, "image/jpeg");
        assert_eq!(rows[3].cells[2].column.as_deref(), Some("MediaType"));
        assert_eq!(rows[0].problems[0].column.as_deref(), Some("Number2"));
        let found: Vec<_> = problems
            .iter()
            .map(|p| (p.line, p.column.as_deref(), p.code))
            .collect();
        assert_eq!(
            found,
            vec![
                (1, Some("Number2"), "invalid-number"),
                (1, Some("MediaType"), "missing-value"),
                (1, Some("Line"), "duplicate-line"),
                (4, Some("Line"), "invalid-line"),
                (5, None, "malformed-row"),
            ]
        );
    }

    #[test]
    fn the_sample_reads_cleanly() {
        let (rows, problems, total) = parse_csv(CSV_SAMPLE.as_bytes()).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(total, 2);
        assert!(rows.iter().all(CsvRow::is_valid));
        assert_eq!(rows[1].member.asset.references.number1, Some(2));
        for (column, _) in COLUMNS {
            assert!(
                rows[0]
                    .cells
                    .iter()
                    .any(|cell| cell.column.as_deref() == Some(column)),
                "the sample has no {column} column"
            );
        }
    }

    #[test]
    fn missing_mandatory_columns_are_reported_once() {
        let (_, problems, _) = parse_csv(b"Line,ID,Space\n1,a,1\n").unwrap();
        let columns: Vec<_> = problems.iter().map(|p| p.column.clone().unwrap()).collect();
        assert_eq!(columns, vec!["MediaType", "Origin"]);
        assert!(problems.iter().all(|p| p.code == "missing-column"));
        assert!(parse_csv(b"").is_err());
    }
}
