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
