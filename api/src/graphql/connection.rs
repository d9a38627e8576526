//! Domain pages as Relay connections with `totalCount`.

use async_graphql::OutputType;
use async_graphql::SimpleObject;
use async_graphql::connection::{Connection, Edge, EmptyFields};

/// Fields every connection carries besides its edges.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct ConnectionTotals {
    /// How many items match, across all pages.
    pub total_count: i64,
}

pub type PagedConnection<T> = Connection<String, T, ConnectionTotals, EmptyFields>;

/// The cost of a connection field: what one item costs, times the items it may return, so
/// that nested pages multiply and an abusive query is refused before it runs.
pub fn page_complexity(first: Option<i32>, child_complexity: usize) -> usize {
    let items = first.map_or(domain::paging::DEFAULT_PAGE_SIZE as usize, |first| {
        first.max(1) as usize
    });
    items.saturating_mul(child_complexity.max(1))
}

/// Converts a page, mapping each item to its GraphQL type.
pub fn connection<D, T: OutputType>(
    page: domain::Page<D>,
    convert: impl Fn(D) -> T,
) -> PagedConnection<T> {
    let total_count = i64::try_from(page.total_count).unwrap_or(i64::MAX);
    let mut connection = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        ConnectionTotals { total_count },
    );
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|(cursor, item)| Edge::new(cursor, convert(item))),
    );
    connection
}
