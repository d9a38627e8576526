//! Access control for published content: a customer's auth services (how visitors gain
//! access), roles (what assets require; each granted by one service), viewer accounts (for
//! login services), and visitor sessions.
//!
//! Management calls take a [`Principal`] and enforce tenancy like every other service. Visitor
//! calls (sessions, viewer checks, the services an asset's roles lead to) are public: the API
//! layer makes them on behalf of anonymous browsers, and they only ever act on one session.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use crate::entities::{auth_service, customer, role, viewer, visitor_session};
use crate::error::{Error, Result};
use crate::model::{decode_list, encode_list};
use crate::{Domain, Principal, validate};

/// Session lifetime when a service does not set one: one hour.
pub const DEFAULT_SESSION_TTL: i32 = 3600;
const MIN_SESSION_TTL: i32 = 60;
const MAX_SESSION_TTL: i32 = 30 * 24 * 3600;
const MAX_TEXT_CHARS: usize = 2000;
const MIN_PASSWORD_BYTES: usize = 8;
const MAX_PASSWORD_BYTES: usize = 1024;

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
    fn client_order(self) -> u8 {
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
    fn from_row(row: auth_service::Model, customer: &str) -> Result<Self> {
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

/// A new role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleInput {
    pub name: String,
    pub label: Option<String>,
    pub auth_service: String,
}

/// Changes to a role: `None` keeps a field, `Some(None)` clears the label.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolePatch {
    pub label: Option<Option<String>>,
    pub auth_service: Option<String>,
}

/// A role as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: i64,
    pub customer: String,
    pub name: String,
    pub label: Option<String>,
    pub auth_service: String,
    pub created: DateTime<Utc>,
}

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

