//! Customers: the tenants, and what hangs off them.

use async_graphql::{
    ComplexObject, Context, InputObject, MaybeUndefined, Object, Result, SimpleObject,
};
use chrono::{DateTime, Utc};

use super::access::{AuthServiceObject, RoleObject, ViewerObject};
use super::batches::BatchObject;
use super::connection::{PagedConnection, connection, page_complexity};
use super::context::{call, request_context};
use super::keys::ApiKeyObject;
use super::origin_rules::OriginRuleObject;
use super::presentation::{NamedQueryObject, PresentationObject, PresentationPatchFields};
use super::spaces::{SpaceObject, keep_or_set};

/// A tenant: an institution with its own spaces, assets and keys.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Customer", complex)]
pub struct CustomerObject {
    /// URL-safe name that addresses the customer in every URL.
    pub name: String,
    /// Human-readable name.
    pub display_name: String,
    /// How manifests of the customer's assets are presented (spaces may override).
    pub presentation: PresentationObject,
    /// When the customer was created.
    pub created: DateTime<Utc>,
}

impl From<domain::Customer> for CustomerObject {
    fn from(customer: domain::Customer) -> Self {
        Self {
            name: customer.name,
            display_name: customer.display_name,
            presentation: customer.presentation.into(),
            created: customer.created,
        }
    }
}

#[ComplexObject]
impl CustomerObject {
    /// The IIIF Presentation 3.0 collection of the customer's spaces.
    async fn collection(&self, ctx: &Context<'_>) -> Result<String> {
        let base_url = &request_context(ctx)?.base_url;
        Ok(
            domain::Links::new(base_url, iiif::presentation::Version::V3)
                .collection(&self.name, None, None),
        )
    }

    /// The customer's named queries, by name.
    #[graphql(complexity = "super::limits::unpaged_complexity(child_complexity)")]
    async fn named_queries(&self, ctx: &Context<'_>) -> Result<Vec<NamedQueryObject>> {
        let base_url = request_context(ctx)?.base_url.clone();
        let queries = call(ctx, |domain, principal| async move {
            domain.named_queries(&principal, &self.name).await
        })
        .await?;
        Ok(queries
            .into_iter()
            .map(|query| NamedQueryObject::new(query, &base_url))
            .collect())
    }

    /// The customer's spaces, by number.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn spaces(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many spaces to return (at most 1000; default 100).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return the spaces after this cursor.")] after: Option<String>,
    ) -> Result<PagedConnection<SpaceObject>> {
        let page = domain::PageRequest::new(first, after);
        let spaces = call(ctx, |domain, principal| async move {
            domain.spaces(&principal, &self.name, &page).await
        })
        .await?;
        Ok(connection(spaces, SpaceObject::from))
    }

    /// The customer's auth services, by name.
    #[graphql(complexity = "super::limits::unpaged_complexity(child_complexity)")]
    async fn auth_services(&self, ctx: &Context<'_>) -> Result<Vec<AuthServiceObject>> {
        let services = call(ctx, |domain, principal| async move {
            domain.auth_services(&principal, &self.name).await
        })
        .await?;
        Ok(services.into_iter().map(AuthServiceObject::from).collect())
    }

    /// The customer's roles, by name.
    #[graphql(complexity = "super::limits::unpaged_complexity(child_complexity)")]
    async fn roles(&self, ctx: &Context<'_>) -> Result<Vec<RoleObject>> {
        let roles = call(ctx, |domain, principal| async move {
            domain.roles(&principal, &self.name).await
        })
        .await?;
        Ok(roles.into_iter().map(RoleObject::from).collect())
    }

    /// The customer's viewer accounts, by username (passwords are not shown).
    #[graphql(complexity = "super::limits::unpaged_complexity(child_complexity)")]
    async fn viewers(&self, ctx: &Context<'_>) -> Result<Vec<ViewerObject>> {
        let viewers = call(ctx, |domain, principal| async move {
            domain.viewers(&principal, &self.name).await
        })
        .await?;
        Ok(viewers.into_iter().map(ViewerObject::from).collect())
    }

    /// The customer's origin rules, in the order they are tried (passwords are not shown).
    #[graphql(complexity = "super::limits::unpaged_complexity(child_complexity)")]
    async fn origin_rules(&self, ctx: &Context<'_>) -> Result<Vec<OriginRuleObject>> {
        let rules = call(ctx, |domain, principal| async move {
            domain.origin_rules(&principal, &self.name).await
        })
        .await?;
        Ok(rules.into_iter().map(OriginRuleObject::from).collect())
    }

    /// The customer's batches, newest first.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn batches(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many batches to return (at most 1000; default 100).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return the batches after this cursor.")] after: Option<String>,
        #[graphql(default = false, desc = "Only batches that have not finished.")] active: bool,
    ) -> Result<PagedConnection<BatchObject>> {
        let page = domain::PageRequest::new(first, after);
        let batches = call(ctx, |domain, principal| async move {
            let listing = if active {
                domain::BatchListing::Active
            } else {
                domain::BatchListing::All
            };
            domain.batches(&principal, &self.name, listing, &page).await
        })
        .await?;
        Ok(connection(batches, BatchObject::from))
    }

    /// The customer's API keys, oldest first; secrets are never shown again.
    #[graphql(complexity = "super::limits::unpaged_complexity(child_complexity)")]
    async fn api_keys(&self, ctx: &Context<'_>) -> Result<Vec<ApiKeyObject>> {
        let keys = call(ctx, |domain, principal| async move {
            domain.api_keys(&principal, &self.name).await
        })
        .await?;
        Ok(keys.into_iter().map(ApiKeyObject::from).collect())
    }
}

