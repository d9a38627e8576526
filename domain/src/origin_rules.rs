//! Origin rules: a customer's credentials for origins that need them. A rule is a regular
//! expression over origin URLs and either HTTP basic credentials sent to the http(s) origins it
//! matches, or an S3 access key (with region and endpoint) used for the `s3://` origins it
//! matches. The password or secret is stored sealed (see `origin_secrets`) and never returned.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entities::origin_rule;
use crate::error::{Error, Result};
use crate::{Domain, Principal, validate};

/// Longest pattern accepted, in bytes (and the compiled size is bounded too).
const MAX_PATTERN_BYTES: usize = 1000;
/// Longest username, access key id, region or endpoint accepted, in bytes.
const MAX_FIELD_BYTES: usize = 1000;

/// How a rule's credentials are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginStrategy {
    /// HTTP basic credentials for http(s) origins.
    Basic,
    /// An S3 access key for `s3://` origins.
    S3,
}

impl OriginStrategy {
    fn as_str(self) -> &'static str {
        match self {
            OriginStrategy::Basic => "basic",
            OriginStrategy::S3 => "s3",
        }
    }

    fn of_row(text: &str) -> Option<Self> {
        match text {
            "basic" => Some(OriginStrategy::Basic),
            "s3" => Some(OriginStrategy::S3),
            _ => None,
        }
    }

    /// The strategy that serves origins of a URL scheme.
    fn for_scheme(scheme: &str) -> Option<Self> {
        match scheme {
            "http" | "https" => Some(OriginStrategy::Basic),
            "s3" => Some(OriginStrategy::S3),
            _ => None,
        }
    }
}

/// A new rule. For [`OriginStrategy::S3`], `username` is the access key id and `password` the
/// secret access key; `region` and `endpoint` apply to S3 rules only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginRuleInput {
    pub pattern: String,
    pub strategy: OriginStrategy,
    pub username: String,
    pub password: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
}

/// A rule as shown: without its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginRule {
    pub id: i64,
    pub customer: String,
    pub pattern: String,
    pub strategy: OriginStrategy,
    pub username: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub created: chrono::DateTime<Utc>,
}

/// An S3 access key for a customer's buckets.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Credentials {
    /// The rule they come from, to name in messages.
    pub rule: i64,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Empty for the default (`us-east-1`).
    pub region: String,
    /// `http(s)://host[:port]` of an S3-compatible service; AWS when `None`.
    pub endpoint: Option<String>,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Credentials")
            .field("rule", &self.rule)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// Credentials to use for an origin.
#[derive(Clone, PartialEq, Eq)]
pub enum OriginCredentials {
    /// HTTP basic credentials for an http(s) origin.
    Basic { username: String, password: String },
    /// An S3 access key for an `s3://` origin.
    S3(S3Credentials),
    /// A rule matched but its stored secret cannot be read: it was sealed under another
    /// signing secret. The rule has to be created again.
    Unreadable { rule: i64 },
}

impl std::fmt::Debug for OriginCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OriginCredentials::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"***")
                .finish(),
            OriginCredentials::S3(s3) => f.debug_tuple("S3").field(s3).finish(),
            OriginCredentials::Unreadable { rule } => {
                f.debug_struct("Unreadable").field("rule", rule).finish()
            }
        }
    }
}

/// Refuses text the database cannot store or that would smuggle control characters into a
/// header or a request.
fn plain_field(field: &str, value: &str) -> Result<()> {
    if value.len() > MAX_FIELD_BYTES
        || !validate::storable(value)
        || value.chars().any(char::is_control)
    {
        return Err(Error::invalid_input(format!(
            "{field} must be at most {MAX_FIELD_BYTES} bytes without control characters"
        )));
    }
    Ok(())
}