fn role_name(name: &str) -> Result<()> {
    validate::labels("role name", std::slice::from_ref(&name.to_owned())).map(|_| ())
}

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

    async fn service_row(
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

    // ---- management: roles ----------------------------------------------------------------

    /// Adds a role, granted by one of the customer's auth services.
    pub async fn create_role(
        &self,
        principal: &Principal,
        customer: &str,
        input: RoleInput,
    ) -> Result<Role> {
        let owner = self.customer_in_scope(principal, customer).await?;
        role_name(&input.name)?;
        if let Some(label) = &input.label {
            validate::display_text("label", label)?;
        }
        let service = self.service_row(&owner, &input.auth_service).await?;
        let row = role::ActiveModel {
            customer_id: Set(owner.id),
            name: Set(input.name.clone()),
            label: Set(input.label),
            auth_service_id: Set(service.id),
            created: Set(Utc::now()),
            ..Default::default()
        }
        .insert(self.db())
        .await;
        match row {
            Ok(row) => Ok(role_from_row(row, &owner.name, service.name)),
            Err(error) if Error::is_unique_violation(&error) => Err(Error::conflict(format!(
                "a role called {:?} already exists",
                input.name
            ))),
            Err(error) => Err(error.into()),
        }
    }

    /// Changes a role's label or the service that grants it.
    pub async fn update_role(
        &self,
        principal: &Principal,
        customer: &str,
        name: &str,
        patch: RolePatch,
    ) -> Result<Role> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let row = self.role_row(&owner, name).await?;
        if let Some(Some(label)) = &patch.label {
            validate::display_text("label", label)?;
        }
        let service = match &patch.auth_service {
            Some(service) => self.service_row(&owner, service).await?,
            None => auth_service::Entity::find_by_id(row.auth_service_id)
                .one(self.db())
                .await?
                .ok_or_else(|| Error::internal("a role's auth service is missing"))?,
        };
        let mut active: role::ActiveModel = row.into();
        if let Some(label) = patch.label {
            active.label = Set(label);
        }
        active.auth_service_id = Set(service.id);
        let row = active.update(self.db()).await?;
        Ok(role_from_row(row, &owner.name, service.name))
    }

    /// Removes a role no viewer holds. Assets that still require it are refused to everyone
    /// (403) until their roles change.
    pub async fn delete_role(
        &self,
        principal: &Principal,
        customer: &str,
        name: &str,
    ) -> Result<bool> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let row = self.role_row(&owner, name).await?;
        let holders = self
            .viewer_rows(owner.id)
            .await?
            .into_iter()
            .filter(|viewer| {
                decode_list::<String>(&viewer.roles).is_ok_and(|roles| roles.contains(&row.name))
            })
            .count();
        if holders > 0 {
            return Err(Error::conflict(format!(
                "{holders} viewer(s) hold role {name:?}: take it from them first"
            )));
        }
        role::Entity::delete_by_id(row.id).exec(self.db()).await?;
        Ok(true)
    }

    /// A customer's roles, by name.
    pub async fn roles(&self, principal: &Principal, customer: &str) -> Result<Vec<Role>> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let services: BTreeMap<i64, String> = auth_service::Entity::find()
            .filter(auth_service::Column::CustomerId.eq(owner.id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|service| (service.id, service.name))
            .collect();
        let rows = role::Entity::find()
            .filter(role::Column::CustomerId.eq(owner.id))
            .order_by_asc(role::Column::Name)
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let service = services
                    .get(&row.auth_service_id)
                    .cloned()
                    .unwrap_or_default();
                role_from_row(row, &owner.name, service)
            })
            .collect())
    }

    async fn role_row(&self, owner: &customer::Model, name: &str) -> Result<role::Model> {
        let missing =
            || Error::not_found(format!("customer {:?} has no role {name:?}", owner.name));
        if !validate::storable(name) {
            return Err(missing());
        }
        role::Entity::find()
            .filter(role::Column::CustomerId.eq(owner.id))
            .filter(role::Column::Name.eq(name))
            .one(self.db())
            .await?
            .ok_or_else(missing)
    }

    /// Checks that every role exists; returns them deduplicated.
    async fn existing_roles(
        &self,
        owner: &customer::Model,
        roles: &[String],
    ) -> Result<Vec<String>> {
        let roles = validate::labels("roles", roles)?;
        let known: Vec<String> = role::Entity::find()
            .filter(role::Column::CustomerId.eq(owner.id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|role| role.name)
            .collect();
        if let Some(unknown) = roles.iter().find(|role| !known.contains(role)) {
            return Err(Error::invalid_input(format!(
                "customer {:?} has no role {unknown:?}",
                owner.name
            )));
        }
        Ok(roles)
    }

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

    async fn viewer_rows(&self, customer_id: i32) -> Result<Vec<viewer::Model>> {
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

    /// A customer's auth service by name, for its public pages.
    pub async fn public_auth_service(
        &self,
        customer: &str,
        name: &str,
    ) -> Result<(i32, AuthService)> {
        let owner = self.public_customer(customer).await?;
        let service = AuthService::from_row(self.service_row(&owner, name).await?, &owner.name)?;
        Ok((owner.id, service))
    }

    /// A customer's number by name, for visitor pages.
    pub async fn visitor_customer(&self, customer: &str) -> Result<i32> {
        Ok(self.public_customer(customer).await?.id)
    }

    /// A customer's name by number, for the services it owns (empty if it is gone).
    async fn customer_name(&self, customer_id: i32) -> Result<String> {
        Ok(customer::Entity::find_by_id(customer_id)
            .one(self.db())
            .await?
            .map(|row| row.name)
            .unwrap_or_default())
    }

    /// A customer's external services, each with the roles it grants.
    pub async fn external_services(
        &self,
        customer_id: i32,
    ) -> Result<Vec<(AuthService, Vec<String>)>> {
        let customer = self.customer_name(customer_id).await?;
        let mut services = Vec::new();
        for row in auth_service::Entity::find()
            .filter(auth_service::Column::CustomerId.eq(customer_id))
            .filter(auth_service::Column::Profile.eq(AccessProfile::External.as_str()))
            .order_by_asc(auth_service::Column::Name)
            .all(self.db())
            .await?
        {
            let service = AuthService::from_row(row, &customer)?;
            let roles = self.roles_granted_by(&service).await?;
            services.push((service, roles));
        }
        Ok(services)
    }

    /// The roles a service grants.
    pub async fn roles_granted_by(&self, service: &AuthService) -> Result<Vec<String>> {
        Ok(role::Entity::find()
            .filter(role::Column::AuthServiceId.eq(service.id))
            .order_by_asc(role::Column::Name)
            .all(self.db())
            .await?
            .into_iter()
            .map(|role| role.name)
            .collect())
    }

    /// The services that grant any of these roles, each with the roles (of these) it grants, in
    /// the order clients should try them (external, kiosk, active; then by name). Empty when no
    /// service can help.
    pub async fn services_granting(
        &self,
        customer_id: i32,
        roles: &[String],
    ) -> Result<Vec<(AuthService, Vec<String>)>> {
        if roles.is_empty() {
            return Ok(Vec::new());
        }
        let mut granted: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for role in role::Entity::find()
            .filter(role::Column::CustomerId.eq(customer_id))
            .filter(role::Column::Name.is_in(roles.iter().cloned()))
            .all(self.db())
            .await?
        {
            granted
                .entry(role.auth_service_id)
                .or_default()
                .push(role.name);
        }
        if granted.is_empty() {
            return Ok(Vec::new());
        }
        let customer = self.customer_name(customer_id).await?;
        let mut services = Vec::with_capacity(granted.len());
        for row in auth_service::Entity::find()
            .filter(auth_service::Column::Id.is_in(granted.keys().copied()))
            .all(self.db())
            .await?
        {
            let roles = granted.remove(&row.id).unwrap_or_default();
            services.push((AuthService::from_row(row, &customer)?, roles));
        }
        services.sort_by(|(a, _), (b, _)| {
            (a.profile.client_order(), &a.name).cmp(&(b.profile.client_order(), &b.name))
        });
        Ok(services)
    }

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

fn role_from_row(row: role::Model, customer: &str, auth_service: String) -> Role {
    Role {
        id: row.id,
        customer: customer.to_owned(),
        name: row.name,
        label: row.label,
        auth_service,
        created: row.created,
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

    #[test]
    fn only_unexpired_grants_count() {
        let grants: Grants = [("a".to_owned(), 100), ("b".to_owned(), 50)].into();
        assert_eq!(live_roles(&grants, 60), vec!["a".to_owned()]);
        assert!(live_roles(&grants, 100).is_empty());
    }
}
