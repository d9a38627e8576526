//! Named queries: a customer's stored templates that turn asset metadata into manifests, such
//! as "the assets whose string1 is this book, by number1".

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, Order, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::template::{SortKey, SpaceRef, Template};
use crate::entities::{asset, asset_tag, customer, named_query, space};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Asset, AssetStatus, decode_list};
use crate::{Domain, Principal};

/// Most canvases a named-query manifest may hold; a query matching more is refused rather
/// than cut short.
pub const MAX_QUERY_CANVASES: u64 = 10_000;

/// A stored named query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedQuery {
    pub customer: String,
    pub name: String,
    pub template: String,
    /// How many path parameters its URL takes after the name.
    pub parameters: usize,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

impl NamedQuery {
    fn from_row(row: named_query::Model, customer: &str) -> Result<Self> {
        let parameters = Template::parse(&row.template)?.parameters;
        Ok(Self {
            customer: customer.to_owned(),
            name: row.name,
            template: row.template,
            parameters,
            created: row.created,
            updated: row.updated,
        })
    }
}

/// A new named query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedQueryInput {
    pub name: String,
    pub template: String,
}

/// Changes to a named query; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamedQueryPatch {
    pub name: Option<String>,
    pub template: Option<String>,
}

/// A query name: one URL segment of 1 to 64 characters of `A-Z a-z 0-9 - _ .`, starting
/// with a letter or digit.
fn check_name(name: &str) -> Result<()> {
    let valid = name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if valid {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidName,
            "a query name is 1 to 64 characters of A-Z, a-z, 0-9, '-', '_' and '.', starting with a letter or digit",
        ))
    }
}

fn query_missing(customer: &str, name: &str) -> Error {
    Error::not_found(format!("customer {customer:?} has no named query {name:?}"))
}

fn name_taken(name: &str) -> Error {
    Error::conflict(format!("a named query called {name:?} already exists"))
}

/// What a search over a named query needs: its assets in canvas order, with what decides who
/// may read their text, and the query's result with only the asset that describes it (for
/// the manifest's label).
#[derive(Debug)]
pub(crate) struct QueryMembers {
    pub first: QueryResult,
    pub members: Vec<Member>,
}

/// An asset a named query selected, with its access settings.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub space: i32,
    pub id: String,
    pub roles: Vec<String>,
    pub max_unauthorised: i32,
}

/// What a named query selected: its template, the assets in canvas order, and the one space
/// they were selected from, when the query names one.
#[derive(Debug)]
pub(crate) struct QueryResult {
    pub template: Template,
    pub assets: Vec<Asset>,
    pub space: Option<space::Model>,
}

impl Domain {
    /// Creates a named query after checking its name and template.
    pub async fn create_named_query(
        &self,
        principal: &Principal,
        customer: &str,
        input: NamedQueryInput,
    ) -> Result<NamedQuery> {
        let owner = self.customer_in_scope(principal, customer).await?;
        check_name(&input.name)?;
        Template::parse(&input.template)?;
        if self.find_query(owner.id, &input.name).await?.is_some() {
            return Err(name_taken(&input.name));
        }
        let now = Utc::now();
        let inserted = named_query::ActiveModel {
            customer_id: Set(owner.id),
            name: Set(input.name.clone()),
            template: Set(input.template),
            created: Set(now),
            updated: Set(now),
            ..Default::default()
        }
        .insert(self.db())
        .await;
        match inserted {
            Ok(row) => NamedQuery::from_row(row, &owner.name),
            Err(error) if Error::is_unique_violation(&error) => Err(name_taken(&input.name)),
            Err(error) => Err(error.into()),
        }
    }

