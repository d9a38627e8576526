//! Visitor sessions: the roles granted to a browser (each until its own expiry) and the
//! origins they were granted for, behind a cookie secret stored only as a digest.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::Domain;
use crate::entities::visitor_session;
use crate::error::{Error, Result};
use crate::model::decode_list;

/// A visitor session that has not expired: the roles it holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorSession {
    pub id: i64,
    pub customer_id: i32,
    pub roles: Vec<String>,
    pub origins: Vec<String>,
    /// The live roles granted for each origin ("" for this site's own pages): a role granted
    /// for one origin is never given to another through the same session.
    pub origin_roles: BTreeMap<String, Vec<String>>,
    pub expires: DateTime<Utc>,
}

impl VisitorSession {
    /// Whether an access page opened from `origin` (`None`: this site) granted anything,
    /// even no role.
    pub fn has_origin(&self, origin: Option<&str>) -> bool {
        self.origin_roles.contains_key(origin.unwrap_or(""))
    }

    /// The live roles granted for `origin` (`None`: for this site's own pages).
    pub fn roles_for(&self, origin: Option<&str>) -> Vec<String> {
        self.origin_roles
            .get(origin.unwrap_or(""))
            .cloned()
            .unwrap_or_default()
    }
}

/// What a session secret leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionLookup {
    Missing,
    Expired,
    Live(VisitorSession),
}

/// A session just granted: its number, and the cookie secret when a new one was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedSession {
    pub id: i64,
    pub new_secret: Option<String>,
    pub expires: DateTime<Utc>,
}

type Grants = BTreeMap<String, i64>;

fn now_seconds() -> i64 {
    Utc::now().timestamp()
}

fn live_roles(grants: &Grants, now: i64) -> Vec<String> {
    grants
        .iter()
        .filter(|(_, expires)| **expires > now)
        .map(|(role, _)| role.clone())
        .collect()
}

/// The roles granted per origin ("" for this site's own pages). Stored as a JSON object; a
/// JSON array is a session from before roles were bound to origins, whose every origin (or,
/// when it has none, this site) holds every role it was granted.
type OriginRoles = BTreeMap<String, Vec<String>>;

fn decode_origin_roles(text: &str, grants: &Grants) -> Result<OriginRoles> {
    if let Ok(bound) = serde_json::from_str::<OriginRoles>(text) {
        return Ok(bound);
    }
    let origins: Vec<String> = decode_list(text)?;
    let every_role: Vec<String> = grants.keys().cloned().collect();
    if origins.is_empty() {
        return Ok([(String::new(), every_role)].into());
    }
    Ok(origins
        .into_iter()
        .map(|origin| (origin, every_role.clone()))
        .collect())
}

/// Adds `roles` to those granted for `origin`.
fn bind_roles(origin_roles: &mut OriginRoles, origin: Option<&str>, roles: &[String]) {
    let bound = origin_roles
        .entry(origin.unwrap_or("").to_owned())
        .or_default();
    for role in roles {
        if !bound.contains(role) {
            bound.push(role.clone());
        }
    }
    bound.sort();
}

fn encode_origin_roles(origin_roles: &OriginRoles) -> String {
    serde_json::to_string(origin_roles).expect("origin roles serialise")
}

fn decode_grants(text: &str) -> Result<Grants> {
    serde_json::from_str(text)
        .map_err(|error| Error::internal(format!("corrupt session grants: {error}")))
}

