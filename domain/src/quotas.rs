//! Per-customer limits on what is stored: how many assets, and how many bytes.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};

use crate::Domain;
use crate::entities::asset;
use crate::error::{Error, ErrorKind, Result};

/// Limits per customer; 0 means no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quotas {
    pub max_assets: u64,
    pub max_bytes: u64,
}

impl Domain {
    /// Refuses `adding` more assets when the customer would go over its asset limit, or already
    /// stores as many bytes as it may. Called inside the registering transaction.
    pub(crate) async fn check_quota(
        &self,
        connection: &impl ConnectionTrait,
        customer_id: i32,
        adding: u64,
    ) -> Result<()> {
        let quotas = self.inner.quotas;
        if quotas.max_assets > 0 {
            let held = asset::Entity::find()
                .filter(asset::Column::CustomerId.eq(customer_id))
                .count(connection)
                .await?;
            if held + adding > quotas.max_assets {
                return Err(Error::new(
                    ErrorKind::QuotaExceeded,
                    format!(
                        "the customer holds {held} of its {} assets; {adding} more would go over",
                        quotas.max_assets
                    ),
                ));
            }
        }
        if quotas.max_bytes > 0 {
            // PostgreSQL sums bigints as numeric: cast back so both backends give an i64
            let stored: Option<i64> = asset::Entity::find()
                .select_only()
                .column_as(
                    Expr::cust("CAST(COALESCE(SUM(bytes_stored), 0) AS BIGINT)"),
                    "stored",
                )
                .filter(asset::Column::CustomerId.eq(customer_id))
                .into_tuple::<i64>()
                .one(connection)
                .await?;
            let stored = stored.unwrap_or(0).max(0) as u64;
            if stored >= quotas.max_bytes {
                return Err(Error::new(
                    ErrorKind::QuotaExceeded,
                    format!(
                        "the customer stores {stored} bytes, its limit is {}",
                        quotas.max_bytes
                    ),
                ));
            }
        }
        Ok(())
    }
}
