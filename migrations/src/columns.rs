//! Column shapes shared by several migrations.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// A text column that sorts and compares byte-wise on every backend: PostgreSQL would otherwise
/// order by the server's locale while SQLite orders by bytes.
pub fn binary_text(manager: &SchemaManager, column: impl IntoIden, nullable: bool) -> ColumnDef {
    let mut definition = ColumnDef::new(column);
    definition.text();
    if nullable {
        definition.null();
    } else {
        definition.not_null();
    }
    if manager.get_database_backend() == DbBackend::Postgres {
        definition.extra("COLLATE \"C\"");
    }
    definition
}

/// A timestamp with time zone, required.
pub fn moment(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

/// A timestamp with time zone, optional.
pub fn moment_null(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .timestamp_with_time_zone()
        .null()
        .take()
}
