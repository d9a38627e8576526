//! Auth services: how visitors gain access (IIIF Auth 2 profiles: active, kiosk, external),
//! the checks a service must pass as created or patched, and their management.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use crate::entities::{auth_service, customer, role};
use crate::error::{Error, Result};
use crate::model::{decode_list, encode_list};
use crate::{Domain, Principal, validate};

/// Session lifetime when a service does not set one: one hour.
pub const DEFAULT_SESSION_TTL: i32 = 3600;
const MIN_SESSION_TTL: i32 = 60;
const MAX_SESSION_TTL: i32 = 30 * 24 * 3600;
const MAX_TEXT_CHARS: usize = 2000;

/// How a visitor reaches an access service (IIIF Auth 2 profiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessProfile {
    /// The visitor interacts in a new tab: a clickthrough or a login form.
    Active,
    /// Opened without interaction on managed devices; decided by the client's address.
    Kiosk,
    /// No page: an upstream system's cookie or header already says who the visitor is.
    External,
}

/// What an active service asks of the visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveKind {
    Clickthrough,
    Login,
}

impl AccessProfile {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessProfile::Active => "active",
            AccessProfile::Kiosk => "kiosk",
            AccessProfile::External => "external",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "active" => Ok(AccessProfile::Active),
            "kiosk" => Ok(AccessProfile::Kiosk),
            "external" => Ok(AccessProfile::External),
            other => Err(Error::internal(format!("unknown stored profile {other:?}"))),
        }
    }

    /// The order clients try services in: external, kiosk, active.
    pub(super) fn client_order(self) -> u8 {
        match self {
            AccessProfile::External => 0,
            AccessProfile::Kiosk => 1,
            AccessProfile::Active => 2,
        }
    }
}

impl ActiveKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActiveKind::Clickthrough => "clickthrough",
            ActiveKind::Login => "login",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "clickthrough" => Ok(ActiveKind::Clickthrough),
            "login" => Ok(ActiveKind::Login),
            other => Err(Error::internal(format!("unknown stored kind {other:?}"))),
        }
    }
}

/// A new auth service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthServiceInput {
    pub name: String,
    pub profile: AccessProfile,
    pub kind: Option<ActiveKind>,
    pub label: String,
    pub heading: Option<String>,
    pub note: Option<String>,
    pub confirm_label: Option<String>,
    pub ip_ranges: Vec<String>,
    pub trusted_cookie: Option<String>,
    pub trusted_header: Option<String>,
    pub session_ttl: Option<i32>,
}

/// Changes to an auth service: `None` keeps a field, `Some(None)` clears an optional one. The
/// name, profile and kind stay as created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthServicePatch {
    pub label: Option<String>,
    pub heading: Option<Option<String>>,
    pub note: Option<Option<String>>,
    pub confirm_label: Option<Option<String>>,
    pub ip_ranges: Option<Vec<String>>,
    pub trusted_cookie: Option<Option<String>>,
    pub trusted_header: Option<Option<String>>,
    pub session_ttl: Option<i32>,
}

/// An auth service as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthService {
    pub id: i64,
    pub customer: String,
    pub name: String,
    pub profile: AccessProfile,
    pub kind: Option<ActiveKind>,
    pub label: String,
    pub heading: Option<String>,
    pub note: Option<String>,
    pub confirm_label: Option<String>,
    pub ip_ranges: Vec<String>,
    pub trusted_cookie: Option<String>,
    pub trusted_header: Option<String>,
    pub session_ttl: i32,
    pub created: DateTime<Utc>,
}

impl AuthService {
    pub(super) fn from_row(row: auth_service::Model, customer: &str) -> Result<Self> {
        Ok(Self {
            id: row.id,
            customer: customer.to_owned(),
            profile: AccessProfile::parse(&row.profile)?,
            kind: row.kind.as_deref().map(ActiveKind::parse).transpose()?,
            ip_ranges: decode_list(&row.ip_ranges)?,
            name: row.name,
            label: row.label,
            heading: row.heading,
            note: row.note,
            confirm_label: row.confirm_label,
            trusted_cookie: row.trusted_cookie,
            trusted_header: row.trusted_header,
            session_ttl: row.session_ttl,
            created: row.created,
        })
    }

