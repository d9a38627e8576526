//! API keys and management tokens.

use async_graphql::{Context, Object, Result, SimpleObject};
use auth::ApiKeyCredential;
use chrono::{DateTime, Utc};

use super::context::{call, domain};
use crate::error::graphql_error;

/// An API key as listed: its public key only.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "ApiKey")]
pub struct ApiKeyObject {
    /// The public half, sent as the user name of HTTP Basic.
    pub key: String,
    /// When the key was created.
    pub created: DateTime<Utc>,
}

impl From<domain::ApiKey> for ApiKeyObject {
    fn from(key: domain::ApiKey) -> Self {
        Self {
            key: key.key,
            created: key.created,
        }
    }
}

/// A key just created. The secret is shown this once and cannot be read again.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "CreatedApiKey")]
pub struct CreatedApiKeyObject {
    /// The public half, sent as the user name of HTTP Basic.
    pub key: String,
    /// The secret half, sent as the password of HTTP Basic. Store it now.
    pub secret: String,
    /// The customer the key acts for.
    pub customer: Option<String>,
}

#[derive(Default, Debug)]
pub struct KeyMutation;

#[Object]
impl KeyMutation {
    /// Creates an API key for a customer (admin keys, or the customer's own keys).
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
    ) -> Result<CreatedApiKeyObject> {
        let created = call(ctx, |domain, principal| async move {
            domain.create_api_key(&principal, &customer).await
        })
        .await?;
        Ok(CreatedApiKeyObject {
            key: created.key,
            secret: created.secret,
            customer: created.customer,
        })
    }

    /// Deletes one of a customer's API keys; tokens issued for it stop working too.
    async fn delete_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The public half of the key to delete.")] key: String,
    ) -> Result<bool> {
        call(ctx, |domain, principal| async move {
            domain.delete_api_key(&principal, &customer, &key).await
        })
        .await
    }

    /// Exchanges an API key and secret for a signed token to send as `Authorization: Bearer`.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The public half of the key.")] key: String,
        #[graphql(desc = "The key's secret.")] secret: String,
    ) -> Result<String> {
        if key.is_empty() || secret.is_empty() {
            return Err(graphql_error(domain::Error::unauthenticated(
                "invalid credential",
            )));
        }
        let credential = ApiKeyCredential { key, secret };
        let domain = domain(ctx)?;
        // checked (and throttled) like a Basic credential first; then the token is signed
        super::context::request_context(ctx)?
            .check_key(domain, &credential)
            .await
            .map_err(graphql_error)?;
        domain.login(&credential).await.map_err(graphql_error)
    }
}
