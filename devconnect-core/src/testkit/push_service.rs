//! A local stand-in for a browser push service (RFC 8030), for tests that cannot reach
//! a real one, and the browser's half of Web Push: it makes subscriptions with their
//! own P-256 keys, and decrypts what it receives.
//!
//! [`PushService`] serves `POST /push/<subscription>` on `127.0.0.1` over HTTP/1. It
//! checks what a real push service checks, with its own code: the VAPID token (RFC
//! 8292: an ES256 JWT signed by the key the subscription was made with, `aud` the
//! service's origin, `exp` in the future and at most 24 hours away, a `sub` contact),
//! and the `TTL` and `Content-Encoding: aes128gcm` headers. Then it decrypts the body
//! as the browser would (RFC 8291, with the subscription's private key) and records the
//! notification. A request failing a check gets the status a real service answers
//! (400, 401, 403) and is recorded as a [`Problem`], so a test can assert there was none.
//! Answers can be scripted per subscription (`410 Gone`, `429` with `Retry-After`, …).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use ring::{aead, hkdf};

use devconnect_types::push::PushKeys;

use crate::{PushNotification, PushSubscription};

/// A notification the stand-in accepted, decrypted.
#[derive(Clone, Debug)]
pub struct Delivered {
    /// The subscription's endpoint.
    pub endpoint: String,
    /// What the browser's service worker would get.
    pub notification: PushNotification,
    /// The `Topic` header.
    pub topic: Option<String>,
    /// The `Urgency` header.
    pub urgency: Option<String>,
    /// The `TTL` header, in seconds.
    pub ttl: u64,
}

/// A request the stand-in refused, and why.
#[derive(Clone, Debug)]
pub struct Problem {
    /// The request path.
    pub path: String,
    /// What was wrong.
    pub reason: String,
}

/// A scripted answer: a status and an optional `Retry-After`.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Retry-After` header.
    pub retry_after: Option<String>,
}

/// A browser's subscription made at the stand-in: its keys stay here.
struct Browser {
    secret: p256::SecretKey,
    public: Vec<u8>,
    auth: [u8; 16],
    /// The VAPID key the subscription was made with (`applicationServerKey`).
    server_key: Vec<u8>,
}

#[derive(Default)]
struct State {
    browsers: HashMap<String, Browser>,
    scripted: HashMap<String, VecDeque<Answer>>,
    delivered: Vec<Delivered>,
    problems: Vec<Problem>,
    /// Every request received, per subscription path, with its answer.
    answered: Vec<(String, u16)>,
}

/// The stand-in push service. It stops when dropped.
pub struct PushService {
    base: String,
    state: Arc<Mutex<State>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for PushService {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl std::fmt::Debug for PushService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushService").field("base", &self.base).finish_non_exhaustive()
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PushService {
    /// Starts a stand-in on a free port of `127.0.0.1`, inside a Tokio runtime.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0".parse().map_err(std::io::Error::other)?).await
    }

    /// Starts a stand-in on `addr` (a port a test reserved, to start it late).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let base = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(Mutex::new(State::default()));
        let (shared, origin) = (Arc::clone(&state), base.clone());
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (state, origin) = (Arc::clone(&shared), origin.clone());
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req| answer(Arc::clone(&state), origin.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { base, state, server })
    }

