use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

use crate::{Error, Result};

/// A key and its secret as a client presents them (`key:secret`, or HTTP Basic).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyCredential {
    pub key: String,
    pub secret: String,
}

impl std::fmt::Debug for ApiKeyCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyCredential")
            .field("key", &self.key)
            .field("secret", &"***")
            .finish()
    }
}

impl ApiKeyCredential {
    /// Parses `key:secret`; both halves must be non-empty.
    pub fn parse_pair(pair: &str) -> Result<Self> {
        let Some((key, secret)) = pair.split_once(':') else {
            return Err(Error::invalid_credential("expected key:secret"));
        };
        if key.is_empty() || secret.is_empty() {
            return Err(Error::invalid_credential(
                "key and secret must both be non-empty",
            ));
        }
        Ok(Self {
            key: key.to_owned(),
            secret: secret.to_owned(),
        })
    }

    /// Parses the value of an HTTP Basic `Authorization` header after the `Basic ` prefix.
    pub fn parse_basic(encoded: &str) -> Result<Self> {
        let decoded = STANDARD
            .decode(encoded.trim())
            .map_err(|_| Error::invalid_credential("basic credential is not base64"))?;
        let pair = String::from_utf8(decoded)
            .map_err(|_| Error::invalid_credential("basic credential is not utf-8"))?;
        Self::parse_pair(&pair)
    }
}

/// A freshly generated key: the secret is shown once and only its hash is stored.
#[derive(Clone)]
pub struct GeneratedKey {
    pub key: String,
    pub secret: String,
    pub secret_hash: String,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("key", &self.key)
            .field("secret", &"***")
            .finish()
    }
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// Generates a new API key: a 128-bit public key id and a 256-bit secret.
pub fn generate_api_key() -> Result<GeneratedKey> {
    let key = hex(&random_bytes::<16>());
    let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let secret_hash = hash_secret(&secret)?;
    Ok(GeneratedKey {
        key,
        secret,
        secret_hash,
    })
}

/// A random 256-bit secret for signing tokens, URL-safe base64.
pub fn generate_signing_secret() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Hashes a secret with argon2id and a random salt, as a PHC string.
pub fn hash_secret(secret: &str) -> Result<String> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| Error::internal(format!("cannot hash secret: {error}")))
}

/// Checks a secret against a stored PHC string; a malformed hash never verifies.
pub fn verify_secret(secret: &str, phc_hash: &str) -> bool {
    Argon2::default()
        .verify_password(secret.as_bytes(), phc_hash)
        .is_ok()
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len() && bool::from(left.ct_eq(right))
}

/// Remembers which secrets recently verified against which stored hash, so that a client
/// sending its key with every request pays for argon2 once, not on every call.
///
/// An entry holds a SHA-256 of the secret (never the secret) and the stored hash it matched:
/// a changed or deleted key no longer matches its stored hash, so revocation needs no
/// invalidation here.
#[derive(Debug, Default)]
pub struct SecretVerifier {
    recent: Mutex<HashMap<String, ([u8; 32], String)>>,
}

const MAX_REMEMBERED: usize = 10_000;

impl SecretVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `secret` is the secret behind `stored_hash` for `key`. Blocking: the first
    /// check of a secret runs argon2 (tens of milliseconds).
    pub fn verify(&self, key: &str, secret: &str, stored_hash: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let remembered = self
            .lock()
            .get(key)
            .is_some_and(|(known_digest, known_hash)| {
                known_hash == stored_hash && constant_time_eq(known_digest, &digest)
            });
        if remembered {
            return true;
        }
        if !verify_secret(secret, stored_hash) {
            return false;
        }
        let mut recent = self.lock();
        if recent.len() >= MAX_REMEMBERED {
            recent.clear();
        }
        recent.insert(key.to_owned(), (digest, stored_hash.to_owned()));
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ([u8; 32], String)>> {
        // a panic while holding this lock cannot leave the map inconsistent
        self.recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secret_verifies_and_others_do_not() {
        let generated = generate_api_key().unwrap();
        assert_eq!(generated.key.len(), 32);
        assert!(generated.secret_hash.starts_with("$argon2id$"));
        assert!(verify_secret(&generated.secret, &generated.secret_hash));
        assert!(!verify_secret("not-the-secret", &generated.secret_hash));
        assert!(!verify_secret(&generated.secret, "not a phc string"));
    }

    #[test]
    fn verifier_remembers_only_matching_secret_and_hash() {
        let generated = generate_api_key().unwrap();
        let verifier = SecretVerifier::new();
        assert!(verifier.verify(&generated.key, &generated.secret, &generated.secret_hash));
        assert!(verifier.verify(&generated.key, &generated.secret, &generated.secret_hash));
        assert!(!verifier.verify(&generated.key, "wrong", &generated.secret_hash));
        let rotated = hash_secret("new-secret").unwrap();
        assert!(!verifier.verify(&generated.key, &generated.secret, &rotated));
    }

    #[test]
    fn parses_basic_credentials() {
        let credential = ApiKeyCredential::parse_basic(&STANDARD.encode("abc:s3:cret")).unwrap();
        assert_eq!(credential.key, "abc");
        assert_eq!(credential.secret, "s3:cret");
        assert!(ApiKeyCredential::parse_basic("%%%").is_err());
        assert!(ApiKeyCredential::parse_basic(&STANDARD.encode("nocolon")).is_err());
        assert!(ApiKeyCredential::parse_basic(&STANDARD.encode(":secret")).is_err());
    }

    #[test]
    fn debug_masks_the_secret() {
        let credential = ApiKeyCredential::parse_pair("k:hidden").unwrap();
        assert!(!format!("{credential:?}").contains("hidden"));
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
