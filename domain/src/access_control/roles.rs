//! Roles: what assets require, each granted by one of the customer's auth services; their
//! management, and the check that the roles given to a viewer exist.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entities::{auth_service, customer, role};
use crate::error::{Error, Result};
use crate::model::decode_list;
use crate::{Domain, Principal, validate};

/// A new role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleInput {
    pub name: String,
    pub label: Option<String>,
    pub auth_service: String,
}

/// Changes to a role: `None` keeps a field, `Some(None)` clears the label.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolePatch {
    pub label: Option<Option<String>>,
    pub auth_service: Option<String>,
}

/// A role as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: i64,
    pub customer: String,
    pub name: String,
    pub label: Option<String>,
    pub auth_service: String,
    pub created: DateTime<Utc>,
}

fn role_name(name: &str) -> Result<()> {
    validate::labels("role name", std::slice::from_ref(&name.to_owned())).map(|_| ())
}

impl Domain {
    // ---- management: roles ----------------------------------------------------------------

    /// Adds a role, granted by one of the customer's auth services.
    pub async fn create_role(
        &self,
        principal: &Principal,
        customer: &str,
        input: RoleInput,
    ) -> Result<Role> {
        let owner = self.customer_in_scope(principal, customer).await?;
        role_name(&input.name)?;
        if let Some(label) = &input.label {
            validate::display_text("label", label)?;
        }
        let service = self.service_row(&owner, &input.auth_service).await?;
        let row = role::ActiveModel {
            customer_id: Set(owner.id),
            name: Set(input.name.clone()),
            label: Set(input.label),
            auth_service_id: Set(service.id),
            created: Set(Utc::now()),
            ..Default::default()
        }
        .insert(self.db())
        .await;
        match row {
            Ok(row) => Ok(role_from_row(row, &owner.name, service.name)),
            Err(error) if Error::is_unique_violation(&error) => Err(Error::conflict(format!(
                "a role called {:?} already exists",
                input.name
            ))),
            Err(error) => Err(error.into()),
        }
    }

    /// Changes a role's label or the service that grants it.
    pub async fn update_role(
        &self,
        principal: &Principal,
        customer: &str,
        name: &str,
        patch: RolePatch,
    ) -> Result<Role> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let row = self.role_row(&owner, name).await?;
        if let Some(Some(label)) = &patch.label {
            validate::display_text("label", label)?;
        }
        let service = match &patch.auth_service {
            Some(service) => self.service_row(&owner, service).await?,
            None => auth_service::Entity::find_by_id(row.auth_service_id)
                .one(self.db())
                .await?
                .ok_or_else(|| Error::internal("a role's auth service is missing"))?,
        };
        let mut active: role::ActiveModel = row.into();
        if let Some(label) = patch.label {
            active.label = Set(label);
        }
        active.auth_service_id = Set(service.id);
        let row = active.update(self.db()).await?;
        Ok(role_from_row(row, &owner.name, service.name))
    }

    /// Removes a role no viewer holds. Assets that still require it are refused to everyone
    /// (403) until their roles change.
    pub async fn delete_role(
        &self,
        principal: &Principal,
        customer: &str,
        name: &str,
    ) -> Result<bool> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let row = self.role_row(&owner, name).await?;
        let holders = self
            .viewer_rows(owner.id)
            .await?
            .into_iter()
            .filter(|viewer| {
                decode_list::<String>(&viewer.roles).is_ok_and(|roles| roles.contains(&row.name))
            })
            .count();
        if holders > 0 {
            return Err(Error::conflict(format!(
                "{holders} viewer(s) hold role {name:?}: take it from them first"
            )));
        }
        role::Entity::delete_by_id(row.id).exec(self.db()).await?;
        Ok(true)
    }

    /// A customer's roles, by name.
    pub async fn roles(&self, principal: &Principal, customer: &str) -> Result<Vec<Role>> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let services: BTreeMap<i64, String> = auth_service::Entity::find()
            .filter(auth_service::Column::CustomerId.eq(owner.id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|service| (service.id, service.name))
            .collect();
        let rows = role::Entity::find()
            .filter(role::Column::CustomerId.eq(owner.id))
            .order_by_asc(role::Column::Name)
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let service = services
                    .get(&row.auth_service_id)
                    .cloned()
                    .unwrap_or_default();
                role_from_row(row, &owner.name, service)
            })
            .collect())
    }

    async fn role_row(&self, owner: &customer::Model, name: &str) -> Result<role::Model> {
        let missing =
            || Error::not_found(format!("customer {:?} has no role {name:?}", owner.name));
        if !validate::storable(name) {
            return Err(missing());
        }
        role::Entity::find()
            .filter(role::Column::CustomerId.eq(owner.id))
            .filter(role::Column::Name.eq(name))
            .one(self.db())
            .await?
            .ok_or_else(missing)
    }

    /// Checks that every role exists; returns them deduplicated.
    pub(super) async fn existing_roles(
        &self,
        owner: &customer::Model,
        roles: &[String],
    ) -> Result<Vec<String>> {
        let roles = validate::labels("roles", roles)?;
        let known: Vec<String> = role::Entity::find()
            .filter(role::Column::CustomerId.eq(owner.id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|role| role.name)
            .collect();
        if let Some(unknown) = roles.iter().find(|role| !known.contains(role)) {
            return Err(Error::invalid_input(format!(
                "customer {:?} has no role {unknown:?}",
                owner.name
            )));
        }
        Ok(roles)
    }
}

fn role_from_row(row: role::Model, customer: &str, auth_service: String) -> Role {
    Role {
        id: row.id,
        customer: customer.to_owned(),
        name: row.name,
        label: row.label,
        auth_service,
        created: row.created,
    }
}