    /// The ranges a kiosk service admits.
    pub fn kiosk_ranges(&self) -> auth::IpRanges {
        auth::IpRanges::parse(&self.ip_ranges).unwrap_or_default()
    }
}

/// A name that appears in URLs: 1 to 64 characters of a-z, 0-9, '-' and '_'.
fn url_name(field: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            crate::ErrorKind::InvalidName,
            format!(
                "{field} must be 1 to 64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit"
            ),
        ))
    }
}

/// Optional text shown to visitors (escaped wherever it is shown): at most 2000 characters,
/// line breaks allowed, no other control characters.
fn visitor_text(field: &str, text: &Option<String>) -> Result<()> {
    if let Some(text) = text {
        let bad = text.trim().is_empty()
            || text.chars().count() > MAX_TEXT_CHARS
            || text.chars().any(|c| c.is_control() && c != '\n');
        if bad {
            return Err(Error::invalid_input(format!(
                "{field} must be 1 to {MAX_TEXT_CHARS} characters without control characters other than line breaks"
            )));
        }
    }
    Ok(())
}

/// An HTTP token (RFC 9110): what cookie and header names are made of.
fn http_token(field: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{field} {name:?} must be a cookie or header name (letters, digits and !#$%&'*+-.^_`|~)"
        )))
    }
}

/// Checks a whole service, as created or as a patch leaves it.
fn check_service(service: &AuthServiceInput) -> Result<()> {
    url_name("auth service name", &service.name)?;
    validate::display_text("label", &service.label)?;
    visitor_text("heading", &service.heading)?;
    visitor_text("note", &service.note)?;
    visitor_text("confirmLabel", &service.confirm_label)?;
    let only = |allowed: bool, field: &str, what: &str| -> Result<()> {
        if allowed {
            Ok(())
        } else {
            Err(Error::invalid_input(format!(
                "{field} applies to {what} services only"
            )))
        }
    };
    let profile = service.profile;
    match (profile, service.kind) {
        (AccessProfile::Active, None) => {
            return Err(Error::invalid_input(
                "an ACTIVE service needs a kind: CLICKTHROUGH or LOGIN",
            ));
        }
        (AccessProfile::Active, Some(_)) | (_, None) => {}
        (_, Some(_)) => {
            return Err(Error::invalid_input("kind applies to ACTIVE services only"));
        }
    }
    only(
        service.ip_ranges.is_empty() || profile == AccessProfile::Kiosk,
        "ipRanges",
        "KIOSK",
    )?;
    if profile == AccessProfile::Kiosk {
        if service.ip_ranges.is_empty() || service.ip_ranges.len() > 100 {
            return Err(Error::invalid_input(
                "a KIOSK service needs 1 to 100 ipRanges",
            ));
        }
        auth::IpRanges::parse(&service.ip_ranges).map_err(Error::invalid_input)?;
    }
    let trusted = [&service.trusted_cookie, &service.trusted_header];
    only(
        trusted.iter().all(|name| name.is_none()) || profile == AccessProfile::External,
        "trustedCookie and trustedHeader",
        "EXTERNAL",
    )?;
    if profile == AccessProfile::External {
        match trusted {
            [Some(cookie), None] => http_token("trustedCookie", cookie)?,
            [None, Some(header)] => http_token("trustedHeader", header)?,
            _ => {
                return Err(Error::invalid_input(
                    "an EXTERNAL service needs exactly one of trustedCookie and trustedHeader",
                ));
            }
        }
    }
    if let Some(ttl) = service.session_ttl
        && !(MIN_SESSION_TTL..=MAX_SESSION_TTL).contains(&ttl)
    {
        return Err(Error::invalid_input(format!(
            "sessionTtl must be {MIN_SESSION_TTL} to {MAX_SESSION_TTL} seconds"
        )));
    }
    Ok(())
}

