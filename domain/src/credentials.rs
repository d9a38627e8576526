//! Authentication: API keys (created, listed, deleted, checked) and management tokens.

use auth::{ApiKeyCredential, JwtSigner, Principal, SecretVerifier, constant_time_eq};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use crate::entities::{api_key, customer};
use crate::error::{Error, Result};
use crate::model::{ApiKey, CreatedApiKey};
use crate::{Domain, validate};

/// How credentials are checked, from configuration.
#[derive(Clone)]
pub struct CredentialSettings {
    /// The secret management tokens are signed with.
    pub jwt_secret: Vec<u8>,
    /// How long a token from `login` stays valid.
    pub jwt_ttl_seconds: i64,
    /// An admin `key:secret` from configuration, accepted besides the stored keys.
    pub static_admin: Option<ApiKeyCredential>,
}

impl std::fmt::Debug for CredentialSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialSettings")
            .field("jwt_secret", &"***")
            .field("jwt_ttl_seconds", &self.jwt_ttl_seconds)
            .field("static_admin", &self.static_admin)
            .finish()
    }
}

pub(crate) struct Credentials {
    signer: JwtSigner,
    static_admin: Option<ApiKeyCredential>,
    verifier: std::sync::Arc<SecretVerifier>,
    /// Bounds concurrent password hashing to the number of cores.
    hashing: tokio::sync::Semaphore,
}

impl Credentials {
    pub(crate) fn new(settings: CredentialSettings) -> Self {
        Self {
            signer: JwtSigner::new(&settings.jwt_secret, settings.jwt_ttl_seconds),
            static_admin: settings.static_admin,
            verifier: std::sync::Arc::new(SecretVerifier::new()),
            hashing: tokio::sync::Semaphore::new(
                std::thread::available_parallelism()
                    .map(usize::from)
                    .unwrap_or(1),
            ),
        }
    }
}

fn invalid_credential() -> Error {
    Error::unauthenticated("invalid credential")
}

fn revoked_token() -> Error {
    Error::unauthenticated("token was issued under a secret that has since changed; log in again")
}

impl Domain {
    /// Resolves a `key:secret` credential to its principal, or UNAUTHENTICATED. Every refusal
    /// runs the same password hash, so timing tells nothing about which half was wrong.
    pub async fn authenticate_key(&self, credential: &ApiKeyCredential) -> Result<Principal> {
        let credentials = &self.inner.credentials;
        if let Some(admin) = &credentials.static_admin
            && constant_time_eq(admin.key.as_bytes(), credential.key.as_bytes())
        {
            if constant_time_eq(admin.secret.as_bytes(), credential.secret.as_bytes()) {
                return Ok(Principal::Admin {
                    key: admin.key.clone(),
                });
            }
            self.check_secret("", &credential.secret, &DUMMY_HASH)
                .await?;
            return Err(invalid_credential());
        }
        let row = match validate::storable(&credential.key) {
            true => {
                api_key::Entity::find_by_id(credential.key.clone())
                    .one(self.db())
                    .await?
            }
            false => None,
        };
        let Some(row) = row else {
            self.check_secret("", &credential.secret, &DUMMY_HASH)
                .await?;
            return Err(invalid_credential());
        };
        if !self
            .check_secret(&row.key, &credential.secret, &row.secret_hash)
            .await?
        {
            return Err(invalid_credential());
        }
        self.principal_for_key(row).await
    }

    /// Verifies a secret off the async runtime, with at most one hash per core at a time so a
    /// flood of bad credentials cannot take every thread.
    pub(crate) async fn check_secret(
        &self,
        key: &str,
        secret: &str,
        stored_hash: &str,
    ) -> Result<bool> {
        let credentials = &self.inner.credentials;
        let _permit = credentials
            .hashing
            .acquire()
            .await
            .map_err(|_| Error::internal("credential checks are shut down"))?;
        let verifier = credentials.verifier.clone();
        let (key, secret, stored_hash) =
            (key.to_owned(), secret.to_owned(), stored_hash.to_owned());
        tokio::task::spawn_blocking(move || verifier.verify(&key, &secret, &stored_hash))
            .await
            .map_err(|error| Error::internal(format!("credential check failed: {error}")))
    }

