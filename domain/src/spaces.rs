//! Spaces: numbered containers of a customer's assets, with the defaults new assets take.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entities::{asset, customer, space};
use crate::error::{Error, Result};
use crate::fields::{self, FieldDefinition};
use crate::model::{Space, encode_list};
use crate::paging::{Page, PageRequest};
use crate::presentation::{PresentationPatch, PresentationSettings};
use crate::{Domain, Principal, validate};

/// Longest-edge sizes of the thumbnails made for each image, unless the space says otherwise.
pub const DEFAULT_THUMBNAIL_SIZES: [i32; 4] = [100, 200, 400, 1024];

/// A new space.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpaceInput {
    pub name: String,
    pub default_roles: Vec<String>,
    pub default_tags: Vec<String>,
    /// -1 (the default) leaves new assets open.
    pub default_max_unauthorised: Option<i32>,
    pub thumbnail_sizes: Option<Vec<i32>>,
    /// The descriptive fields its assets carry.
    pub fields: Vec<FieldDefinition>,
    /// Whether visitors can see its assets (the default).
    pub published: Option<bool>,
}

/// Changes to a space; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpacePatch {
    pub name: Option<String>,
    pub default_roles: Option<Vec<String>>,
    pub default_tags: Option<Vec<String>>,
    pub default_max_unauthorised: Option<i32>,
    pub thumbnail_sizes: Option<Vec<i32>>,
    pub presentation: PresentationPatch,
    /// The whole new list of descriptive fields. Values assets hold for a field no longer
    /// declared are kept until the asset's fields next change, but never shown.
    pub fields: Option<Vec<FieldDefinition>>,
    pub published: Option<bool>,
}

impl Domain {
    /// Creates a space with the customer's next number; numbers of deleted spaces are never
    /// handed out again, since they appear in public URLs.
    pub async fn create_space(
        &self,
        principal: &Principal,
        customer: &str,
        input: SpaceInput,
    ) -> Result<Space> {
        let owner = self.customer_in_scope(principal, customer).await?;
        validate::display_text("space name", &input.name)?;
        let roles = validate::labels("defaultRoles", &input.default_roles)?;
        let tags = validate::labels("defaultTags", &input.default_tags)?;
        let max_unauthorised = input.default_max_unauthorised.unwrap_or(-1);
        validate::max_unauthorised(max_unauthorised)?;
        let thumbnail_sizes = validate::thumbnail_sizes(
            &input
                .thumbnail_sizes
                .unwrap_or(DEFAULT_THUMBNAIL_SIZES.to_vec()),
        )?;
        fields::check_definitions(&input.fields)?;
        let txn = self.begin_write().await?;
        // taking the number locks the customer's row, so concurrent creations queue here
        customer::Entity::update_many()
            .col_expr(
                customer::Column::NextSpace,
                Expr::col(customer::Column::NextSpace).add(1),
            )
            .filter(customer::Column::Id.eq(owner.id))
            .exec(&txn)
            .await?;
        let next: Option<i32> = customer::Entity::find_by_id(owner.id)
            .select_only()
            .column(customer::Column::NextSpace)
            .into_tuple()
            .one(&txn)
            .await?;
        let number =
            next.ok_or_else(|| Error::not_found(format!("no customer named {customer:?}")))? - 1;
        self.ensure_space_name_free(&txn, owner.id, &input.name, None)
            .await?;
        let row = space::ActiveModel {
            customer_id: Set(owner.id),
            id: Set(number),
            name: Set(input.name.clone()),
            default_roles: Set(encode_list(&roles)),
            default_tags: Set(encode_list(&tags)),
            default_max_unauthorised: Set(max_unauthorised),
            thumbnail_sizes: Set(encode_list(&thumbnail_sizes)),
            created: Set(Utc::now()),
            presentation: Set(None),
            fields: Set(fields::encode(&input.fields)),
            published: Set(input.published.unwrap_or(true)),
        };
        let inserted = match row.insert(&txn).await {
            Ok(inserted) => inserted,
            Err(error) if Error::is_unique_violation(&error) => {
                return Err(space_name_taken(&input.name));
            }
            Err(error) => return Err(error.into()),
        };
        txn.commit().await?;
        Space::from_row(inserted, &owner.name)
    }

