//! Origin rules: a customer's credentials for origins that need them. A rule is a regular
//! expression over origin URLs and the HTTP basic credentials sent to the http(s) origins it
//! matches. The password is stored for sending and never returned.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entities::origin_rule;
use crate::error::{Error, Result};
use crate::{Domain, Principal, validate};

/// Longest pattern accepted, in bytes (and the compiled size is bounded too).
const MAX_PATTERN_BYTES: usize = 1000;

/// A new rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginRuleInput {
    pub pattern: String,
    pub username: String,
    pub password: String,
}

/// A rule as shown: without its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginRule {
    pub id: i64,
    pub customer: String,
    pub pattern: String,
    pub username: String,
    pub created: chrono::DateTime<Utc>,
}

/// Credentials to send to an origin.
#[derive(Clone, PartialEq, Eq)]
pub struct OriginCredentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for OriginCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OriginCredentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
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
            username: row.username,
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
        compile(&input.pattern)?;
        if input.username.is_empty() || input.username.contains(':') {
            return Err(Error::invalid_input(
                "username must be non-empty and must not contain ':'",
            ));
        }
        for (field, value) in [("username", &input.username), ("password", &input.password)] {
            if !validate::storable(value) || value.chars().any(char::is_control) {
                return Err(Error::invalid_input(format!(
                    "{field} must not contain control characters"
                )));
            }
        }
        let row = origin_rule::ActiveModel {
            customer_id: Set(owner.id),
            pattern: Set(input.pattern),
            username: Set(input.username),
            password: Set(input.password),
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

    /// The credentials of the first rule of a customer that matches an http(s) origin.
    pub async fn origin_credentials(
        &self,
        customer_id: i32,
        origin: &str,
    ) -> Result<Option<OriginCredentials>> {
        if !(origin.starts_with("http://") || origin.starts_with("https://")) {
            return Ok(None);
        }
        let rows = origin_rule::Entity::find()
            .filter(origin_rule::Column::CustomerId.eq(customer_id))
            .order_by_asc(origin_rule::Column::Id)
            .all(self.db())
            .await?;
        for row in rows {
            // a stored pattern always compiled once; skip it rather than fail if it no longer does
            if compile(&row.pattern).is_ok_and(|pattern| covers_host(&pattern, origin)) {
                return Ok(Some(OriginCredentials {
                    username: row.username,
                    password: row.password,
                }));
            }
        }
        Ok(None)
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