    /// Renames a named query or changes its template.
    pub async fn update_named_query(
        &self,
        principal: &Principal,
        customer: &str,
        name: &str,
        patch: NamedQueryPatch,
    ) -> Result<NamedQuery> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let current = self
            .find_query(owner.id, name)
            .await?
            .ok_or_else(|| query_missing(customer, name))?;
        let mut row = current.into_active_model();
        if let Some(new_name) = &patch.name {
            check_name(new_name)?;
            if new_name != name && self.find_query(owner.id, new_name).await?.is_some() {
                return Err(name_taken(new_name));
            }
            row.name = Set(new_name.clone());
        }
        if let Some(template) = patch.template {
            Template::parse(&template)?;
            row.template = Set(template);
        }
        row.updated = Set(Utc::now());
        match row.update(self.db()).await {
            Ok(row) => NamedQuery::from_row(row, &owner.name),
            Err(error) if Error::is_unique_violation(&error) => {
                Err(name_taken(patch.name.as_deref().unwrap_or(name)))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Deletes a named query; its manifest URLs then answer 404.
    pub async fn delete_named_query(
        &self,
        principal: &Principal,
        customer: &str,
        name: &str,
    ) -> Result<bool> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let deleted = named_query::Entity::delete_many()
            .filter(named_query::Column::CustomerId.eq(owner.id))
            .filter(named_query::Column::Name.eq(name))
            .exec(self.db())
            .await?;
        if deleted.rows_affected == 0 {
            return Err(query_missing(customer, name));
        }
        Ok(true)
    }

    /// A customer's named queries, by name.
    pub async fn named_queries(
        &self,
        principal: &Principal,
        customer: &str,
    ) -> Result<Vec<NamedQuery>> {
        let owner = self.customer_in_scope(principal, customer).await?;
        named_query::Entity::find()
            .filter(named_query::Column::CustomerId.eq(owner.id))
            .order_by_asc(named_query::Column::Name)
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| NamedQuery::from_row(row, &owner.name))
            .collect()
    }

