//! A local stand-in for Cloudinary's signed Upload API, for tests that cannot reach the
//! real service.
//!
//! [`FakeCloudinary`] serves `POST /v1_1/<cloud>/image/upload` and `…/image/destroy` on
//! `127.0.0.1` over HTTP/1. It checks what Cloudinary checks before doing anything: the
//! API key, and the request signature, recomputed from the received fields with its own
//! code (not [`api_sign_request`](crate::media::cloudinary::api_sign_request)), in the
//! algorithm the request names, over a timestamp less than an hour old. A bad key or
//! signature gets Cloudinary's `401` and error body, so a store that signs wrongly fails
//! here as it would in production; an accepted upload is kept as an asset and answered
//! with a `secure_url` of the real delivery host.
//!
//! Every request is recorded as a [`Call`] (what was sent, whether its signature was
//! valid, what was answered), and [`Mode`] makes the fake fail the ways the real service
//! can. The server stops when the fake is dropped.

use std::collections::{BTreeMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use secrecy::SecretString;
use sha1::Digest as _;

use crate::config::CloudinaryConfig;
use crate::media::cloudinary::DELIVERY_BASE;

/// How the fake answers the requests it receives from now on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// As Cloudinary does: checks the key and signature, then uploads or destroys.
    #[default]
    Answer,
    /// `500 Internal Server Error` with Cloudinary's error body ("General Error").
    Fail500,
    /// Never answers (the connection stays open): for timeouts.
    NeverAnswer,
    /// `200 OK` with a body that is not Cloudinary's JSON (an HTML maintenance page).
    Garbage,
}

/// One request the fake received (and answered: a request left unanswered in
/// [`Mode::NeverAnswer`] is not recorded).
#[derive(Clone)]
pub struct Call {
    /// The request path, e.g. `/v1_1/demo/image/upload`.
    pub path: String,
    /// The last segment of an API path of this cloud (`upload`, `destroy`); empty for
    /// any other path.
    pub action: String,
    /// The text fields of the multipart body, by name (`api_key`, `timestamp`,
    /// `signature`, `public_id`, …); empty if the body was not multipart.
    pub fields: BTreeMap<String, String>,
    /// The `file` part: its file name and bytes.
    pub file: Option<(String, Vec<u8>)>,
    /// Whether the signature matched the fields, the secret and a fresh timestamp.
    pub signature_valid: bool,
    /// The `secure_url` answered to an accepted upload.
    pub secure_url: Option<String>,
    /// The request as received: method, path and query, headers, then the body.
    received: Vec<u8>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Sizes rather than bytes: a failing assertion prints calls.
        f.debug_struct("Call")
            .field("path", &self.path)
            .field("action", &self.action)
            .field("fields", &self.fields)
            .field("file", &self.file.as_ref().map(|(name, bytes)| (name, format!("{} bytes", bytes.len()))))
            .field("signature_valid", &self.signature_valid)
            .field("secure_url", &self.secure_url)
            .field("received", &format!("{} bytes", self.received.len()))
            .finish()
    }
}

impl Call {
    /// Whether `text` appears anywhere in the request (path, query, headers or body):
    /// for checking that a credential was never sent.
    #[must_use]
    pub fn contains(&self, text: &str) -> bool {
        !text.is_empty() && find(&self.received, text.as_bytes()).is_some()
    }
}