impl Domain {
    /// Grants roles to a visitor until `ttl_seconds` from now: into the live session the
    /// `secret` names, or into a new session (whose secret is returned for the cookie). The
    /// origin an access page was opened from is remembered for the token service.
    pub async fn grant_session(
        &self,
        customer_id: i32,
        secret: Option<&str>,
        roles: &[String],
        ttl_seconds: i32,
        origin: Option<&str>,
        viewer_id: Option<i64>,
    ) -> Result<GrantedSession> {
        let now = now_seconds();
        let until = now + i64::from(ttl_seconds);
        let existing = match secret {
            Some(secret) => self.session_row(customer_id, secret).await?,
            None => None,
        }
        .filter(|row| row.expires.timestamp() > now);
        match existing {
            Some(row) => {
                let mut grants = decode_grants(&row.grants)?;
                let mut origin_roles = decode_origin_roles(&row.origins, &grants)?;
                grants.retain(|_, expires| *expires > now);
                for role in roles {
                    let expires = grants.entry(role.clone()).or_insert(until);
                    *expires = (*expires).max(until);
                }
                // the roles are granted for this origin only: a clickthrough accepted for a
                // new origin does not give it the roles a login granted another
                bind_roles(&mut origin_roles, origin, roles);
                let expires = grants
                    .values()
                    .copied()
                    .max()
                    .unwrap_or(until)
                    .max(row.expires.timestamp());
                let expires = DateTime::from_timestamp(expires, 0).unwrap_or_else(Utc::now);
                let id = row.id;
                let mut active: visitor_session::ActiveModel = row.into();
                active.grants = Set(serde_json::to_string(&grants).expect("grants serialise"));
                active.origins = Set(encode_origin_roles(&origin_roles));
                active.expires = Set(expires);
                // a login gets a new secret: a cookie planted before it is not raised by it
                let mut new_secret = None;
                if viewer_id.is_some() {
                    active.viewer_id = Set(viewer_id);
                    let secret = auth::generate_session_secret();
                    active.secret_digest = Set(auth::session_digest(&secret));
                    new_secret = Some(secret);
                }
                active.update(self.db()).await?;
                Ok(GrantedSession {
                    id,
                    new_secret,
                    expires,
                })
            }
            None => {
                // sessions past their expiry are of no use to anyone: clear them out now
                visitor_session::Entity::delete_many()
                    .filter(
                        visitor_session::Column::Expires.lt(Utc::now() - chrono::Duration::days(1)),
                    )
                    .exec(self.db())
                    .await?;
                let secret = auth::generate_session_secret();
                let grants: Grants = roles.iter().map(|role| (role.clone(), until)).collect();
                let expires = DateTime::from_timestamp(until, 0).unwrap_or_else(Utc::now);
                let row = visitor_session::ActiveModel {
                    customer_id: Set(customer_id),
                    secret_digest: Set(auth::session_digest(&secret)),
                    grants: Set(serde_json::to_string(&grants).expect("grants serialise")),
                    origins: Set(encode_origin_roles(&{
                        let mut origin_roles = OriginRoles::new();
                        bind_roles(&mut origin_roles, origin, roles);
                        origin_roles
                    })),
                    viewer_id: Set(viewer_id),
                    created: Set(Utc::now()),
                    expires: Set(expires),
                    ..Default::default()
                }
                .insert(self.db())
                .await?;
                Ok(GrantedSession {
                    id: row.id,
                    new_secret: Some(secret),
                    expires,
                })
            }
        }
    }

    async fn session_row(
        &self,
        customer_id: i32,
        secret: &str,
    ) -> Result<Option<visitor_session::Model>> {
        Ok(visitor_session::Entity::find()
            .filter(visitor_session::Column::SecretDigest.eq(auth::session_digest(secret)))
            .filter(visitor_session::Column::CustomerId.eq(customer_id))
            .one(self.db())
            .await?)
    }

    fn live_session(row: visitor_session::Model) -> Result<SessionLookup> {
        let now = now_seconds();
        if row.expires.timestamp() <= now {
            return Ok(SessionLookup::Expired);
        }
        let grants = decode_grants(&row.grants)?;
        let roles = live_roles(&grants, now);
        let origin_roles: OriginRoles = decode_origin_roles(&row.origins, &grants)?
            .into_iter()
            .map(|(origin, bound)| {
                let live = bound
                    .into_iter()
                    .filter(|role| roles.contains(role))
                    .collect();
                (origin, live)
            })
            .collect();
        Ok(SessionLookup::Live(VisitorSession {
            id: row.id,
            customer_id: row.customer_id,
            origins: origin_roles
                .keys()
                .filter(|origin| !origin.is_empty())
                .cloned()
                .collect(),
            roles,
            origin_roles,
            expires: row.expires,
        }))
    }

    /// The session a cookie secret names.
    pub async fn visitor_session(&self, customer_id: i32, secret: &str) -> Result<SessionLookup> {
        match self.session_row(customer_id, secret).await? {
            Some(row) => Self::live_session(row),
            None => Ok(SessionLookup::Missing),
        }
    }

    /// The session an access token names (after the token itself was verified).
    pub async fn visitor_session_by_id(&self, customer_id: i32, id: i64) -> Result<SessionLookup> {
        let row = visitor_session::Entity::find_by_id(id)
            .filter(visitor_session::Column::CustomerId.eq(customer_id))
            .one(self.db())
            .await?;
        match row {
            Some(row) => Self::live_session(row),
            None => Ok(SessionLookup::Missing),
        }
    }

    /// Ends the session a cookie secret names, and with it every token issued for it.
    pub async fn end_session(&self, customer_id: i32, secret: &str) -> Result<bool> {
        let deleted = visitor_session::Entity::delete_many()
            .filter(visitor_session::Column::SecretDigest.eq(auth::session_digest(secret)))
            .filter(visitor_session::Column::CustomerId.eq(customer_id))
            .exec(self.db())
            .await?;
        Ok(deleted.rows_affected > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unexpired_grants_count() {
        let grants: Grants = [("a".to_owned(), 100), ("b".to_owned(), 50)].into();
        assert_eq!(live_roles(&grants, 60), vec!["a".to_owned()]);
        assert!(live_roles(&grants, 100).is_empty());
    }
}
