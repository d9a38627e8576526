//! Relay-style paging: opaque cursors over stable orderings.
//!
//! A cursor encodes the absolute position of an item in its ordering; `after` resumes right
//! behind it. Cursors are opaque to clients and malformed ones are refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};

/// Page size when the client names none.
pub const DEFAULT_PAGE_SIZE: u64 = 100;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 1000;

const CURSOR_PREFIX: &str = "v1:";

/// What the client asked for: `first` items `after` a cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub first: Option<i32>,
    pub after: Option<String>,
}

impl PageRequest {
    pub fn new(first: Option<i32>, after: Option<String>) -> Self {
        Self { first, after }
    }

    /// Page `page` (from 1) of `page_size` items, as numbered pages address them.
    pub fn numbered(page: u64, page_size: i32) -> Self {
        let skipped = page
            .saturating_sub(1)
            .saturating_mul(page_size.max(0) as u64);
        Self {
            first: Some(page_size),
            after: skipped.checked_sub(1).map(encode_cursor),
        }
    }

    /// The window of rows this request names, or BAD_REQUEST.
    pub(crate) fn window(&self) -> Result<Window> {
        let limit = match self.first {
            None => DEFAULT_PAGE_SIZE,
            Some(first) if (0..=MAX_PAGE_SIZE as i32).contains(&first) => first as u64,
            Some(_) => {
                return Err(Error::bad_request(format!(
                    "first must be between 0 and {MAX_PAGE_SIZE}"
                )));
            }
        };
        let offset = match &self.after {
            None => 0,
            Some(cursor) => decode_cursor(cursor)? + 1,
        };
        Ok(Window { offset, limit })
    }
}

/// Rows `offset..offset + limit` of an ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub offset: u64,
    pub limit: u64,
}

/// One page of results with what a Relay connection needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// Each item with its cursor, in order.
    pub items: Vec<(String, T)>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    pub total_count: u64,
}

impl<T> Page<T> {
    pub(crate) fn new(window: Window, items: Vec<T>, total_count: u64) -> Self {
        let end = window.offset + items.len() as u64;
        Self {
            items: items
                .into_iter()
                .enumerate()
                .map(|(index, item)| (encode_cursor(window.offset + index as u64), item))
                .collect(),
            has_previous_page: window.offset > 0,
            has_next_page: end < total_count,
            total_count,
        }
    }

    /// The same page with each item converted.
    pub fn try_map<U>(self, mut convert: impl FnMut(T) -> Result<U>) -> Result<Page<U>> {
        let items = self
            .items
            .into_iter()
            .map(|(cursor, item)| Ok((cursor, convert(item)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            total_count: self.total_count,
        })
    }
}

fn encode_cursor(position: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{position}"))
}

fn decode_cursor(cursor: &str) -> Result<u64> {
    let malformed = || Error::bad_request(format!("malformed cursor {cursor:?}"));
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    let position = text.strip_prefix(CURSOR_PREFIX).ok_or_else(malformed)?;
    // only canonical decimal: no sign, no leading zeros (one cursor per position)
    if position.is_empty()
        || (position.len() > 1 && position.starts_with('0'))
        || !position.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(malformed());
    }
    position
        .parse::<u64>()
        .ok()
        .filter(|p| *p < i64::MAX as u64)
        .ok_or_else(malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        for position in [0, 1, 99, 123_456] {
            assert_eq!(decode_cursor(&encode_cursor(position)).unwrap(), position);
        }
    }

    #[test]
    fn rejects_malformed_cursors() {
        let encoded = |text: &str| URL_SAFE_NO_PAD.encode(text);
        for cursor in [
            "".to_string(),
            "!!!".to_string(),
            encoded("v1:"),
            encoded("v1:-1"),
            encoded("v1:01"),
            encoded("v2:1"),
            encoded("v1:99999999999999999999999"),
        ] {
            assert_eq!(
                decode_cursor(&cursor).unwrap_err().kind,
                crate::ErrorKind::BadRequest,
                "{cursor}"
            );
        }
    }

    #[test]
    fn window_follows_after_and_first() {
        let request = PageRequest::new(Some(10), Some(encode_cursor(4)));
        assert_eq!(
            request.window().unwrap(),
            Window {
                offset: 5,
                limit: 10
            }
        );
        assert_eq!(
            PageRequest::default().window().unwrap(),
            Window {
                offset: 0,
                limit: DEFAULT_PAGE_SIZE
            }
        );
        assert!(PageRequest::new(Some(-1), None).window().is_err());
        assert!(PageRequest::new(Some(1001), None).window().is_err());
    }

    #[test]
    fn page_reports_neighbours() {
        let page = Page::new(
            Window {
                offset: 2,
                limit: 2,
            },
            vec!["c", "d"],
            5,
        );
        assert!(page.has_previous_page);
        assert!(page.has_next_page);
        assert_eq!(decode_cursor(&page.items[1].0).unwrap(), 3);
        let last = Page::new(
            Window {
                offset: 3,
                limit: 2,
            },
            vec!["d", "e"],
            5,
        );
        assert!(!last.has_next_page);
    }
}