/// A running fake Cloudinary for one cloud, API key and secret. See the
/// [module docs](self).
pub struct FakeCloudinary {
    identity: Arc<Identity>,
    api_base: String,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakeCloudinary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeCloudinary")
            .field("cloud", &self.identity.cloud)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeCloudinary {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The credentials the fake accepts.
struct Identity {
    cloud: String,
    api_key: String,
    api_secret: String,
}

#[derive(Default)]
struct State {
    mode: Mutex<Mode>,
    calls: Mutex<Vec<Call>>,
    /// Public ids of the assets the fake holds.
    assets: Mutex<HashSet<String>>,
}

impl FakeCloudinary {
    /// Starts a fake of cloud `cloud` accepting `api_key` and requests signed with
    /// `api_secret`, listening on a free port of `127.0.0.1`. Must be called inside a
    /// Tokio runtime, which serves it.
    pub async fn start(cloud: &str, api_key: &str, api_secret: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let api_base = format!("http://{}", listener.local_addr()?);
        let identity = Arc::new(Identity {
            cloud: cloud.to_owned(),
            api_key: api_key.to_owned(),
            api_secret: api_secret.to_owned(),
        });
        let state = Arc::new(State::default());
        let (shared_identity, shared_state) = (Arc::clone(&identity), Arc::clone(&state));
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (identity, state) = (Arc::clone(&shared_identity), Arc::clone(&shared_state));
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req| answer(Arc::clone(&identity), Arc::clone(&state), req));
                    // A client hanging up mid-request is not the fake's concern.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { identity, api_base, state, server })
    }

    /// The API base URL (`http://127.0.0.1:PORT`), Cloudinary's `upload_prefix`.
    #[must_use]
    pub fn api_base(&self) -> &str {
        &self.api_base
    }

    /// How to answer the next requests.
    pub fn set_mode(&self, mode: Mode) {
        if let Ok(mut current) = self.state.mode.lock() {
            *current = mode;
        }
    }

    /// The requests received so far, oldest first.
    #[must_use]
    pub fn calls(&self) -> Vec<Call> {
        self.state.calls.lock().map(|calls| calls.clone()).unwrap_or_default()
    }

    /// The public ids (folder included) of the assets uploaded and not destroyed.
    #[must_use]
    pub fn assets(&self) -> HashSet<String> {
        self.state.assets.lock().map(|assets| assets.clone()).unwrap_or_default()
    }

    /// A configuration of the Cloudinary media store for this fake: its cloud and
    /// credentials, its address as API base, and otherwise the defaults (no folder,
    /// SHA-1, 20 s), which a test may change before using it.
    #[must_use]
    pub fn config(&self) -> CloudinaryConfig {
        let identity = &self.identity;
        let mut config = CloudinaryConfig::new(
            identity.cloud.clone(),
            identity.api_key.clone(),
            SecretString::from(identity.api_secret.clone()),
        );
        config.api_base.clone_from(&self.api_base);
        config
    }

    /// The same configuration as [`config`](Self::config), as the media URL servers
    /// take (`--media-url`): `cloudinary://KEY:SECRET@CLOUD?upload_prefix=API_BASE`, the
    /// credentials percent-encoded.
    #[must_use]
    pub fn url(&self) -> String {
        let identity = &self.identity;
        format!(
            "cloudinary://{}:{}@{}?upload_prefix={}",
            percent_encode(&identity.api_key),
            percent_encode(&identity.api_secret),
            identity.cloud,
            self.api_base
        )
    }
}

/// `text` with every byte but RFC 3986's unreserved ones percent-encoded.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn json(status: StatusCode, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
}

/// Cloudinary's error answer: `{"error": {"message": …}}`.
fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    json(status, &serde_json::json!({"error": {"message": message}}))
}

async fn answer(
    identity: Arc<Identity>,
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let mode = state.mode.lock().map(|mode| *mode).unwrap_or_default();
    if mode == Mode::NeverAnswer {
        std::future::pending::<()>().await;
    }
    let path = req.uri().path().to_owned();
    let action = path
        .strip_prefix(&format!("/v1_1/{}/image/", identity.cloud))
        .filter(|action| !action.is_empty() && !action.contains('/'))
        .unwrap_or_default()
        .to_owned();
    let mut received = format!("{} {}\r\n", req.method(), req.uri()).into_bytes();
    for (name, value) in req.headers() {
        received.extend_from_slice(format!("{name}: ").as_bytes());
        received.extend_from_slice(value.as_bytes());
        received.extend_from_slice(b"\r\n");
    }
    let boundary = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("multipart/form-data; boundary="))
        .map(str::to_owned);
    let body = req.into_body().collect().await.map(http_body_util::Collected::to_bytes).unwrap_or_default();
    received.extend_from_slice(b"\r\n");
    received.extend_from_slice(&body);

    let parsed = boundary.and_then(|boundary| parse_multipart(&body, &boundary));
    let multipart = parsed.is_some();
    let (fields, file) = parsed.unwrap_or_default();
    let signature_valid = multipart && signature_is_valid(&fields, &identity.api_secret);
    let mut call = Call { path, action, fields, file, signature_valid, secure_url: None, received };
    let response = respond(&identity, &state, mode, multipart, &mut call);
    if let Ok(mut calls) = state.calls.lock() {
        calls.push(call);
    }
    Ok(response)
}

