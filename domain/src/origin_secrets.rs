//! Origin-rule secrets sealed at rest: AES-256-GCM under a key derived with HKDF-SHA256 from the
//! server's signing secret (configured `jwt_secret`, or the generated `{data_dir}/jwt-secret`),
//! so that the database alone (a copy, a backup) does not give away customers' passwords.
//! Each sealed value is bound to its customer, so it cannot be moved to another customer's row.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Error, Result};

/// Marks the format of a sealed value: `v1:` then base64 of nonce, ciphertext and tag.
const FORMAT: &str = "v1:";

pub(crate) struct SecretBox {
    key: LessSafeKey,
    random: SystemRandom,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

impl SecretBox {
    /// The box whose key derives from a signing secret; a label keeps this key apart from
    /// every other use of the same secret.
    pub(crate) fn derive(signing_secret: &[u8]) -> Self {
        let salt = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"vitrine origin-rule secrets");
        let pseudo_random_key = salt.extract(signing_secret);
        let key = pseudo_random_key
            .expand(&[b"aes-256-gcm v1"], &AES_256_GCM)
            // 32 bytes is far below HKDF-SHA256's output limit, so expand cannot fail
            .expect("an AES-256 key is a valid HKDF output length");
        Self {
            key: LessSafeKey::new(UnboundKey::from(key)),
            random: SystemRandom::new(),
        }
    }

    /// Seals a customer's secret for storing.
    pub(crate) fn seal(&self, customer_id: i32, secret: &str) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| Error::internal("no randomness for sealing a secret"))?;
        let mut sealed = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(customer_id.to_be_bytes()),
                &mut sealed,
            )
            .map_err(|_| Error::internal("cannot seal a secret"))?;
        let mut stored = nonce.to_vec();
        stored.extend_from_slice(&sealed);
        Ok(format!("{FORMAT}{}", STANDARD_NO_PAD.encode(stored)))
    }

    /// The secret a sealed value holds, or `None` when it was sealed under another key (the
    /// signing secret changed), for another customer, or was tampered with.
    pub(crate) fn open(&self, customer_id: i32, stored: &str) -> Option<String> {
        let bytes = STANDARD_NO_PAD.decode(stored.strip_prefix(FORMAT)?).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(customer_id.to_be_bytes()), &mut sealed)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_customer() {
        let secrets = SecretBox::derive(b"signing-secret-signing-secret-0123");
        let sealed = secrets.seal(7, "hunter2-password").unwrap();
        assert!(!sealed.contains("hunter2"), "{sealed}");
        assert_ne!(sealed, secrets.seal(7, "hunter2-password").unwrap());
        assert_eq!(
            secrets.open(7, &sealed).as_deref(),
            Some("hunter2-password")
        );
        assert_eq!(secrets.open(8, &sealed), None, "bound to its customer");
        let other = SecretBox::derive(b"another-signing-secret-0123456789");
        assert_eq!(other.open(7, &sealed), None);
        assert_eq!(secrets.open(7, "hunter2-password"), None);
        assert_eq!(secrets.open(7, "v1:AAAA"), None);
    }
}