/// A new customer.
#[derive(InputObject, Debug)]
pub struct CreateCustomerInput {
    /// URL-safe name: 1 to 64 characters of a-z, 0-9, '-' and '_'.
    pub name: String,
    /// Human-readable name; defaults to the name.
    pub display_name: Option<String>,
}

/// Changes to a customer: only the fields given change; `null` clears a presentation field.
#[derive(InputObject, Debug)]
pub struct CustomerPatch {
    /// New human-readable name.
    pub display_name: MaybeUndefined<String>,
    #[graphql(flatten)]
    pub presentation: PresentationPatchFields,
}

#[derive(Default, Debug)]
pub struct CustomerQuery;

/// Who the caller is, as far as the management API is concerned.
#[derive(SimpleObject)]
pub struct Me {
    /// The key or token's key the caller presented.
    key: String,
    /// Whether the caller acts on every customer (an admin key).
    admin: bool,
    /// The customer a customer key acts for; null for admin keys.
    customer: Option<String>,
}

#[Object]
impl CustomerQuery {
    /// The caller: its key and what it may act on (UNAUTHENTICATED without a credential).
    async fn me(&self, ctx: &Context<'_>) -> Result<Me> {
        match super::context::principal(ctx)? {
            domain::Principal::Admin { key } => Ok(Me {
                key,
                admin: true,
                customer: None,
            }),
            domain::Principal::Customer { key, customer, .. } => Ok(Me {
                key,
                admin: false,
                customer: Some(customer),
            }),
            _ => Err(crate::error::graphql_error(domain::Error::unauthenticated(
                "sign in with an API key or a login token",
            ))),
        }
    }

    /// One customer by name (admin keys, or the customer's own keys).
    async fn customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] name: String,
    ) -> Result<CustomerObject> {
        let customer = call(ctx, |domain, principal| async move {
            domain.customer(&principal, &name).await
        })
        .await?;
        Ok(customer.into())
    }

    /// Every customer, by name (admin keys only).
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many customers to return (at most 1000; default 100).")]
        first: Option<i32>,
        #[graphql(desc = "Return the customers after this cursor.")] after: Option<String>,
    ) -> Result<PagedConnection<CustomerObject>> {
        let page = domain::PageRequest::new(first, after);
        let customers = call(ctx, |domain, principal| async move {
            domain.customers(&principal, &page).await
        })
        .await?;
        Ok(connection(customers, CustomerObject::from))
    }
}

#[derive(Default, Debug)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// Creates a customer (admin keys only).
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new customer.")] input: CreateCustomerInput,
    ) -> Result<CustomerObject> {
        let input = domain::CustomerInput {
            name: input.name,
            display_name: input.display_name,
        };
        let customer = call(ctx, |domain, principal| async move {
            domain.create_customer(&principal, input).await
        })
        .await?;
        Ok(customer.into())
    }

    /// Changes a customer's display name or presentation settings (admin keys, or the
    /// customer's own keys).
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] name: String,
        #[graphql(desc = "The fields to change.")] patch: CustomerPatch,
    ) -> Result<CustomerObject> {
        let patch = domain::CustomerPatch {
            display_name: keep_or_set("displayName", patch.display_name)?,
            presentation: patch.presentation.into(),
        };
        let customer = call(ctx, |domain, principal| async move {
            domain.update_customer(&principal, &name, patch).await
        })
        .await?;
        Ok(customer.into())
    }
}