    /// The stand-in's origin, `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> &str {
        &self.base
    }

    /// Subscribes a new browser with the server's VAPID public key (base64url), as
    /// `pushManager.subscribe` does: the subscription to register with the server.
    pub fn subscribe(&self, vapid_public_key: &str) -> PushSubscription {
        let secret = loop {
            // Almost every 32 random bytes are a valid scalar.
            if let Ok(Ok(key)) = crate::random_bytes::<32>().map(|b| p256::SecretKey::from_slice(&b)) {
                break key;
            }
        };
        let public = secret.public_key().to_encoded_point(false).as_bytes().to_vec();
        let auth = crate::random_bytes::<16>().unwrap_or([7; 16]);
        let id = hex::encode(crate::random_bytes::<12>().unwrap_or_default());
        let subscription = PushSubscription {
            endpoint: format!("{}/push/{id}", self.base),
            keys: PushKeys { p256dh: B64.encode(&public), auth: B64.encode(auth) },
        };
        let server_key = B64.decode(vapid_public_key).unwrap_or_default();
        lock(&self.state).browsers.insert(format!("/push/{id}"), Browser { secret, public, auth, server_key });
        subscription
    }

    /// Answers the next requests to `subscription` with `answers`, in order (then 201).
    pub fn script(&self, subscription: &PushSubscription, answers: impl IntoIterator<Item = Answer>) {
        let path = subscription.endpoint.trim_start_matches(&self.base).to_owned();
        lock(&self.state).scripted.entry(path).or_default().extend(answers);
    }

    /// What was delivered so far.
    pub fn delivered(&self) -> Vec<Delivered> {
        lock(&self.state).delivered.clone()
    }

    /// What was refused so far, and why.
    pub fn problems(&self) -> Vec<Problem> {
        lock(&self.state).problems.clone()
    }

    /// Every request so far: its path and the status answered.
    pub fn answered(&self) -> Vec<(String, u16)> {
        lock(&self.state).answered.clone()
    }

    /// Waits until `n` notifications were delivered (or `timeout` passed); what was.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Delivered> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let delivered = self.delivered();
            if delivered.len() >= n || tokio::time::Instant::now() >= deadline {
                return delivered;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Decrypts an `aes128gcm` body (RFC 8188) with a browser's keys (RFC 8291).
pub fn decrypt(body: &[u8], secret: &p256::SecretKey, auth: &[u8], ua_public: &[u8]) -> Result<Vec<u8>, String> {
    if body.len() < 21 {
        return Err("body shorter than its header".into());
    }
    let (salt, rest) = body.split_at(16);
    let key_len = usize::from(rest[4]);
    let as_public = rest.get(5..5 + key_len).ok_or("key id past the body")?;
    let ciphertext = rest.get(5 + key_len..).ok_or("no ciphertext")?;
    let sender = p256::PublicKey::from_sec1_bytes(as_public).map_err(|_| "the key id is not a P-256 point")?;
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), sender.as_affine());
    let expand = |prk: &hkdf::Prk, info: &[&[u8]], out: &mut [u8]| -> Result<(), String> {
        struct Len(usize);
        impl hkdf::KeyType for Len {
            fn len(&self) -> usize {
                self.0
            }
        }
        prk.expand(info, Len(out.len())).and_then(|okm| okm.fill(out)).map_err(|_| "hkdf".to_owned())
    };
    let mut ikm = [0u8; 32];
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, auth).extract(shared.raw_secret_bytes().as_slice());
    expand(&prk, &[b"WebPush: info\0", ua_public, as_public], &mut ikm)?;
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(&ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    expand(&prk, &[b"Content-Encoding: aes128gcm\0"], &mut cek)?;
    expand(&prk, &[b"Content-Encoding: nonce\0"], &mut nonce)?;
    let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &cek).map_err(|_| "cek")?);
    let mut record = ciphertext.to_vec();
    let plain = key
        .open_in_place(aead::Nonce::assume_unique_for_key(nonce), aead::Aad::empty(), &mut record)
        .map_err(|_| "the record does not decrypt")?;
    // The last record ends with 0x02 then padding zeros.
    let end = plain.iter().rposition(|b| *b != 0).ok_or("no delimiter")?;
    if plain[end] != 2 {
        return Err("the record is not marked last".into());
    }
    Ok(plain[..end].to_vec())
}

/// Checks a VAPID `Authorization` header (`vapid t=JWT, k=KEY`) against the key the
/// subscription was made with and the service's `origin`.
fn check_vapid(header: Option<&str>, server_key: &[u8], origin: &str) -> Result<(), (u16, String)> {
    let header = header.ok_or((401, "no Authorization".to_owned()))?;
    let params = header.strip_prefix("vapid ").ok_or((401, "not a vapid authorization".to_owned()))?;
    let mut token = None;
    let mut key = None;
    for part in params.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => token = Some(v),
            Some(("k", v)) => key = Some(v),
            _ => {}
        }
    }
    let (token, key) = token.zip(key).ok_or((401, "t= and k= are needed".to_owned()))?;
    let key = B64.decode(key).map_err(|_| (401, "k is not base64url".to_owned()))?;
    if key != server_key {
        return Err((403, "not the key this subscription was made with".to_owned()));
    }
    let (input, signature) = token.rsplit_once('.').ok_or((401, "not a JWT".to_owned()))?;
    let signature = B64.decode(signature).map_err(|_| (401, "bad signature encoding".to_owned()))?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &key)
        .verify(input.as_bytes(), &signature)
        .map_err(|_| (403, "the JWT signature does not verify".to_owned()))?;
    let mut parts = input.split('.');
    let header: serde_json::Value = parts
        .next()
        .and_then(|h| B64.decode(h).ok())
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or((401, "bad JWT header".to_owned()))?;
    if header["alg"] != "ES256" {
        return Err((401, "alg must be ES256".to_owned()));
    }
    let claims: serde_json::Value = parts
        .next()
        .and_then(|c| B64.decode(c).ok())
        .and_then(|c| serde_json::from_slice(&c).ok())
        .ok_or((401, "bad JWT claims".to_owned()))?;
    if claims["aud"] != origin {
        return Err((403, format!("aud {} is not {origin}", claims["aud"])));
    }
    let now = chrono::Utc::now().timestamp();
    let exp = claims["exp"].as_i64().ok_or((401, "no exp".to_owned()))?;
    if exp <= now || exp > now + 24 * 60 * 60 {
        return Err((403, "exp must be in the next 24 hours".to_owned()));
    }
    let sub = claims["sub"].as_str().unwrap_or_default();
    if !(sub.starts_with("mailto:") || sub.starts_with("https:")) {
        return Err((403, "sub must be a mailto: or https: contact".to_owned()));
    }
    Ok(())
}