impl Domain {
    // ---- management: auth services -------------------------------------------------------

    /// Adds an auth service to a customer.
    pub async fn create_auth_service(
        &self,
        principal: &Principal,
        customer: &str,
        input: AuthServiceInput,
    ) -> Result<AuthService> {
        let owner = self.customer_in_scope(principal, customer).await?;
        check_service(&input)?;
        let row = auth_service::ActiveModel {
            customer_id: Set(owner.id),
            name: Set(input.name.clone()),
            profile: Set(input.profile.as_str().to_owned()),
            kind: Set(input.kind.map(|kind| kind.as_str().to_owned())),
            label: Set(input.label),
            heading: Set(input.heading),
            note: Set(input.note),
            confirm_label: Set(input.confirm_label),
            ip_ranges: Set(encode_list(
                &auth::IpRanges::parse(&input.ip_ranges)
                    .map_err(Error::invalid_input)?
                    .to_strings(),
            )),
            trusted_cookie: Set(input.trusted_cookie),
            trusted_header: Set(input.trusted_header),
            session_ttl: Set(input.session_ttl.unwrap_or(DEFAULT_SESSION_TTL)),
            created: Set(Utc::now()),
            ..Default::default()
        }
        .insert(self.db())
        .await;
        match row {
            Ok(row) => AuthService::from_row(row, &owner.name),
            Err(error) if Error::is_unique_violation(&error) => Err(Error::conflict(format!(
                "an auth service called {:?} already exists",
                input.name
            ))),
            Err(error) => Err(error.into()),
        }
    }

