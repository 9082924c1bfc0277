//! VAPID (RFC 8292): the server's P-256 key, and the signed JWT each push carries so a
//! push service knows which application server it comes from.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};

use crate::{Error, Result};

/// The VAPID key's file in the data directory, unless configured.
pub const VAPID_KEY_FILE: &str = "vapid.pk8";

/// How long a signed JWT is valid; push services refuse more than 24 hours.
const JWT_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(12);

/// The server's VAPID identity.
pub(crate) struct Vapid {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    public_key: String,
    subject: String,
}

impl Vapid {
    /// The key in `file` (PKCS#8), generated there on first use, contacting `subject`.
    pub(crate) fn open(file: &Path, subject: &str) -> Result<Self> {
        let rng = SystemRandom::new();
        let der = crate::config::load_or_create_private_file(file, "vapidKeyFile", || {
            tracing::info!(path = %file.display(), "generated a new VAPID key");
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map(|doc| doc.as_ref().to_vec())
                .map_err(|_| Error::internal("could not generate a VAPID key"))
        })?;
        Self::from_pkcs8(&der, subject)
    }

    /// The key from a PKCS#8 document.
    pub(crate) fn from_pkcs8(der: &[u8], subject: &str) -> Result<Self> {
        if !(subject.starts_with("mailto:") || subject.starts_with("https://")) {
            return Err(Error::validation("pushSubject", "must be a mailto: or https: URL"));
        }
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
            .map_err(|e| Error::validation("vapidKeyFile", format!("is not a PKCS#8 P-256 key: {e}")))?;
        let public_key = B64.encode(key.public_key().as_ref());
        Ok(Self { key, rng, public_key, subject: subject.to_owned() })
    }

    /// The public key, base64url: what browsers subscribe with.
    pub(crate) fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The `Authorization` header for a push to a service at `audience` (the endpoint's
    /// origin), valid from `now` for [`JWT_LIFETIME`].
    #[cfg_attr(not(feature = "push"), expect(dead_code, reason = "only the delivery task (feature `push`) signs"))]
    pub(crate) fn authorization(&self, audience: &str, now: DateTime<Utc>) -> Result<String> {
        let header = B64.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let exp = (now + JWT_LIFETIME).timestamp();
        let claims = serde_json::json!({ "aud": audience, "exp": exp, "sub": self.subject });
        let signing_input = format!("{header}.{}", B64.encode(claims.to_string()));
        let signature = self
            .key
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|_| Error::internal("could not sign a VAPID token"))?;
        Ok(format!("vapid t={signing_input}.{}, k={}", B64.encode(signature.as_ref()), self.public_key))
    }
}

#[cfg(test)]
mod tests {
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    use super::*;

    #[test]
    fn a_token_verifies_with_the_public_key_and_names_audience_expiry_and_subject() {
        let dir = tempfile::tempdir();
        let Ok(dir) = dir else { return assert!(dir.is_ok()) };
        let file = dir.path().join("vapid.pk8");
        let vapid = Vapid::open(&file, "mailto:ops@example.com");
        let Ok(vapid) = vapid else { return assert!(vapid.is_ok()) };
        let again = Vapid::open(&file, "mailto:ops@example.com").map(|v| v.public_key().to_owned());
        assert_eq!(again.ok().as_deref(), Some(vapid.public_key()), "the key is kept");

        let now = Utc::now();
        let header = vapid.authorization("https://push.example.net", now).unwrap_or_default();
        let (token, key) = header.strip_prefix("vapid t=").and_then(|r| r.split_once(", k=")).unwrap_or_default();
        assert_eq!(key, vapid.public_key());
        let (input, signature) = token.rsplit_once('.').unwrap_or_default();
        let public = B64.decode(key).unwrap_or_default();
        let verified = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public)
            .verify(input.as_bytes(), &B64.decode(signature).unwrap_or_default());
        assert!(verified.is_ok());
        let claims = input.split('.').nth(1).and_then(|c| B64.decode(c).ok());
        let claims: serde_json::Value = claims.and_then(|c| serde_json::from_slice(&c).ok()).unwrap_or_default();
        assert_eq!(claims["aud"], "https://push.example.net");
        assert_eq!(claims["sub"], "mailto:ops@example.com");
        assert_eq!(claims["exp"], (now + JWT_LIFETIME).timestamp());
    }

    #[test]
    fn a_bad_subject_or_key_is_refused() {
        assert!(Vapid::from_pkcs8(b"not a key", "mailto:a@b.c").is_err());
        let rng = SystemRandom::new();
        let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map(|d| d.as_ref().to_vec());
        let der = der.unwrap_or_default();
        assert!(Vapid::from_pkcs8(&der, "ops@example.com").is_err());
        assert!(Vapid::from_pkcs8(&der, "https://example.com/contact").is_ok());
    }
}
