//! Viewer accounts for login services: their management (passwords kept as argon2 hashes
//! only; a changed password or role list ends the viewer's sessions) and the password check
//! a login page makes.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entities::{customer, viewer, visitor_session};
use crate::error::{Error, Result};
use crate::model::{decode_list, encode_list};
use crate::{Domain, Principal, validate};

const MIN_PASSWORD_BYTES: usize = 8;
const MAX_PASSWORD_BYTES: usize = 1024;

/// A new viewer account.
#[derive(Clone, PartialEq, Eq)]
pub struct ViewerInput {
    pub username: String,
    pub password: String,
    pub roles: Vec<String>,
}

impl std::fmt::Debug for ViewerInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewerInput")
            .field("username", &self.username)
            .field("password", &"***")
            .field("roles", &self.roles)
            .finish()
    }
}

/// Changes to a viewer: a new password, or a new list of roles.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ViewerPatch {
    pub password: Option<String>,
    pub roles: Option<Vec<String>>,
}

impl std::fmt::Debug for ViewerPatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewerPatch")
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("roles", &self.roles)
            .finish()
    }
}

/// A viewer account as shown: never its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub id: i64,
    pub customer: String,
    pub username: String,
    pub roles: Vec<String>,
    pub created: DateTime<Utc>,
}

impl Viewer {
    fn from_row(row: viewer::Model, customer: &str) -> Result<Self> {
        Ok(Self {
            id: row.id,
            customer: customer.to_owned(),
            roles: decode_list(&row.roles)?,
            username: row.username,
            created: row.created,
        })
    }
}

impl Domain {
    // ---- management: viewers --------------------------------------------------------------

    /// Adds a viewer account; the password is stored as an argon2 hash only.
    pub async fn create_viewer(
        &self,
        principal: &Principal,
        customer: &str,
        input: ViewerInput,
    ) -> Result<Viewer> {
        let owner = self.customer_in_scope(principal, customer).await?;
        validate::display_text("username", &input.username)?;
        let roles = self.existing_roles(&owner, &input.roles).await?;
        let password_hash = self.hash_password(&input.password).await?;
        let row = viewer::ActiveModel {
            customer_id: Set(owner.id),
            username: Set(input.username.clone()),
            password_hash: Set(password_hash),
            roles: Set(encode_list(&roles)),
            created: Set(Utc::now()),
            ..Default::default()
        }
        .insert(self.db())
        .await;
        match row {
            Ok(row) => Viewer::from_row(row, &owner.name),
            Err(error) if Error::is_unique_violation(&error) => Err(Error::conflict(format!(
                "a viewer called {:?} already exists",
                input.username
            ))),
            Err(error) => Err(error.into()),
        }
    }

    /// Changes a viewer's password or roles; either ends the viewer's sessions.
    pub async fn update_viewer(
        &self,
        principal: &Principal,
        customer: &str,
        username: &str,
        patch: ViewerPatch,
    ) -> Result<Viewer> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let row = self.viewer_row(&owner, username).await?;
        let roles = match &patch.roles {
            Some(roles) => Some(self.existing_roles(&owner, roles).await?),
            None => None,
        };
        let password_hash = match &patch.password {
            Some(password) => Some(self.hash_password(password).await?),
            None => None,
        };
        let id = row.id;
        let mut active: viewer::ActiveModel = row.into();
        if let Some(roles) = roles {
            active.roles = Set(encode_list(&roles));
        }
        let ends_sessions = password_hash.is_some() || patch.roles.is_some();
        if let Some(hash) = password_hash {
            active.password_hash = Set(hash);
        }
        let row = active.update(self.db()).await?;
        if ends_sessions {
            visitor_session::Entity::delete_many()
                .filter(visitor_session::Column::ViewerId.eq(id))
                .exec(self.db())
                .await?;
        }
        Viewer::from_row(row, &owner.name)
    }

    /// Removes a viewer account and ends its sessions.
    pub async fn delete_viewer(
        &self,
        principal: &Principal,
        customer: &str,
        username: &str,
    ) -> Result<bool> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let row = self.viewer_row(&owner, username).await?;
        visitor_session::Entity::delete_many()
            .filter(visitor_session::Column::ViewerId.eq(row.id))
            .exec(self.db())
            .await?;
        viewer::Entity::delete_by_id(row.id).exec(self.db()).await?;
        Ok(true)
    }

    /// A customer's viewer accounts, by username.
    pub async fn viewers(&self, principal: &Principal, customer: &str) -> Result<Vec<Viewer>> {
        let owner = self.customer_in_scope(principal, customer).await?;
        self.viewer_rows(owner.id)
            .await?
            .into_iter()
            .map(|row| Viewer::from_row(row, &owner.name))
            .collect()
    }

    pub(super) async fn viewer_rows(&self, customer_id: i32) -> Result<Vec<viewer::Model>> {
        Ok(viewer::Entity::find()
            .filter(viewer::Column::CustomerId.eq(customer_id))
            .order_by_asc(viewer::Column::Username)
            .all(self.db())
            .await?)
    }

    async fn viewer_row(&self, owner: &customer::Model, username: &str) -> Result<viewer::Model> {
        let missing = || {
            Error::not_found(format!(
                "customer {:?} has no viewer {username:?}",
                owner.name
            ))
        };
        if !validate::storable(username) {
            return Err(missing());
        }
        viewer::Entity::find()
            .filter(viewer::Column::CustomerId.eq(owner.id))
            .filter(viewer::Column::Username.eq(username))
            .one(self.db())
            .await?
            .ok_or_else(missing)
    }

    async fn hash_password(&self, password: &str) -> Result<String> {
        if password.len() < MIN_PASSWORD_BYTES || password.len() > MAX_PASSWORD_BYTES {
            return Err(Error::invalid_input(format!(
                "password must be {MIN_PASSWORD_BYTES} to {MAX_PASSWORD_BYTES} bytes"
            )));
        }
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || auth::hash_secret(&password))
            .await
            .map_err(|error| Error::internal(format!("password hashing failed: {error}")))?
            .map_err(Error::from)
    }

    // ---- visitors -------------------------------------------------------------------------

    /// The roles a viewer's password opens, or `None` for an unknown viewer or a wrong
    /// password; both take the same argon2 time.
    pub async fn check_viewer(
        &self,
        customer_id: i32,
        username: &str,
        password: &str,
    ) -> Result<Option<(i64, Vec<String>)>> {
        let row = if validate::storable(username) {
            viewer::Entity::find()
                .filter(viewer::Column::CustomerId.eq(customer_id))
                .filter(viewer::Column::Username.eq(username))
                .one(self.db())
                .await?
        } else {
            None
        };
        match row {
            Some(row) => {
                let key = format!("viewer/{}", row.id);
                if self
                    .check_secret(&key, password, &row.password_hash)
                    .await?
                {
                    Ok(Some((row.id, decode_list(&row.roles)?)))
                } else {
                    Ok(None)
                }
            }
            None => {
                self.check_secret("", password, &crate::credentials::DUMMY_HASH)
                    .await?;
                Ok(None)
            }
        }
    }
}