async fn answer(
    state: Arc<Mutex<State>>,
    origin: String,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (authorization, ttl, encoding) = (header("authorization"), header("ttl"), header("content-encoding"));
    let (topic, urgency) = (header("topic"), header("urgency"));
    let body = req.into_body().collect().await.map(http_body_util::Collected::to_bytes).unwrap_or_default();

    let mut state = lock(&state);
    let verdict = (|| -> Result<Delivered, (u16, String)> {
        let browser = state.browsers.get(&path).ok_or((404, "no such subscription".to_owned()))?;
        check_vapid(authorization.as_deref(), &browser.server_key, &origin)?;
        let ttl: u64 = ttl.as_deref().and_then(|t| t.parse().ok()).ok_or((400, "TTL is needed".to_owned()))?;
        if encoding.as_deref() != Some("aes128gcm") {
            return Err((415, "Content-Encoding must be aes128gcm".to_owned()));
        }
        if topic
            .as_ref()
            .is_some_and(|t| t.len() > 32 || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        {
            return Err((400, "Topic must be at most 32 URL-safe characters".to_owned()));
        }
        let plain = decrypt(&body, &browser.secret, &browser.auth, &browser.public).map_err(|e| (400, e))?;
        let notification = serde_json::from_slice(&plain).map_err(|e| (400, format!("payload: {e}")))?;
        Ok(Delivered { endpoint: format!("{origin}{path}"), notification, topic, urgency, ttl })
    })();
    let scripted = state.scripted.get_mut(&path).and_then(VecDeque::pop_front);
    let (status, retry_after) = match (verdict, scripted) {
        (Err((status, reason)), _) => {
            state.problems.push(Problem { path: path.clone(), reason });
            (status, None)
        }
        // A scripted failure: the push is not delivered.
        (Ok(_), Some(answer)) if !(200..300).contains(&answer.status) => (answer.status, answer.retry_after),
        (Ok(delivered), scripted) => {
            state.delivered.push(delivered);
            (scripted.map_or(201, |a| a.status), None)
        }
    };
    state.answered.push((path, status));
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(value) = retry_after.and_then(|v| hyper::header::HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(hyper::header::RETRY_AFTER, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> Vec<u8> {
        B64.decode(s).unwrap_or_default()
    }

    /// RFC 8291 §5: the browser's private key opens the published body, and agrees
    /// with the sender's key on the published ECDH secret.
    #[test]
    fn the_rfc_8291_example_decrypts_with_the_browsers_key() {
        let secret = p256::SecretKey::from_slice(&b64("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"));
        let Ok(secret) = secret else { return assert!(secret.is_ok()) };
        let ua_public = secret.public_key().to_encoded_point(false).as_bytes().to_vec();
        assert_eq!(
            B64.encode(&ua_public),
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
        );
        let sender = p256::PublicKey::from_sec1_bytes(&b64(
            "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
        ));
        let Ok(sender) = sender else { return assert!(sender.is_ok()) };
        let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), sender.as_affine());
        assert_eq!(B64.encode(shared.raw_secret_bytes()), "kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs");
        let body = b64(
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
        );
        let plain = decrypt(&body, &secret, &b64("BTBZMqHH6r4Tts7J_aSIgg"), &ua_public);
        assert_eq!(plain.as_deref().ok(), Some(&b"When I grow up, I want to be a watermelon"[..]));
        let mut tampered = body.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(decrypt(&tampered, &secret, &b64("BTBZMqHH6r4Tts7J_aSIgg"), &ua_public).is_err());
    }
}