    /// One named query.
    pub async fn named_query(
        &self,
        principal: &Principal,
        customer: &str,
        name: &str,
    ) -> Result<NamedQuery> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let row = self
            .find_query(owner.id, name)
            .await?
            .ok_or_else(|| query_missing(customer, name))?;
        NamedQuery::from_row(row, &owner.name)
    }

    /// The first `limit` assets a named query would put in its manifest with these
    /// parameters, in order. Only those rows are read, so a preview costs its page.
    pub async fn preview_named_query(
        &self,
        principal: &Principal,
        customer: &str,
        name: &str,
        parameters: &[String],
        limit: u64,
    ) -> Result<Vec<Asset>> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let (_, select, _) = self.query_selection(&owner, name, parameters).await?;
        let rows = select
            .limit(Ord::min(limit, MAX_QUERY_CANVASES))
            .all(self.db())
            .await?;
        rows.into_iter()
            .map(|row| Asset::from_row(row, &owner.name))
            .collect()
    }

    async fn find_query(&self, customer_id: i32, name: &str) -> Result<Option<named_query::Model>> {
        if !crate::validate::storable(name) {
            return Ok(None);
        }
        Ok(named_query::Entity::find()
            .filter(named_query::Column::CustomerId.eq(customer_id))
            .filter(named_query::Column::Name.eq(name))
            .one(self.db())
            .await?)
    }

    /// Runs a named query: its READY assets, in canvas order.
    pub(crate) async fn run_query(
        &self,
        owner: &customer::Model,
        name: &str,
        parameters: &[String],
    ) -> Result<QueryResult> {
        let (template, select, space) = self.query_selection(owner, name, parameters).await?;
        let rows = select.all(self.db()).await?;
        check_canvas_count(rows.len())?;
        let assets = rows
            .into_iter()
            .map(|row| Asset::from_row(row, &owner.name))
            .collect::<Result<Vec<_>>>()?;
        Ok(QueryResult {
            template,
            assets,
            space,
        })
    }

    /// The space, id, roles and maxUnauthorised of each asset a named query selects, in canvas
    /// order, and the asset that describes its manifest whole: what a search over its manifest
    /// needs (who may read each asset's text is decided per request), read without whole rows.
    pub(crate) async fn query_members(
        &self,
        owner: &customer::Model,
        name: &str,
        parameters: &[String],
    ) -> Result<QueryMembers> {
        let (template, select, space) = self.query_selection(owner, name, parameters).await?;
        let rows: Vec<(i32, String, String, i32)> = select
            .clone()
            .select_only()
            .column(asset::Column::SpaceId)
            .column(asset::Column::Id)
            .column(asset::Column::Roles)
            .column(asset::Column::MaxUnauthorised)
            .into_tuple()
            .all(self.db())
            .await?;
        check_canvas_count(rows.len())?;
        let mut members = Vec::with_capacity(rows.len());
        for (space, id, roles, max_unauthorised) in rows {
            members.push(Member {
                space,
                id,
                roles: decode_list(&roles)?,
                max_unauthorised,
            });
        }
        // the asset that describes the manifest (its label), as the manifest chooses it
        let chosen = template
            .describe
            .pick(&members, |member| &member.id, parameters);
        let first = match chosen {
            Some(member) => asset::Entity::find_by_id((owner.id, member.space, member.id.clone()))
                .one(self.db())
                .await?
                .map(|row| Asset::from_row(row, &owner.name))
                .transpose()?
                .into_iter()
                .collect(),
            None => Vec::new(),
        };
        Ok(QueryMembers {
            first: QueryResult {
                template,
                assets: first,
                space,
            },
            members,
        })
    }

    /// A named query's template and the ordered selection of its READY assets.
    async fn query_selection(
        &self,
        owner: &customer::Model,
        name: &str,
        parameters: &[String],
    ) -> Result<(
        Template,
        sea_orm::Select<asset::Entity>,
        Option<space::Model>,
    )> {
        let row = self
            .find_query(owner.id, name)
            .await?
            .ok_or_else(|| query_missing(&owner.name, name))?;
        let template = Template::parse(&row.template)?;
        let selection = template.select(parameters)?;
        let mut select = asset::Entity::find()
            .filter(asset::Column::CustomerId.eq(owner.id))
            .filter(asset::Column::Status.eq(AssetStatus::Ready.as_str()))
            .filter(asset::Column::Published.eq(true))
            .filter(asset::Column::SpaceId.in_subquery(published_spaces(owner.id)));
        let mut chosen_space = None;
        if let Some(reference) = &selection.space {
            let found = match reference {
                SpaceRef::Number(number) => {
                    space::Entity::find_by_id((owner.id, *number))
                        .one(self.db())
                        .await?
                }
                SpaceRef::Name(space_name) if crate::validate::storable(space_name) => {
                    space::Entity::find()
                        .filter(space::Column::CustomerId.eq(owner.id))
                        .filter(space::Column::Name.eq(space_name.as_str()))
                        .one(self.db())
                        .await?
                }
                SpaceRef::Name(_) => None,
            };
            let found = found.filter(|space| space.published).ok_or_else(|| {
                Error::not_found(format!("customer {:?} has no such space", owner.name))
            })?;
            select = select.filter(asset::Column::SpaceId.eq(found.id));
            chosen_space = Some(found);
        }
        let string_columns = crate::assets::STRING_COLUMNS;
        for (column, value) in string_columns.into_iter().zip(&selection.strings) {
            if let Some(value) = value {
                if !crate::validate::storable(value) {
                    return Err(Error::bad_request("parameters must not contain NUL"));
                }
                select = select.filter(column.eq(value.as_str()));
            }
        }
        let number_columns = crate::assets::NUMBER_COLUMNS;
        for (column, value) in number_columns.into_iter().zip(selection.numbers) {
            if let Some(value) = value {
                select = select.filter(column.eq(value));
            }
        }
        if let Some(batch) = selection.batch {
            select = select.filter(asset::Column::BatchId.eq(batch));
        }
        if let Some(tag) = &selection.tag {
            if !crate::validate::storable(tag) {
                return Err(Error::bad_request("parameters must not contain NUL"));
            }
            let tagged = Query::select()
                .column(asset_tag::Column::SpaceId)
                .column(asset_tag::Column::AssetId)
                .from(asset_tag::Entity)
                .and_where(asset_tag::Column::CustomerId.eq(owner.id))
                .and_where(asset_tag::Column::Tag.eq(tag.as_str()))
                .to_owned();
            select = select.filter(
                Expr::tuple([
                    Expr::col((asset::Entity, asset::Column::SpaceId)),
                    Expr::col((asset::Entity, asset::Column::Id)),
                ])
                .in_subquery(tagged),
            );
        }
        for (key, descending) in &template.order {
            let column = match key {
                SortKey::Number(index) => number_columns[*index],
                SortKey::String(index) => string_columns[*index],
                SortKey::Id => asset::Column::Id,
                SortKey::Created => asset::Column::Created,
                SortKey::Space => asset::Column::SpaceId,
            };
            let order = if *descending { Order::Desc } else { Order::Asc };
            select =
                select.order_by_with_nulls(column, order, sea_orm::sea_query::NullOrdering::Last);
        }
        let select = select
            .order_by_asc(asset::Column::SpaceId)
            .order_by_asc(asset::Column::Id)
            .limit(MAX_QUERY_CANVASES + 1);
        Ok((template, select, chosen_space))
    }
}

/// The numbers of a customer's published spaces.
pub(crate) fn published_spaces(customer_id: i32) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(space::Column::Id)
        .from(space::Entity)
        .and_where(space::Column::CustomerId.eq(customer_id))
        .and_where(space::Column::Published.eq(true))
        .to_owned()
}

fn check_canvas_count(count: usize) -> Result<()> {
    if count as u64 > MAX_QUERY_CANVASES {
        return Err(Error::bad_request(format!(
            "more than {MAX_QUERY_CANVASES} assets match; narrow the query with more parameters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_names_are_url_segments() {
        assert!(check_name("book-pages_v2.1").is_ok());
        for bad in ["", "-x", "a/b", "a b", "ä", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