    /// Changes the fields a patch names and leaves the others.
    pub async fn update_space(
        &self,
        principal: &Principal,
        customer: &str,
        id: i32,
        patch: SpacePatch,
    ) -> Result<Space> {
        let (owner, current) = self.space_in_scope(principal, customer, id).await?;
        let settings = PresentationSettings::decode(current.presentation.as_deref())?
            .apply(patch.presentation)?;
        let mut row = current.into_active_model();
        row.presentation = Set(settings.encode());
        if let Some(name) = patch.name {
            validate::display_text("space name", &name)?;
            self.ensure_space_name_free(self.db(), owner.id, &name, Some(id))
                .await?;
            row.name = Set(name);
        }
        if let Some(roles) = patch.default_roles {
            row.default_roles = Set(encode_list(&validate::labels("defaultRoles", &roles)?));
        }
        if let Some(tags) = patch.default_tags {
            row.default_tags = Set(encode_list(&validate::labels("defaultTags", &tags)?));
        }
        if let Some(max_unauthorised) = patch.default_max_unauthorised {
            validate::max_unauthorised(max_unauthorised)?;
            row.default_max_unauthorised = Set(max_unauthorised);
        }
        if let Some(sizes) = patch.thumbnail_sizes {
            row.thumbnail_sizes = Set(encode_list(&validate::thumbnail_sizes(&sizes)?));
        }
        if let Some(declared) = patch.fields {
            fields::check_definitions(&declared)?;
            row.fields = Set(fields::encode(&declared));
        }
        if let Some(published) = patch.published {
            row.published = Set(published);
        }
        match row.update(self.db()).await {
            Ok(row) => Space::from_row(row, &owner.name),
            Err(error) if Error::is_unique_violation(&error) => {
                Err(Error::conflict("another space already has that name"))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Deletes an empty space; a space that still holds assets is refused with CONFLICT.
    pub async fn delete_space(
        &self,
        principal: &Principal,
        customer: &str,
        id: i32,
    ) -> Result<bool> {
        let (owner, _) = self.space_in_scope(principal, customer, id).await?;
        let txn = self.begin_write().await?;
        let assets = asset::Entity::find()
            .filter(asset::Column::CustomerId.eq(owner.id))
            .filter(asset::Column::SpaceId.eq(id))
            .count(&txn)
            .await?;
        if assets > 0 {
            return Err(Error::conflict(format!(
                "space {id} still holds {assets} asset(s); delete them first"
            )));
        }
        space::Entity::delete_by_id((owner.id, id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(true)
    }

    /// One space of a customer.
    pub async fn space(&self, principal: &Principal, customer: &str, id: i32) -> Result<Space> {
        let (owner, row) = self.space_in_scope(principal, customer, id).await?;
        Space::from_row(row, &owner.name)
    }

    /// A customer's spaces, by number.
    pub async fn spaces(
        &self,
        principal: &Principal,
        customer: &str,
        page: &PageRequest,
    ) -> Result<Page<Space>> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let window = page.window()?;
        let query = space::Entity::find().filter(space::Column::CustomerId.eq(owner.id));
        let total = query.clone().count(self.db()).await?;
        let rows = query
            .order_by_asc(space::Column::Id)
            .offset(window.offset)
            .limit(window.limit)
            .all(self.db())
            .await?;
        Page::new(window, rows, total).try_map(|row| Space::from_row(row, &owner.name))
    }

    /// Checks access to the customer, then loads the space (NOT_FOUND when missing).
    pub(crate) async fn space_in_scope(
        &self,
        principal: &Principal,
        customer: &str,
        id: i32,
    ) -> Result<(customer::Model, space::Model)> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let row = space::Entity::find_by_id((owner.id, id))
            .one(self.db())
            .await?
            .ok_or_else(|| Error::not_found(format!("customer {customer:?} has no space {id}")))?;
        Ok((owner, row))
    }

    async fn ensure_space_name_free(
        &self,
        connection: &impl ConnectionTrait,
        customer_id: i32,
        name: &str,
        except: Option<i32>,
    ) -> Result<()> {
        let mut query = space::Entity::find()
            .filter(space::Column::CustomerId.eq(customer_id))
            .filter(space::Column::Name.eq(name));
        if let Some(id) = except {
            query = query.filter(space::Column::Id.ne(id));
        }
        if query.count(connection).await? > 0 {
            return Err(space_name_taken(name));
        }
        Ok(())
    }
}

fn space_name_taken(name: &str) -> Error {
    Error::conflict(format!("a space named {name:?} already exists"))
}
