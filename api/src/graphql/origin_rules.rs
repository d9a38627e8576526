//! Origin rules: credentials a customer's origins need.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::context::call;

/// How an origin rule's credentials are used.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "OriginStrategy")]
pub enum OriginStrategyValue {
    /// HTTP basic credentials sent to the http(s) origins the pattern matches.
    Basic,
    /// An S3 access key (`username` the key id, `password` the secret), with `region` and
    /// `endpoint`, used for the `s3://` origins the pattern matches. `s3://` origins are read
    /// only with such a rule, never with the server's own credentials.
    S3,
}

impl From<OriginStrategyValue> for domain::OriginStrategy {
    fn from(strategy: OriginStrategyValue) -> Self {
        match strategy {
            OriginStrategyValue::Basic => Self::Basic,
            OriginStrategyValue::S3 => Self::S3,
        }
    }
}

impl From<domain::OriginStrategy> for OriginStrategyValue {
    fn from(strategy: domain::OriginStrategy) -> Self {
        match strategy {
            domain::OriginStrategy::Basic => Self::Basic,
            domain::OriginStrategy::S3 => Self::S3,
        }
    }
}

/// A new origin rule.
#[derive(InputObject, Debug)]
pub struct OriginRuleInput {
    /// A regular expression over origin URLs, e.g. `https://images\.example\.org/` or
    /// `s3://my-bucket/`. It applies only when it matches from the start of the URL through
    /// its whole host (and port), or bucket.
    pub pattern: String,
    /// How the credentials are used; BASIC unless given.
    #[graphql(default_with = "OriginStrategyValue::Basic")]
    pub strategy: OriginStrategyValue,
    /// BASIC: sent with HTTP basic authentication. S3: the access key id.
    pub username: String,
    /// BASIC: the password. S3: the secret access key. Stored sealed; never returned.
    pub password: String,
    /// S3 only: the bucket's region (default `us-east-1`).
    pub region: Option<String>,
    /// S3 only: an S3-compatible service, `https://host[:port]` (default AWS). Private
    /// addresses are refused unless the server allows private origins.
    pub endpoint: Option<String>,
}

/// Credentials for the origins a pattern matches; rules are tried in the order they were
/// added. The password or secret is not shown.
#[derive(SimpleObject, Debug)]
#[graphql(name = "OriginRule")]
pub struct OriginRuleObject {
    pub id: i64,
    pub customer: String,
    pub pattern: String,
    /// How the credentials are used.
    pub strategy: OriginStrategyValue,
    /// BASIC: the user name. S3: the access key id.
    pub username: String,
    /// S3: the region, when one was given.
    pub region: Option<String>,
    /// S3: the endpoint, when one was given.
    pub endpoint: Option<String>,
    pub created: DateTime<Utc>,
}

impl From<domain::OriginRule> for OriginRuleObject {
    fn from(rule: domain::OriginRule) -> Self {
        Self {
            id: rule.id,
            customer: rule.customer,
            pattern: rule.pattern,
            strategy: rule.strategy.into(),
            username: rule.username,
            region: rule.region,
            endpoint: rule.endpoint,
            created: rule.created,
        }
    }
}

#[derive(Default, Debug)]
pub struct OriginRuleMutation;

#[Object]
impl OriginRuleMutation {
    /// Adds credentials for the customer's origins that match a pattern: HTTP basic for
    /// http(s) origins, or an S3 access key for `s3://` origins.
    async fn create_origin_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The rule.")] input: OriginRuleInput,
    ) -> Result<OriginRuleObject> {
        let input = domain::OriginRuleInput {
            pattern: input.pattern,
            strategy: input.strategy.into(),
            username: input.username,
            password: input.password,
            region: input.region,
            endpoint: input.endpoint,
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
