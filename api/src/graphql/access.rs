//! Access control: auth services (how visitors gain access), roles (what assets require) and
//! viewer accounts (for login services).

use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::assets::keep_set_or_clear;
use super::context::call;

/// How a visitor reaches an auth service (IIIF Auth 2 access service profiles).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AuthProfile {
    /// The visitor acts in a new tab: a clickthrough or a login form.
    Active,
    /// Opened without interaction on the institution's devices; decided by client address.
    Kiosk,
    /// No page: a trusted upstream cookie or header says the visitor has access.
    External,
}

/// What an ACTIVE service asks of the visitor.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AuthKind {
    /// Accept terms with one click.
    Clickthrough,
    /// Log in with a viewer account.
    Login,
}

impl From<AuthProfile> for domain::AccessProfile {
    fn from(profile: AuthProfile) -> Self {
        match profile {
            AuthProfile::Active => Self::Active,
            AuthProfile::Kiosk => Self::Kiosk,
            AuthProfile::External => Self::External,
        }
    }
}

impl From<domain::AccessProfile> for AuthProfile {
    fn from(profile: domain::AccessProfile) -> Self {
        match profile {
            domain::AccessProfile::Active => Self::Active,
            domain::AccessProfile::Kiosk => Self::Kiosk,
            domain::AccessProfile::External => Self::External,
        }
    }
}

impl From<AuthKind> for domain::ActiveKind {
    fn from(kind: AuthKind) -> Self {
        match kind {
            AuthKind::Clickthrough => Self::Clickthrough,
            AuthKind::Login => Self::Login,
        }
    }
}

impl From<domain::ActiveKind> for AuthKind {
    fn from(kind: domain::ActiveKind) -> Self {
        match kind {
            domain::ActiveKind::Clickthrough => Self::Clickthrough,
            domain::ActiveKind::Login => Self::Login,
        }
    }
}

/// A new auth service. Texts are plain strings; IIIF documents give them as language maps.
#[derive(InputObject, Debug)]
pub struct AuthServiceInput {
    /// Appears in URLs: 1 to 64 characters of a-z, 0-9, '-' and '_'.
    pub name: String,
    pub profile: AuthProfile,
    /// Required for ACTIVE services, refused for the others.
    pub kind: Option<AuthKind>,
    /// Names the institution, e.g. "Example Library".
    pub label: String,
    /// Shown before the access page opens, and on it.
    pub heading: Option<String>,
    pub note: Option<String>,
    /// The button of the access page.
    pub confirm_label: Option<String>,
    /// KIOSK: the client address ranges admitted, in CIDR form.
    #[graphql(default)]
    pub ip_ranges: Vec<String>,
    /// EXTERNAL: the cookie an upstream system sets (believed from trusted proxies only).
    pub trusted_cookie: Option<String>,
    /// EXTERNAL: the header an upstream proxy sets (believed from trusted proxies only).
    pub trusted_header: Option<String>,
    /// How long access lasts, in seconds (60 to 2592000; default 3600).
    pub session_ttl: Option<i32>,
}

/// Changes to an auth service: absent fields stay, `null` clears optional ones. The name,
/// profile and kind stay as created.
#[derive(InputObject, Debug, Default)]
pub struct AuthServicePatch {
    pub label: Option<String>,
    pub heading: MaybeUndefined<String>,
    pub note: MaybeUndefined<String>,
    pub confirm_label: MaybeUndefined<String>,
    pub ip_ranges: Option<Vec<String>>,
    pub trusted_cookie: MaybeUndefined<String>,
    pub trusted_header: MaybeUndefined<String>,
    pub session_ttl: Option<i32>,
}

/// How a customer's visitors gain access to restricted assets.
#[derive(SimpleObject, Debug)]
#[graphql(name = "AuthService")]
pub struct AuthServiceObject {
    pub customer: String,
    pub name: String,
    pub profile: AuthProfile,
    pub kind: Option<AuthKind>,
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

impl From<domain::AuthService> for AuthServiceObject {
    fn from(service: domain::AuthService) -> Self {
        Self {
            customer: service.customer,
            name: service.name,
            profile: service.profile.into(),
            kind: service.kind.map(AuthKind::from),
            label: service.label,
            heading: service.heading,
            note: service.note,
            confirm_label: service.confirm_label,
            ip_ranges: service.ip_ranges,
            trusted_cookie: service.trusted_cookie,
            trusted_header: service.trusted_header,
            session_ttl: service.session_ttl,
            created: service.created,
        }
    }
}

/// A new role.
#[derive(InputObject, Debug)]
pub struct RoleInput {
    /// What assets list in `roles`.
    pub name: String,
    pub label: Option<String>,
    /// The auth service that grants it.
    pub auth_service: String,
}

/// Changes to a role: absent fields stay, `null` clears the label.
#[derive(InputObject, Debug, Default)]
pub struct RolePatch {
    pub label: MaybeUndefined<String>,
    pub auth_service: Option<String>,
}

/// A role assets can require; visitors gain it through its auth service.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Role")]
pub struct RoleObject {
    pub customer: String,
    pub name: String,
    pub label: Option<String>,
    pub auth_service: String,
    pub created: DateTime<Utc>,
}

impl From<domain::Role> for RoleObject {
    fn from(role: domain::Role) -> Self {
        Self {
            customer: role.customer,
            name: role.name,
            label: role.label,
            auth_service: role.auth_service,
            created: role.created,
        }
    }
}

/// A new viewer account.
#[derive(InputObject)]
pub struct ViewerInput {
    pub username: String,
    /// 8 to 1024 bytes; stored as an argon2 hash, never returned.
    pub password: String,
    /// Roles this viewer gains by logging in (through the login services that grant them).
    #[graphql(default)]
    pub roles: Vec<String>,
}

/// Changes to a viewer: a new password (which ends the viewer's sessions) or new roles.
#[derive(InputObject, Default)]
pub struct ViewerPatch {
    pub password: Option<String>,
    pub roles: Option<Vec<String>>,
}

impl std::fmt::Debug for ViewerInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewerInput")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ViewerPatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewerPatch")
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// A visitor account of a login service. Its password is never shown.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Viewer")]
pub struct ViewerObject {
    pub customer: String,
    pub username: String,
    pub roles: Vec<String>,
    pub created: DateTime<Utc>,
}

