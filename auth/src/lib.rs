//! Credentials and identity for the management API: API keys (generation, argon2 hashing,
//! timing-safe comparison), signed session tokens (JWTs), and the [`Principal`] every domain
//! call receives.
//!
//! This crate knows nothing of HTTP, GraphQL or the database: callers look keys up and hand the
//! stored hash here to verify.

mod error;
mod jwt;
mod keys;
mod principal;
mod visitor;

pub use error::{Error, ErrorKind, Result};
pub use jwt::{Claims, JwtSigner};
pub use keys::{
    ApiKeyCredential, GeneratedKey, SecretVerifier, constant_time_eq, generate_api_key,
    generate_signing_secret, hash_secret, verify_secret,
};
pub use principal::Principal;
pub use visitor::{
    ANY_ORIGIN, AccessClaims, AccessTokens, Decision, IpRanges, Requested, Throttle,
    client_address, decide, generate_session_secret, is_open, session_digest, throttle_address,
    web_origin,
};