    /// Changes an auth service; the result is checked as a whole.
    pub async fn update_auth_service(
        &self,
        principal: &Principal,
        customer: &str,
        name: &str,
        patch: AuthServicePatch,
    ) -> Result<AuthService> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let row = self.service_row(&owner, name).await?;
        let current = AuthService::from_row(row.clone(), &owner.name)?;
        let merged = AuthServiceInput {
            name: current.name,
            profile: current.profile,
            kind: current.kind,
            label: patch.label.unwrap_or(current.label),
            heading: patch.heading.unwrap_or(current.heading),
            note: patch.note.unwrap_or(current.note),
            confirm_label: patch.confirm_label.unwrap_or(current.confirm_label),
            ip_ranges: patch.ip_ranges.unwrap_or(current.ip_ranges),
            trusted_cookie: patch.trusted_cookie.unwrap_or(current.trusted_cookie),
            trusted_header: patch.trusted_header.unwrap_or(current.trusted_header),
            session_ttl: Some(patch.session_ttl.unwrap_or(current.session_ttl)),
        };
        check_service(&merged)?;
        let mut active: auth_service::ActiveModel = row.into();
        active.label = Set(merged.label);
        active.heading = Set(merged.heading);
        active.note = Set(merged.note);
        active.confirm_label = Set(merged.confirm_label);
        active.ip_ranges = Set(encode_list(
            &auth::IpRanges::parse(&merged.ip_ranges)
                .map_err(Error::invalid_input)?
                .to_strings(),
        ));
        active.trusted_cookie = Set(merged.trusted_cookie);
        active.trusted_header = Set(merged.trusted_header);
        active.session_ttl = Set(merged.session_ttl.unwrap_or(DEFAULT_SESSION_TTL));
        AuthService::from_row(active.update(self.db()).await?, &owner.name)
    }

    /// Removes an auth service that no role refers to.
    pub async fn delete_auth_service(
        &self,
        principal: &Principal,
        customer: &str,
        name: &str,
    ) -> Result<bool> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let row = self.service_row(&owner, name).await?;
        let granting = role::Entity::find()
            .filter(role::Column::AuthServiceId.eq(row.id))
            .count(self.db())
            .await?;
        if granting > 0 {
            return Err(Error::conflict(format!(
                "auth service {name:?} grants {granting} role(s): give them another service or delete them first"
            )));
        }
        auth_service::Entity::delete_by_id(row.id)
            .exec(self.db())
            .await?;
        Ok(true)
    }

    /// A customer's auth services, by name.
    pub async fn auth_services(
        &self,
        principal: &Principal,
        customer: &str,
    ) -> Result<Vec<AuthService>> {
        let owner = self.customer_in_scope(principal, customer).await?;
        auth_service::Entity::find()
            .filter(auth_service::Column::CustomerId.eq(owner.id))
            .order_by_asc(auth_service::Column::Name)
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| AuthService::from_row(row, &owner.name))
            .collect()
    }

    /// One of a customer's auth services.
    pub async fn auth_service(
        &self,
        principal: &Principal,
        customer: &str,
        name: &str,
    ) -> Result<AuthService> {
        let owner = self.customer_in_scope(principal, customer).await?;
        AuthService::from_row(self.service_row(&owner, name).await?, &owner.name)
    }

    pub(super) async fn service_row(
        &self,
        owner: &customer::Model,
        name: &str,
    ) -> Result<auth_service::Model> {
        let missing = || {
            Error::not_found(format!(
                "customer {:?} has no auth service {name:?}",
                owner.name
            ))
        };
        if !validate::storable(name) {
            return Err(missing());
        }
        auth_service::Entity::find()
            .filter(auth_service::Column::CustomerId.eq(owner.id))
            .filter(auth_service::Column::Name.eq(name))
            .one(self.db())
            .await?
            .ok_or_else(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(profile: AccessProfile) -> AuthServiceInput {
        AuthServiceInput {
            name: "reading-room".into(),
            profile,
            kind: None,
            label: "Example Library".into(),
            heading: None,
            note: None,
            confirm_label: None,
            ip_ranges: Vec::new(),
            trusted_cookie: None,
            trusted_header: None,
            session_ttl: None,
        }
    }

    #[test]
    fn services_are_checked_per_profile() {
        let mut active = service(AccessProfile::Active);
        assert!(check_service(&active).is_err(), "active needs a kind");
        active.kind = Some(ActiveKind::Login);
        assert!(check_service(&active).is_ok());
        active.ip_ranges = vec!["10.0.0.0/8".into()];
        assert!(check_service(&active).is_err(), "ipRanges only for kiosk");

        let mut kiosk = service(AccessProfile::Kiosk);
        assert!(check_service(&kiosk).is_err(), "kiosk needs ranges");
        kiosk.ip_ranges = vec!["10.0.0.0/33".into()];
        assert!(check_service(&kiosk).is_err());
        kiosk.ip_ranges = vec!["10.0.0.0/8".into(), "2001:db8::/32".into()];
        assert!(check_service(&kiosk).is_ok());
        kiosk.kind = Some(ActiveKind::Clickthrough);
        assert!(check_service(&kiosk).is_err(), "kind only for active");

        let mut external = service(AccessProfile::External);
        assert!(
            check_service(&external).is_err(),
            "external needs a cookie or header"
        );
        external.trusted_header = Some("X-Remote-User".into());
        assert!(check_service(&external).is_ok());
        external.trusted_cookie = Some("sso".into());
        assert!(check_service(&external).is_err(), "not both");
        external.trusted_header = None;
        external.trusted_cookie = Some("bad cookie;".into());
        assert!(check_service(&external).is_err());

        let mut bad = service(AccessProfile::Active);
        bad.kind = Some(ActiveKind::Clickthrough);
        bad.name = "Reading Room".into();
        assert!(check_service(&bad).is_err());
        bad.name = "ok".into();
        bad.session_ttl = Some(5);
        assert!(check_service(&bad).is_err());
        bad.session_ttl = Some(600);
        bad.note = Some("line one\nline two".into());
        assert!(check_service(&bad).is_ok());
        bad.note = Some("bell\u{7}".into());
        assert!(check_service(&bad).is_err());
    }
}
