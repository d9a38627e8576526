//! Reading assets: one by id, and pages of a space's assets with exact-match filters and
//! orderings (ties, and missing values, fall back to the id).

use sea_orm::sea_query::{NullOrdering, Query};
use sea_orm::{
    ColumnTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{References, asset_missing};
use crate::entities::{asset, asset_field, asset_tag, customer};
use crate::error::{Error, Result};
use crate::fields::{self, FieldDefinition, FieldValue};
use crate::model::{Asset, AssetStatus};
use crate::paging::{Page, PageRequest};
use crate::{Domain, Principal, validate};

/// Exact-match filters on a space's assets; every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetFilter {
    /// Assets holding exactly each reference given.
    pub references: References,
    pub tag: Option<String>,
    /// Assets carrying every one of these tags (as well as `tag`).
    pub tags: Vec<String>,
    pub status: Option<AssetStatus>,
    pub media_type: Option<String>,
    /// Assets holding each of these values of each field given.
    pub fields: Vec<FieldValue>,
    /// Only published (or only unpublished) assets.
    pub published: Option<bool>,
}

impl AssetFilter {
    fn validate(&self) -> Result<()> {
        let texts = [&self.tag, &self.media_type];
        if !self.references.filterable()
            || texts
                .into_iter()
                .flatten()
                .chain(&self.tags)
                .chain(self.fields.iter().flat_map(|field| &field.values))
                .chain(self.fields.iter().map(|field| &field.key))
                .any(|text| !validate::storable(text))
        {
            return Err(Error::invalid_input(
                "filters must not contain NUL characters",
            ));
        }
        Ok(())
    }
}

/// Fields assets can be ordered by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum AssetOrderField {
    /// The asset's id, byte-wise.
    #[default]
    Id,
    /// When the asset was registered.
    Created,
    #[cfg_attr(feature = "graphql", graphql(name = "STRING1"))]
    String1,
    #[cfg_attr(feature = "graphql", graphql(name = "STRING2"))]
    String2,
    #[cfg_attr(feature = "graphql", graphql(name = "STRING3"))]
    String3,
    #[cfg_attr(feature = "graphql", graphql(name = "NUMBER1"))]
    Number1,
    #[cfg_attr(feature = "graphql", graphql(name = "NUMBER2"))]
    Number2,
    #[cfg_attr(feature = "graphql", graphql(name = "NUMBER3"))]
    Number3,
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

/// An ordering; ties (and missing values, which sort last) fall back to the id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssetOrder {
    pub field: AssetOrderField,
    pub direction: SortDirection,
}

impl AssetOrderField {
    fn column(self) -> asset::Column {
        use super::{NUMBER_COLUMNS, STRING_COLUMNS};
        match self {
            AssetOrderField::Id => asset::Column::Id,
            AssetOrderField::Created => asset::Column::Created,
            AssetOrderField::String1 => STRING_COLUMNS[0],
            AssetOrderField::String2 => STRING_COLUMNS[1],
            AssetOrderField::String3 => STRING_COLUMNS[2],
            AssetOrderField::Number1 => NUMBER_COLUMNS[0],
            AssetOrderField::Number2 => NUMBER_COLUMNS[1],
            AssetOrderField::Number3 => NUMBER_COLUMNS[2],
        }
    }
}

impl Domain {
    /// One asset.
    pub async fn asset(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        id: &str,
    ) -> Result<Asset> {
        let (owner, _) = self.space_in_scope(principal, customer, space).await?;
        let row = self
            .find_asset(self.db(), owner.id, space, id)
            .await?
            .ok_or_else(|| asset_missing(customer, space, id))?;
        Asset::from_row(row, &owner.name)
    }

    /// A page of a space's assets matching a filter, in an order.
    pub async fn assets(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        filter: &AssetFilter,
        order: AssetOrder,
        page: &PageRequest,
    ) -> Result<Page<Asset>> {
        let (owner, space_row) = self.space_in_scope(principal, customer, space).await?;
        let window = page.window()?;
        filter.validate()?;
        let declared: Vec<FieldDefinition> = fields::decode(space_row.fields.as_deref())?;
        let filter = AssetFilter {
            fields: fields::normalised_filter(&declared, &filter.fields)?,
            ..filter.clone()
        };
        let query = filtered(&owner, space, &filter);
        let total = query.clone().count(self.db()).await?;
        let direction = match order.direction {
            SortDirection::Asc => Order::Asc,
            SortDirection::Desc => Order::Desc,
        };
        let mut ordered =
            query.order_by_with_nulls(order.field.column(), direction, NullOrdering::Last);
        if order.field != AssetOrderField::Id {
            ordered = ordered.order_by_asc(asset::Column::Id);
        }
        let rows = ordered
            .offset(window.offset)
            .limit(window.limit)
            .all(self.db())
            .await?;
        Page::new(window, rows, total).try_map(|row| Asset::from_row(row, &owner.name))
    }
}

fn filtered(
    owner: &customer::Model,
    space: i32,
    filter: &AssetFilter,
) -> sea_orm::Select<asset::Entity> {
    let mut query = asset::Entity::find()
        .filter(asset::Column::CustomerId.eq(owner.id))
        .filter(asset::Column::SpaceId.eq(space));
    query = filter.references.filter(query);
    if let Some(media_type) = &filter.media_type {
        query = query.filter(asset::Column::MediaType.eq(media_type.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(asset::Column::Status.eq(status.as_str()));
    }
    for tag in filter.tag.iter().chain(&filter.tags) {
        let tagged = Query::select()
            .column(asset_tag::Column::AssetId)
            .from(asset_tag::Entity)
            .and_where(asset_tag::Column::CustomerId.eq(owner.id))
            .and_where(asset_tag::Column::SpaceId.eq(space))
            .and_where(asset_tag::Column::Tag.eq(tag.as_str()))
            .to_owned();
        query = query.filter(asset::Column::Id.in_subquery(tagged));
    }
    for field in &filter.fields {
        for value in &field.values {
            let holding = Query::select()
                .column(asset_field::Column::AssetId)
                .from(asset_field::Entity)
                .and_where(asset_field::Column::Value.eq(value.as_str()))
                .and_where(asset_field::Column::CustomerId.eq(owner.id))
                .and_where(asset_field::Column::SpaceId.eq(space))
                .and_where(asset_field::Column::Key.eq(field.key.as_str()))
                .to_owned();
            query = query.filter(asset::Column::Id.in_subquery(holding));
        }
    }
    if let Some(published) = filter.published {
        query = query.filter(asset::Column::Published.eq(published));
    }
    query
}
