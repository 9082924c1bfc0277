//! Web Push message encryption (RFC 8291): the `aes128gcm` content coding of RFC 8188
//! with a key agreed between a fresh P-256 key of ours and the subscription's, mixed
//! with its authentication secret. All primitives are `ring`'s (already built for TLS
//! and JWTs): ECDH, HKDF-SHA-256, AES-128-GCM.

use ring::{aead, agreement, hkdf};

use crate::{Error, Result};

/// The record size we announce. One record carries the whole payload.
const RECORD_SIZE: u32 = 4096;
/// The header: salt (16), record size (4), key id length (1), our public key (65).
pub(crate) const HEADER_LEN: usize = 16 + 4 + 1 + 65;
/// The longest plaintext one record holds: the record less its delimiter and tag.
pub(crate) const MAX_PLAINTEXT: usize = RECORD_SIZE as usize - 1 - 16;

/// A browser's P-256 public key (uncompressed, 65 bytes).
pub(crate) const P256DH_LEN: usize = 65;
/// A subscription's authentication secret.
pub(crate) const AUTH_LEN: usize = 16;

/// Encrypts `plaintext` for the subscription with public key `ua_public` and
/// authentication secret `auth`: the request body of a push.
pub(crate) fn encrypt(ua_public: &[u8], auth: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let rng = ring::rand::SystemRandom::new();
    let ours = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng).map_err(crypto)?;
    let as_public = ours.compute_public_key().map_err(crypto)?;
    let salt = crate::random_bytes::<16>()?;
    let theirs = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, ua_public);
    agreement::agree_ephemeral(ours, &theirs, |secret| {
        seal(secret, as_public.as_ref(), ua_public, auth, &salt, plaintext)
    })
    .map_err(|_| Error::validation("keys.p256dh", "is not a P-256 public key"))?
}

/// The body for an agreed `ecdh_secret` (RFC 8291 §3.3–3.4, RFC 8188 §2): separate from
/// the agreement so the RFC's example, whose sender key is fixed, checks it.
pub(crate) fn seal(
    ecdh_secret: &[u8],
    as_public: &[u8],
    ua_public: &[u8],
    auth: &[u8],
    salt: &[u8; 16],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(Error::internal(format!("a push payload of {} bytes does not fit one record", plaintext.len())));
    }
    let key_id = u8::try_from(as_public.len()).map_err(Error::internal)?;
    // IKM = HKDF(auth, ecdh_secret, "WebPush: info" 0x00 || ua_public || as_public, 32)
    let key_info: &[&[u8]] = &[b"WebPush: info\0", ua_public, as_public];
    let ikm: [u8; 32] = expand(&hkdf::Salt::new(hkdf::HKDF_SHA256, auth).extract(ecdh_secret), key_info)?;
    // Then RFC 8188's content-encryption key and nonce from the salt.
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(&ikm);
    let cek: [u8; 16] = expand(&prk, &[b"Content-Encoding: aes128gcm\0"])?;
    let nonce: [u8; 12] = expand(&prk, &[b"Content-Encoding: nonce\0"])?;

    let mut body = Vec::with_capacity(HEADER_LEN + plaintext.len() + 17);
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(key_id);
    body.extend_from_slice(as_public);
    let header_len = body.len();
    body.extend_from_slice(plaintext);
    // The last (only) record's delimiter; no padding.
    body.push(2);
    let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &cek).map_err(crypto)?);
    let mut record = body.split_off(header_len);
    key.seal_in_place_append_tag(aead::Nonce::assume_unique_for_key(nonce), aead::Aad::empty(), &mut record)
        .map_err(crypto)?;
    body.append(&mut record);
    Ok(body)
}

/// HKDF-Expand of `prk` with `info` to `N` bytes.
fn expand<const N: usize>(prk: &hkdf::Prk, info: &[&[u8]]) -> Result<[u8; N]> {
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let mut out = [0u8; N];
    prk.expand(info, Len(N)).and_then(|okm| okm.fill(&mut out)).map_err(crypto)?;
    Ok(out)
}

fn crypto(_: ring::error::Unspecified) -> Error {
    Error::internal("a cryptographic operation failed")
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    use super::*;

    fn b64(s: &str) -> Vec<u8> {
        B64.decode(s).unwrap_or_default()
    }

    /// RFC 8291 §5 (Appendix A): with its sender key (through its ECDH secret) and salt,
    /// the body is the RFC's, byte for byte.
    #[test]
    fn the_rfc_8291_example_encrypts_to_the_published_body() {
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap_or_default();
        let body = seal(
            &b64("kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs"),
            &b64("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"),
            &b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
            &b64("BTBZMqHH6r4Tts7J_aSIgg"),
            &salt,
            b"When I grow up, I want to be a watermelon",
        );
        assert_eq!(
            body.map(|b| B64.encode(b)).ok().as_deref(),
            Some(
                "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
            )
        );
    }

    #[test]
    fn a_payload_larger_than_a_record_and_a_key_off_the_curve_are_refused() {
        let ua = b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4");
        let auth = b64("BTBZMqHH6r4Tts7J_aSIgg");
        assert!(encrypt(&ua, &auth, &[b'x'; MAX_PLAINTEXT]).is_ok_and(|b| b.len() == HEADER_LEN + 4096));
        assert!(encrypt(&ua, &auth, &[b'x'; MAX_PLAINTEXT + 1]).is_err());
        let mut off_curve = ua.clone();
        off_curve[64] ^= 1;
        assert_eq!(encrypt(&off_curve, &auth, b"hi").err().map(|e| e.code()), Some("validation"));
    }
}