/// An S3 endpoint as stored: `http(s)://host[:port]`, with no credentials, path or query.
fn s3_endpoint(text: &str) -> Result<String> {
    let invalid = || {
        Error::invalid_input(format!(
            "endpoint must be an http(s) URL such as https://s3.example.org:9000, got {text:?}"
        ))
    };
    let url = url::Url::parse(text).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
        || url.path() != "/"
    {
        return Err(invalid());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// An S3 region: lower-case letters, digits and dashes.
fn s3_region(text: &str) -> Result<String> {
    if text.is_empty()
        || text.len() > 64
        || !text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(Error::invalid_input(format!(
            "region must be lower-case letters, digits and dashes, such as eu-west-1, got {text:?}"
        )));
    }
    Ok(text.to_owned())
}

/// Checks a new rule and returns its region and endpoint as stored.
fn checked(input: &OriginRuleInput) -> Result<(Option<String>, Option<String>)> {
    compile(&input.pattern)?;
    plain_field("username", &input.username)?;
    plain_field("password", &input.password)?;
    match input.strategy {
        OriginStrategy::Basic => {
            if input.username.is_empty() || input.username.contains(':') {
                return Err(Error::invalid_input(
                    "username must be non-empty and must not contain ':'",
                ));
            }
            if input.region.is_some() || input.endpoint.is_some() {
                return Err(Error::invalid_input(
                    "region and endpoint apply to S3 rules only",
                ));
            }
            Ok((None, None))
        }
        OriginStrategy::S3 => {
            if input.username.is_empty() || input.password.is_empty() {
                return Err(Error::invalid_input(
                    "an S3 rule needs the access key id as username and the secret access key as password",
                ));
            }
            let region = input.region.as_deref().map(s3_region).transpose()?;
            let endpoint = input.endpoint.as_deref().map(s3_endpoint).transpose()?;
            Ok((region, endpoint))
        }
    }
}

fn compile(pattern: &str) -> Result<regex::Regex> {
    if pattern.is_empty() || pattern.len() > MAX_PATTERN_BYTES {
        return Err(Error::invalid_input(format!(
            "pattern must be 1 to {MAX_PATTERN_BYTES} bytes"
        )));
    }
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|error| {
            Error::invalid_input(format!("pattern is not a regular expression: {error}"))
        })
}