    /// Resolves a management token from `login` to its principal. The key it was issued for
    /// must still exist with the secret it had then: deleting a key, or changing the static
    /// admin secret in configuration, ends its tokens too.
    pub async fn authenticate_token(&self, token: &str) -> Result<Principal> {
        let credentials = &self.inner.credentials;
        let signer = &credentials.signer;
        let claims = signer.verify(token)?;
        if let Some(admin) = &credentials.static_admin
            && constant_time_eq(admin.key.as_bytes(), claims.sub.as_bytes())
        {
            if !signer.is_bound_to(&claims, &admin.secret) {
                return Err(revoked_token());
            }
            return Ok(Principal::Admin {
                key: admin.key.clone(),
            });
        }
        if !validate::storable(&claims.sub) {
            return Err(invalid_credential());
        }
        let row = api_key::Entity::find_by_id(claims.sub.clone())
            .one(self.db())
            .await?
            .ok_or_else(invalid_credential)?;
        // a stored key's secret is known only by its hash, which changes with the secret
        if !signer.is_bound_to(&claims, &row.secret_hash) {
            return Err(revoked_token());
        }
        self.principal_for_key(row).await
    }

    /// Exchanges a key and secret for a signed management token, bound to the secret the
    /// key has now.
    pub async fn login(&self, credential: &ApiKeyCredential) -> Result<String> {
        let principal = self.authenticate_key(credential).await?;
        let key = principal.key().ok_or_else(invalid_credential)?;
        let credentials = &self.inner.credentials;
        let secret_version_source = match &credentials.static_admin {
            Some(admin) if admin.key == key => admin.secret.clone(),
            _ => {
                api_key::Entity::find_by_id(key.to_owned())
                    .one(self.db())
                    .await?
                    .ok_or_else(invalid_credential)?
                    .secret_hash
            }
        };
        Ok(credentials.signer.issue(key, &secret_version_source)?)
    }

    async fn principal_for_key(&self, row: api_key::Model) -> Result<Principal> {
        let Some(customer_id) = row.customer_id else {
            return Ok(Principal::Admin { key: row.key });
        };
        let customer = customer::Entity::find_by_id(customer_id)
            .one(self.db())
            .await?
            .ok_or_else(invalid_credential)?;
        Ok(Principal::Customer {
            key: row.key,
            customer_id,
            customer: customer.name,
        })
    }

    /// Creates a key for a customer; its secret is returned once and only its hash is kept.
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        customer: &str,
    ) -> Result<CreatedApiKey> {
        let owner = self.customer_in_scope(principal, customer).await?;
        self.insert_api_key(Some(owner.id), Some(owner.name)).await
    }

    /// Creates an admin key. For the operator at the command line and the first start of an
    /// empty installation; no remote call reaches this.
    pub async fn create_admin_key(&self) -> Result<CreatedApiKey> {
        self.insert_api_key(None, None).await
    }

    /// Whether any admin key is stored.
    pub async fn has_admin_keys(&self) -> Result<bool> {
        let count = api_key::Entity::find()
            .filter(api_key::Column::CustomerId.is_null())
            .count(self.db())
            .await?;
        Ok(count > 0)
    }

    async fn insert_api_key(
        &self,
        customer_id: Option<i32>,
        customer: Option<String>,
    ) -> Result<CreatedApiKey> {
        let generated = tokio::task::spawn_blocking(auth::generate_api_key)
            .await
            .map_err(|error| Error::internal(format!("key generation failed: {error}")))??;
        api_key::ActiveModel {
            key: Set(generated.key.clone()),
            customer_id: Set(customer_id),
            secret_hash: Set(generated.secret_hash),
            created: Set(Utc::now()),
        }
        .insert(self.db())
        .await?;
        Ok(CreatedApiKey {
            key: generated.key,
            secret: generated.secret,
            customer,
        })
    }

    /// Deletes one of a customer's keys. Unknown keys, and keys of other customers, are
    /// NOT_FOUND.
    pub async fn delete_api_key(
        &self,
        principal: &Principal,
        customer: &str,
        key: &str,
    ) -> Result<bool> {
        let owner = self.customer_in_scope(principal, customer).await?;
        if !validate::storable(key) {
            return Err(Error::not_found(format!(
                "customer {customer:?} has no key {key:?}"
            )));
        }
        let deleted = api_key::Entity::delete_many()
            .filter(api_key::Column::Key.eq(key))
            .filter(api_key::Column::CustomerId.eq(owner.id))
            .exec(self.db())
            .await?;
        if deleted.rows_affected == 0 {
            return Err(Error::not_found(format!(
                "customer {customer:?} has no key {key:?}"
            )));
        }
        Ok(true)
    }

    /// A customer's keys, oldest first, without their secrets.
    pub async fn api_keys(&self, principal: &Principal, customer: &str) -> Result<Vec<ApiKey>> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let rows = api_key::Entity::find()
            .filter(api_key::Column::CustomerId.eq(owner.id))
            .order_by_asc(api_key::Column::Created)
            .order_by_asc(api_key::Column::Key)
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| ApiKey::from_row(row, Some(owner.name.clone())))
            .collect())
    }
}

/// A hash of a random value, checked against when a key is unknown.
pub(crate) static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    auth::hash_secret(&auth::generate_signing_secret()).unwrap_or_default()
});
