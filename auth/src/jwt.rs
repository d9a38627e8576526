use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

const ISSUER: &str = "vitrine";
const AUDIENCE: &str = "vitrine-management";

/// What a management token says: which API key logged in, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The API key that logged in.
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// The version of the key's secret the token was issued under (a keyed digest): a token
    /// stops working when the secret changes. Tokens without one are refused.
    #[serde(default)]
    pub ver: String,
}

/// Issues and verifies HS256 management tokens with one secret.
#[derive(Clone)]
pub struct JwtSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Keys the digest that binds a token to its credential's secret.
    binding_key: Vec<u8>,
    ttl_seconds: i64,
}

impl std::fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSigner")
            .field("ttl_seconds", &self.ttl_seconds)
            .finish_non_exhaustive()
    }
}

impl JwtSigner {
    pub fn new(secret: &[u8], ttl_seconds: i64) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            binding_key: secret.to_vec(),
            ttl_seconds,
        }
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    /// The version of a credential's secret as tokens carry it: a digest keyed with the
    /// signing secret, so a token reveals nothing that helps guess the credential's secret.
    pub fn credential_version(&self, credential_secret: &str) -> String {
        let digest = Sha256::new()
            .chain_update(b"vitrine token binding\0")
            .chain_update(&self.binding_key)
            .chain_update(b"\0")
            .chain_update(credential_secret.as_bytes())
            .finalize();
        digest[..12]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// Whether `claims` were issued under this version of the credential's secret.
    pub fn is_bound_to(&self, claims: &Claims, credential_secret: &str) -> bool {
        crate::constant_time_eq(
            claims.ver.as_bytes(),
            self.credential_version(credential_secret).as_bytes(),
        )
    }

    /// Signs a token for `api_key` under the current version of its secret (what
    /// [`JwtSigner::is_bound_to`] checks), valid from now for the configured lifetime.
    pub fn issue(&self, api_key: &str, credential_secret: &str) -> Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: api_key.to_owned(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + self.ttl_seconds,
            ver: self.credential_version(credential_secret),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|error| Error::internal(format!("cannot sign token: {error}")))
    }

    /// Checks signature, algorithm, issuer, audience and expiry; returns the claims.
    pub fn verify(&self, token: &str) -> Result<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 0;
        decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|error| Error::invalid_credential(format!("invalid token: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn issued_token_verifies() {
        let signer = JwtSigner::new(b"0123456789abcdef0123456789abcdef", 60);
        let token = signer.issue("key-1", "s1").unwrap();
        let claims = signer.verify(&token).unwrap();
        assert_eq!(claims.sub, "key-1");
        assert_eq!(claims.exp - claims.iat, 60);
    }

    #[test]
    fn rejects_token_signed_with_another_secret() {
        let ours = JwtSigner::new(b"ours-ours-ours-ours-ours-ours-ours", 60);
        let theirs = JwtSigner::new(b"theirs-theirs-theirs-theirs-theirs", 60);
        let token = theirs.issue("key-1", "s1").unwrap();
        assert!(ours.verify(&token).is_err());
    }

    /// Issue 18, item 12: a token is bound to the secret it was issued under.
    #[test]
    fn tokens_are_bound_to_the_secret_they_were_issued_under() {
        let signer = JwtSigner::new(b"0123456789abcdef0123456789abcdef", 60);
        let claims = signer
            .verify(&signer.issue("admin", "s1").unwrap())
            .unwrap();
        assert!(signer.is_bound_to(&claims, "s1"));
        assert!(!signer.is_bound_to(&claims, "s2"));
        assert!(!signer.is_bound_to(
            &Claims {
                ver: String::new(),
                ..claims.clone()
            },
            "s1"
        ));
        // the version says nothing without the signing secret
        let other = JwtSigner::new(b"another-secret-another-secret-0000", 60);
        assert_ne!(other.credential_version("s1"), claims.ver);
    }

    #[test]
    fn rejects_expired_token() {
        let signer = JwtSigner::new(b"0123456789abcdef0123456789abcdef", -10);
        let token = signer.issue("key-1", "s1").unwrap();
        assert!(signer.verify(&token).is_err());
    }

    #[test]
    fn rejects_unsigned_token() {
        let signer = JwtSigner::new(b"0123456789abcdef0123456789abcdef", 60);
        let now = chrono::Utc::now().timestamp();
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"key-1","iss":"vitrine","aud":"vitrine-management","iat":{now},"exp":{}}}"#,
            now + 60
        ));
        assert!(signer.verify(&format!("{header}.{payload}.")).is_err());
    }
}