impl From<domain::Viewer> for ViewerObject {
    fn from(viewer: domain::Viewer) -> Self {
        Self {
            customer: viewer.customer,
            username: viewer.username,
            roles: viewer.roles,
            created: viewer.created,
        }
    }
}

#[derive(Default, Debug)]
pub struct AccessMutation;

#[Object]
impl AccessMutation {
    /// Adds an auth service.
    async fn create_auth_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        input: AuthServiceInput,
    ) -> Result<AuthServiceObject> {
        let input = domain::AuthServiceInput {
            name: input.name,
            profile: input.profile.into(),
            kind: input.kind.map(domain::ActiveKind::from),
            label: input.label,
            heading: input.heading,
            note: input.note,
            confirm_label: input.confirm_label,
            ip_ranges: input.ip_ranges,
            trusted_cookie: input.trusted_cookie,
            trusted_header: input.trusted_header,
            session_ttl: input.session_ttl,
        };
        let service = call(ctx, |domain, principal| async move {
            domain
                .create_auth_service(&principal, &customer, input)
                .await
        })
        .await?;
        Ok(service.into())
    }

    /// Changes an auth service.
    async fn update_auth_service(
        &self,
        ctx: &Context<'_>,
        customer: String,
        #[graphql(desc = "The service's name.")] name: String,
        input: AuthServicePatch,
    ) -> Result<AuthServiceObject> {
        let patch = domain::AuthServicePatch {
            label: input.label,
            heading: keep_set_or_clear(input.heading),
            note: keep_set_or_clear(input.note),
            confirm_label: keep_set_or_clear(input.confirm_label),
            ip_ranges: input.ip_ranges,
            trusted_cookie: keep_set_or_clear(input.trusted_cookie),
            trusted_header: keep_set_or_clear(input.trusted_header),
            session_ttl: input.session_ttl,
        };
        let service = call(ctx, |domain, principal| async move {
            domain
                .update_auth_service(&principal, &customer, &name, patch)
                .await
        })
        .await?;
        Ok(service.into())
    }

    /// Removes an auth service that grants no role.
    async fn delete_auth_service(
        &self,
        ctx: &Context<'_>,
        customer: String,
        name: String,
    ) -> Result<bool> {
        call(ctx, |domain, principal| async move {
            domain
                .delete_auth_service(&principal, &customer, &name)
                .await
        })
        .await
    }

    /// Adds a role, granted by one auth service.
    async fn create_role(
        &self,
        ctx: &Context<'_>,
        customer: String,
        input: RoleInput,
    ) -> Result<RoleObject> {
        let input = domain::RoleInput {
            name: input.name,
            label: input.label,
            auth_service: input.auth_service,
        };
        let role = call(ctx, |domain, principal| async move {
            domain.create_role(&principal, &customer, input).await
        })
        .await?;
        Ok(role.into())
    }

    /// Changes a role's label or the service that grants it.
    async fn update_role(
        &self,
        ctx: &Context<'_>,
        customer: String,
        name: String,
        input: RolePatch,
    ) -> Result<RoleObject> {
        let patch = domain::RolePatch {
            label: keep_set_or_clear(input.label),
            auth_service: input.auth_service,
        };
        let role = call(ctx, |domain, principal| async move {
            domain
                .update_role(&principal, &customer, &name, patch)
                .await
        })
        .await?;
        Ok(role.into())
    }

    /// Removes a role no viewer holds.
    async fn delete_role(&self, ctx: &Context<'_>, customer: String, name: String) -> Result<bool> {
        call(ctx, |domain, principal| async move {
            domain.delete_role(&principal, &customer, &name).await
        })
        .await
    }

    /// Adds a viewer account for login services.
    async fn create_viewer(
        &self,
        ctx: &Context<'_>,
        customer: String,
        input: ViewerInput,
    ) -> Result<ViewerObject> {
        let input = domain::ViewerInput {
            username: input.username,
            password: input.password,
            roles: input.roles,
        };
        let viewer = call(ctx, |domain, principal| async move {
            domain.create_viewer(&principal, &customer, input).await
        })
        .await?;
        Ok(viewer.into())
    }

    /// Changes a viewer's password or roles.
    async fn update_viewer(
        &self,
        ctx: &Context<'_>,
        customer: String,
        username: String,
        input: ViewerPatch,
    ) -> Result<ViewerObject> {
        let patch = domain::ViewerPatch {
            password: input.password,
            roles: input.roles,
        };
        let viewer = call(ctx, |domain, principal| async move {
            domain
                .update_viewer(&principal, &customer, &username, patch)
                .await
        })
        .await?;
        Ok(viewer.into())
    }

    /// Removes a viewer account and ends its sessions.
    async fn delete_viewer(
        &self,
        ctx: &Context<'_>,
        customer: String,
        username: String,
    ) -> Result<bool> {
        call(ctx, |domain, principal| async move {
            domain.delete_viewer(&principal, &customer, &username).await
        })
        .await
    }
}
