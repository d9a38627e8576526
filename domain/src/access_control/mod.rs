//! Access control for published content: a customer's auth services (how visitors gain
//! access), roles (what assets require; each granted by one service), viewer accounts (for
//! login services), and visitor sessions.
//!
//! Management calls take a [`Principal`](crate::Principal) and enforce tenancy like every
//! other service. Visitor calls (sessions, viewer checks, the services an asset's roles lead
//! to) are public: the API layer makes them on behalf of anonymous browsers, and they only ever
//! act on one session.
//!
//! - `services`: auth services, their profiles and the checks a service must pass
//! - `roles`: roles, each granted by one service
//! - `viewers`: viewer accounts for login services, and their password check
//! - `sessions`: visitor sessions and the roles they hold per origin
//! - `discovery`: the public lookups that lead a visitor from an asset's roles to services

mod discovery;
mod roles;
mod services;
mod sessions;
mod viewers;

pub use roles::{Role, RoleInput, RolePatch};
pub use services::{
    AccessProfile, ActiveKind, AuthService, AuthServiceInput, AuthServicePatch, DEFAULT_SESSION_TTL,
};
pub use sessions::{GrantedSession, SessionLookup, VisitorSession};
pub use viewers::{Viewer, ViewerInput, ViewerPatch};
