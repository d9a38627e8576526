//! Origin rules: credentials a customer's origins need.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::context::call;

/// A new origin rule.
#[derive(InputObject, Debug)]
pub struct OriginRuleInput {
    /// A regular expression over origin URLs, e.g. `https://images\.example\.org/`. It applies
    /// only when it matches from the start of the URL through its whole host (and port).
    pub pattern: String,
    /// Sent with HTTP basic authentication to the http(s) origins the pattern matches.
    pub username: String,
    /// Stored for sending; never returned.
    pub password: String,
}

/// Credentials for the origins a pattern matches; rules are tried in the order they were
/// added. The password is not shown.
#[derive(SimpleObject, Debug)]
#[graphql(name = "OriginRule")]
pub struct OriginRuleObject {
    pub id: i64,
    pub customer: String,
    pub pattern: String,
    pub username: String,
    pub created: DateTime<Utc>,
}

impl From<domain::OriginRule> for OriginRuleObject {
    fn from(rule: domain::OriginRule) -> Self {
        Self {
            id: rule.id,
            customer: rule.customer,
            pattern: rule.pattern,
            username: rule.username,
            created: rule.created,
        }
    }
}

#[derive(Default, Debug)]
pub struct OriginRuleMutation;

#[Object]
impl OriginRuleMutation {
    /// Adds credentials for the customer's http(s) origins that match a pattern.
    async fn create_origin_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The rule.")] input: OriginRuleInput,
    ) -> Result<OriginRuleObject> {
        let input = domain::OriginRuleInput {
            pattern: input.pattern,
            username: input.username,
            password: input.password,
        };
        let rule = call(ctx, |domain, principal| async move {
            domain
                .create_origin_rule(&principal, &customer, input)
                .await
        })
        .await?;
        Ok(rule.into())
    }

    /// Removes an origin rule.
    async fn delete_origin_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The rule's number.")] id: i64,
    ) -> Result<bool> {
        call(ctx, |domain, principal| async move {
            domain.delete_origin_rule(&principal, &customer, id).await
        })
        .await
    }
}