/// The answer to `call` in `mode`; records an accepted upload's `secure_url` in `call`.
fn respond(identity: &Identity, state: &State, mode: Mode, multipart: bool, call: &mut Call) -> Response<Full<Bytes>> {
    let field = |name: &str| call.fields.get(name).cloned().unwrap_or_default();
    if call.action.is_empty() {
        return error(StatusCode::NOT_FOUND, "unknown API path");
    }
    if !multipart {
        return error(StatusCode::BAD_REQUEST, "not a multipart API call");
    }
    match mode {
        Mode::Fail500 => return error(StatusCode::INTERNAL_SERVER_ERROR, "General Error"),
        Mode::Garbage => return Response::new(Full::new(Bytes::from_static(b"<html>maintenance</html>"))),
        Mode::Answer | Mode::NeverAnswer => {}
    }
    if field("api_key") != identity.api_key {
        // Cloudinary echoes the key it does not know.
        return error(StatusCode::UNAUTHORIZED, &format!("Unknown API key {}", field("api_key")));
    }
    if !call.signature_valid {
        let message = format!("Invalid Signature {}. String to sign - '...'.", field("signature"));
        return error(StatusCode::UNAUTHORIZED, &message);
    }
    match call.action.as_str() {
        "upload" => {
            let Some((name, bytes)) = call.file.as_ref().filter(|(_, bytes)| !bytes.is_empty()) else {
                return error(StatusCode::BAD_REQUEST, "Missing required parameter - file");
            };
            if field("public_id").is_empty() {
                return error(StatusCode::BAD_REQUEST, "Missing required parameter - public_id");
            }
            let public_id = match call.fields.get("folder") {
                Some(folder) => format!("{folder}/{}", field("public_id")),
                None => field("public_id"),
            };
            let format = name.rsplit_once('.').map_or("", |(_, ext)| ext).to_owned();
            let version = field("timestamp");
            let secure_url = format!("{DELIVERY_BASE}/{}/image/upload/v{version}/{public_id}.{format}", identity.cloud);
            let size = bytes.len();
            if let Ok(mut assets) = state.assets.lock() {
                assets.insert(public_id.clone());
            }
            call.secure_url = Some(secure_url.clone());
            json(
                StatusCode::OK,
                &serde_json::json!({
                    "public_id": public_id, "version": version.parse::<u64>().unwrap_or(0),
                    "format": format, "resource_type": "image", "type": "upload", "bytes": size,
                    "url": secure_url.replacen("https://", "http://", 1), "secure_url": secure_url,
                }),
            )
        }
        "destroy" => {
            let removed = state.assets.lock().is_ok_and(|mut assets| assets.remove(&field("public_id")));
            json(StatusCode::OK, &serde_json::json!({"result": if removed { "ok" } else { "not found" }}))
        }
        _ => error(StatusCode::NOT_FOUND, "unknown action"),
    }
}

/// Recomputes the signature from the received fields: every field but the unsigned ones,
/// sorted by name (a `BTreeMap` keeps them so), `name=value` joined with `&`, the secret
/// appended, digested with the algorithm the request names. The timestamp must also be
/// fresh, as Cloudinary requires.
fn signature_is_valid(fields: &BTreeMap<String, String>, api_secret: &str) -> bool {
    let unsigned = ["file", "cloud_name", "resource_type", "api_key", "signature"];
    let mut to_sign = fields
        .iter()
        .filter(|(name, _)| !unsigned.contains(&name.as_str()))
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    to_sign.push_str(api_secret);
    let expected = match fields.get("signature_algorithm").map(String::as_str) {
        Some("sha256") => hex::encode(sha2::Sha256::digest(to_sign.as_bytes())),
        None => hex::encode(sha1::Sha1::digest(to_sign.as_bytes())),
        Some(_) => return false,
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let fresh = fields.get("timestamp").and_then(|t| t.parse::<u64>().ok()).is_some_and(|t| t.abs_diff(now) < 3600);
    fresh && fields.get("signature") == Some(&expected)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A multipart body's text fields, by name, and its one file part.
type Fields = (BTreeMap<String, String>, Option<(String, Vec<u8>)>);

/// Parses a `multipart/form-data` body: text fields, and the one file part (named
/// `file`). `None` if it is malformed or has another file part.
fn parse_multipart(body: &[u8], boundary: &str) -> Option<Fields> {
    let delimiter = format!("--{boundary}");
    let mut fields = BTreeMap::new();
    let mut file = None;
    let mut rest = body.get(find(body, delimiter.as_bytes())? + delimiter.len()..)?;
    while !rest.starts_with(b"--") {
        rest = rest.strip_prefix(b"\r\n")?;
        let end = find(rest, format!("\r\n{delimiter}").as_bytes())?;
        let part = rest.get(..end)?;
        rest = rest.get(end + 2 + delimiter.len()..)?;
        let split = find(part, b"\r\n\r\n")?;
        let headers = std::str::from_utf8(part.get(..split)?).ok()?;
        let content = part.get(split + 4..)?;
        let disposition =
            headers.lines().find(|l| l.to_ascii_lowercase().starts_with("content-disposition: form-data"))?;
        let attribute = |key: &str| {
            let start = disposition.find(&format!("; {key}=\""))? + key.len() + 4;
            let value = disposition.get(start..)?;
            Some(value.get(..value.find('"')?)?.to_owned())
        };
        let name = attribute("name")?;
        match attribute("filename") {
            Some(filename) if name == "file" => file = Some((filename, content.to_vec())),
            Some(_) => return None,
            None => {
                fields.insert(name, String::from_utf8(content.to_vec()).ok()?);
            }
        }
    }
    Some((fields, file))
}