/// Whether a pattern matches an origin from its start through the whole of its host and port,
/// so that credentials meant for one host never go to another whose URL merely contains it
/// (`https://evil.net/?https://media.example.org/`, `https://media.example.org.evil.net/`).
fn covers_host(pattern: &regex::Regex, origin: &str) -> bool {
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    // where the authority ends: the first '/', '?' or '#' after "scheme://"
    let after_scheme = url.scheme().len() + 3;
    let authority_end = origin[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(origin.len(), |end| after_scheme + end);
    pattern
        .find_iter(origin)
        .any(|found| found.start() == 0 && found.end() >= authority_end)
}

impl OriginRule {
    fn from_row(row: origin_rule::Model, customer: &str) -> Self {
        Self {
            id: row.id,
            customer: customer.to_owned(),
            pattern: row.pattern,
            strategy: OriginStrategy::of_row(&row.strategy).unwrap_or(OriginStrategy::Basic),
            username: row.username,
            region: row.region,
            endpoint: row.endpoint,
            created: row.created,
        }
    }
}

impl Domain {
    /// Adds a rule; rules are tried in the order they were added.
    pub async fn create_origin_rule(
        &self,
        principal: &Principal,
        customer: &str,
        input: OriginRuleInput,
    ) -> Result<OriginRule> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let (region, endpoint) = checked(&input)?;
        let password = self.origin_secrets().seal(owner.id, &input.password)?;
        let row = origin_rule::ActiveModel {
            customer_id: Set(owner.id),
            pattern: Set(input.pattern),
            strategy: Set(input.strategy.as_str().to_owned()),
            username: Set(input.username),
            password: Set(password),
            region: Set(region),
            endpoint: Set(endpoint),
            sealed: Set(true),
            created: Set(Utc::now()),
            ..Default::default()
        }
        .insert(self.db())
        .await?;
        Ok(OriginRule::from_row(row, &owner.name))
    }

    /// A customer's rules, in the order they are tried.
    pub async fn origin_rules(
        &self,
        principal: &Principal,
        customer: &str,
    ) -> Result<Vec<OriginRule>> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let rows = origin_rule::Entity::find()
            .filter(origin_rule::Column::CustomerId.eq(owner.id))
            .order_by_asc(origin_rule::Column::Id)
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| OriginRule::from_row(row, &owner.name))
            .collect())
    }

    /// Removes a rule.
    pub async fn delete_origin_rule(
        &self,
        principal: &Principal,
        customer: &str,
        id: i64,
    ) -> Result<bool> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let deleted = origin_rule::Entity::delete_many()
            .filter(origin_rule::Column::Id.eq(id))
            .filter(origin_rule::Column::CustomerId.eq(owner.id))
            .exec(self.db())
            .await?;
        if deleted.rows_affected == 0 {
            return Err(Error::not_found(format!(
                "customer {customer:?} has no origin rule {id}"
            )));
        }
        Ok(true)
    }

    /// The credentials of the first rule of a customer that matches an origin and serves its
    /// scheme: a basic rule for http(s), an S3 rule for `s3://`.
    pub async fn origin_credentials(
        &self,
        customer_id: i32,
        origin: &str,
    ) -> Result<Option<OriginCredentials>> {
        let Some(wanted) = origin
            .split_once("://")
            .and_then(|(scheme, _)| OriginStrategy::for_scheme(scheme))
        else {
            return Ok(None);
        };
        let rows = origin_rule::Entity::find()
            .filter(origin_rule::Column::CustomerId.eq(customer_id))
            .filter(origin_rule::Column::Strategy.eq(wanted.as_str()))
            .order_by_asc(origin_rule::Column::Id)
            .all(self.db())
            .await?;
        for row in rows {
            // a stored pattern always compiled once; skip it rather than fail if it no longer does
            if !compile(&row.pattern).is_ok_and(|pattern| covers_host(&pattern, origin)) {
                continue;
            }
            let secret = if row.sealed {
                match self.origin_secrets().open(customer_id, &row.password) {
                    Some(secret) => secret,
                    None => return Ok(Some(OriginCredentials::Unreadable { rule: row.id })),
                }
            } else {
                row.password
            };
            return Ok(Some(match wanted {
                OriginStrategy::Basic => OriginCredentials::Basic {
                    username: row.username,
                    password: secret,
                },
                OriginStrategy::S3 => OriginCredentials::S3(S3Credentials {
                    rule: row.id,
                    access_key_id: row.username,
                    secret_access_key: secret,
                    region: row.region.unwrap_or_default(),
                    endpoint: row.endpoint,
                }),
            }));
        }
        Ok(None)
    }

    /// Seals the secrets of rules stored before secrets were sealed; returns how many. Run at
    /// start: until then such rules are read as they are.
    pub async fn seal_plain_origin_secrets(&self) -> Result<u64> {
        let rows = origin_rule::Entity::find()
            .filter(origin_rule::Column::Sealed.eq(false))
            .all(self.db())
            .await?;
        let mut sealed = 0;
        for row in rows {
            let password = self.origin_secrets().seal(row.customer_id, &row.password)?;
            let updated = origin_rule::Entity::update_many()
                .col_expr(origin_rule::Column::Password, Expr::value(password))
                .col_expr(origin_rule::Column::Sealed, Expr::value(true))
                .filter(origin_rule::Column::Id.eq(row.id))
                .filter(origin_rule::Column::Sealed.eq(false))
                .exec(self.db())
                .await?;
            sealed += updated.rows_affected;
        }
        Ok(sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_whole_hosts_from_the_start() {
        let rule = compile(r"https://media\.example\.org").unwrap();
        assert!(covers_host(&rule, "https://media.example.org/a.jpg"));
        assert!(covers_host(&rule, "https://media.example.org"));
        assert!(!covers_host(
            &rule,
            "https://media.example.org.evil.net/a.jpg"
        ));
        assert!(!covers_host(
            &rule,
            "https://evil.net/?https://media.example.org/"
        ));
        let anchored = compile(r"^https://media\.example\.org/private/").unwrap();
        assert!(covers_host(
            &anchored,
            "https://media.example.org/private/a.jpg"
        ));
        assert!(!covers_host(
            &anchored,
            "https://media.example.org/public/a.jpg"
        ));
        let port = compile(r"http://127\.0\.0\.1:8000/").unwrap();
        assert!(covers_host(&port, "http://127.0.0.1:8000/x"));
        assert!(!covers_host(&port, "http://127.0.0.1:80001/x"));
    }
}
