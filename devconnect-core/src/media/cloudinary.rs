//! Images on Cloudinary, through its signed Upload API (`image/upload`, `image/destroy`).
//!
//! The core has already validated and re-encoded every image it hands to
//! [`CloudinaryMedia::put`]; this module only moves bytes and signs requests.
//! Credentials never leave this module except as a request signature: every failure
//! becomes an [`Error::Internal`] whose message has the API key and secret removed.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use reqwest::multipart::{Form, Part};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use crate::config::{CLOUDINARY_API_BASE, CLOUDINARY_TIMEOUT, CloudinaryConfig, SignatureAlgorithm};
use crate::media::{Image, MediaStore};
use crate::{Error, Result};

/// Where Cloudinary delivers uploaded assets from (the host of every `secure_url`).
pub const DELIVERY_BASE: &str = "https://res.cloudinary.com";
/// Larger answers from Cloudinary are refused: its JSON replies are a few KiB.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Parameters Cloudinary leaves out of the string to sign.
const UNSIGNED_PARAMS: [&str; 4] = ["file", "cloud_name", "resource_type", "api_key"];

/// Cloudinary's request signature, exactly as documented: every parameter except
/// `file`, `cloud_name`, `resource_type` and `api_key`, sorted by name, joined as
/// `name=value` with `&`, the API secret appended, then the hex SHA-1 (or SHA-256)
/// digest of that string.
#[must_use]
pub fn api_sign_request(params: &[(&str, &str)], api_secret: &str, algorithm: SignatureAlgorithm) -> String {
    use sha1::Digest as _;

    let mut signed: Vec<&(&str, &str)> = params.iter().filter(|(name, _)| !UNSIGNED_PARAMS.contains(name)).collect();
    signed.sort_by_key(|(name, _)| *name);
    let mut to_sign = signed.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("&");
    to_sign.push_str(api_secret);
    match algorithm {
        SignatureAlgorithm::Sha1 => hex::encode(sha1::Sha1::digest(to_sign.as_bytes())),
        SignatureAlgorithm::Sha256 => hex::encode(sha2::Sha256::digest(to_sign.as_bytes())),
    }
}

/// A [`MediaStore`] keeping images on Cloudinary.
///
/// An image is uploaded with its random name (without extension) as public id, into
/// the configured folder; its URL is Cloudinary's `secure_url`. [`MediaStore::delete`]
/// destroys only assets of this cloud whose public id has the shape of one this store
/// made, so an unrelated asset (a shared default avatar, say) is never destroyed.
#[derive(Clone, Debug)]
pub struct CloudinaryMedia {
    config: Arc<CloudinaryConfig>,
    http: reqwest::Client,
    /// `{api_base}/v1_1/{cloud_name}/image`
    endpoint: String,
    /// `https://res.cloudinary.com/{cloud_name}/image/upload/`
    delivery_prefix: String,
}

impl CloudinaryMedia {
    /// A store for the cloud described by `config` (checked first). Makes no request.
    pub fn new(config: CloudinaryConfig) -> Result<Self> {
        config.validate()?;
        let endpoint = format!("{}/v1_1/{}/image", config.api_base.trim_end_matches('/'), config.cloud_name);
        let delivery_prefix = format!("{DELIVERY_BASE}/{}/image/upload/", config.cloud_name);
        let http = http_client(&config)?;
        Ok(Self { config: Arc::new(config), http, endpoint, delivery_prefix })
    }

    /// The public id (folder included) of an asset of this cloud that this store could
    /// have uploaded, from its delivery URL
    /// `https://res.cloudinary.com/<cloud>/image/upload/v<version>/<public_id>.<ext>`;
    /// `None` for any other URL.
    #[must_use]
    pub fn public_id_of(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix(&self.delivery_prefix)?;
        let rest = match rest.split_once('/') {
            Some((version, tail)) if is_version(version) => tail,
            _ => rest,
        };
        let (public_id, ext) = rest.rsplit_once('.')?;
        if ext.is_empty() || !ext.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let (folder, stem) = public_id.rsplit_once('/').map_or((None, public_id), |(f, s)| (Some(f), s));
        let safe = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        let ours = stem.len() == 32 && stem.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        (ours && folder.is_none_or(|f| f.split('/').all(safe))).then(|| public_id.to_owned())
    }

    /// A multipart form with `params`, the API key and their signature.
    fn signed_form(&self, params: &[(&str, &str)]) -> Form {
        let signature =
            api_sign_request(params, self.config.api_secret.expose_secret(), self.config.signature_algorithm);
        params
            .iter()
            .fold(Form::new(), |form, (name, value)| form.text((*name).to_owned(), (*value).to_owned()))
            .text("api_key", self.config.api_key.clone())
            .text("signature", signature)
    }

    /// The signed parameters every call shares: the timestamp and, when not the
    /// default, the signature algorithm.
    fn common_params(&self) -> Vec<(&'static str, String)> {
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut params = vec![("timestamp", timestamp.to_string())];
        if self.config.signature_algorithm == SignatureAlgorithm::Sha256 {
            params.push(("signature_algorithm", SignatureAlgorithm::Sha256.as_str().to_owned()));
        }
        params
    }

    /// POSTs `form` to `image/{action}` and decodes the JSON answer.
    async fn call<T: DeserializeOwned>(&self, action: &'static str, form: Form) -> Result<T> {
        let url = format!("{}/{action}", self.endpoint);
        let response =
            self.http.post(url).multipart(form).send().await.map_err(|e| self.transport_failure(action, e))?;
        let status = response.status();
        let body = read_body(response).await.map_err(|e| self.transport_failure(action, e))?;
        let Some(body) = body else {
            return Err(self.failure(format!("Cloudinary {action}: the answer is larger than expected")));
        };
        if !status.is_success() {
            let detail = serde_json::from_slice::<ErrorBody>(&body).map(|b| format!(": {}", b.error.message));
            return Err(
                self.failure(format!("Cloudinary {action} refused: HTTP {status}{}", detail.unwrap_or_default()))
            );
        }
        serde_json::from_slice(&body)
            .map_err(|e| self.failure(format!("Cloudinary {action}: unexpected answer (HTTP {status}): {e}")))
    }

    fn transport_failure(&self, action: &'static str, err: reqwest::Error) -> Error {
        let what = if err.is_timeout() {
            format!("Cloudinary {action} timed out after {} ms", self.config.timeout.as_millis())
        } else if err.is_connect() {
            format!("Cloudinary {action}: could not connect")
        } else {
            format!("Cloudinary {action} failed")
        };
        // Without the URL (it names only the cloud, but keeps logs short); the cause
        // chain tells an operator DNS from TLS from a reset.
        let err = err.without_url();
        let mut text = format!("{what}: {err}");
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        self.failure(text)
    }

    /// An internal error carrying `message` for the logs, with the credentials removed.
    fn failure(&self, message: String) -> Error {
        Error::internal(CloudinaryError(redact(message, &self.config)))
    }
}

#[async_trait]
impl MediaStore for CloudinaryMedia {
    async fn put(&self, image: &Image) -> Result<String> {
        let public_id = image.name.split_once('.').map_or(image.name.as_str(), |(stem, _)| stem);
        let common = self.common_params();
        let mut params: Vec<(&str, &str)> = common.iter().map(|(name, value)| (*name, value.as_str())).collect();
        params.push(("public_id", public_id));
        if let Some(folder) = &self.config.folder {
            params.push(("folder", folder));
        }
        let file = Part::bytes(image.bytes.clone())
            .file_name(image.name.clone())
            .mime_str(image.kind.mime())
            .map_err(|e| self.failure(format!("Cloudinary upload: {e}")))?;
        let form = self.signed_form(&params).part("file", file);
        let uploaded: Uploaded = self.call("upload", form).await?;
        if !uploaded.secure_url.starts_with("https://") {
            return Err(self.failure("Cloudinary upload: the answer has no https secure_url".to_owned()));
        }
        Ok(uploaded.secure_url)
    }

    async fn delete(&self, url: &str) -> Result<()> {
        let Some(public_id) = self.public_id_of(url) else { return Ok(()) };
        let common = self.common_params();
        let mut params: Vec<(&str, &str)> = common.iter().map(|(name, value)| (*name, value.as_str())).collect();
        // Also purge the CDN's cached copies: a removed photo should stop being served.
        params.extend([("public_id", public_id.as_str()), ("invalidate", "true")]);
        let destroyed: Destroyed = self.call("destroy", self.signed_form(&params)).await?;
        match destroyed.result.as_str() {
            // Deleting twice is not a failure.
            "ok" | "not found" => Ok(()),
            other => Err(self.failure(format!("Cloudinary destroy answered {other:?}"))),
        }
    }
}

/// The part of an `image/upload` answer this store uses.
#[derive(Deserialize)]
struct Uploaded {
    secure_url: String,
}

/// An `image/destroy` answer: `{"result": "ok"}` or `{"result": "not found"}`.
#[derive(Deserialize)]
struct Destroyed {
    result: String,
}

/// Cloudinary's error answer: `{"error": {"message": "..."}}`.
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorMessage,
}

#[derive(Deserialize)]
struct ErrorMessage {
    message: String,
}

/// The cause of a Cloudinary failure, for the logs; already free of credentials.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct CloudinaryError(String);

/// Removes the API key and secret from `message`: Cloudinary echoes an unknown API key
/// in its error messages, and no credential may reach a log.
fn redact(message: String, config: &CloudinaryConfig) -> String {
    let mut message = message;
    for credential in [config.api_secret.expose_secret(), config.api_key.as_str()] {
        if !credential.is_empty() {
            message = message.replace(credential, "[REDACTED]");
        }
    }
    message
}

/// Whether a path segment is a version component: `v` and digits.
fn is_version(segment: &str) -> bool {
    segment.strip_prefix('v').is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The whole body, or `None` past [`MAX_RESPONSE_BYTES`].
async fn read_body(mut response: reqwest::Response) -> reqwest::Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// The HTTP client: rustls with the ring provider given explicitly (no process-wide
/// default is installed or needed), the platform's trust store, the configured timeout
/// on connecting and on each whole call, and no redirects.
fn http_client(config: &CloudinaryConfig) -> Result<reqwest::Client> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(rustls_platform_verifier::BuilderVerifierExt::with_platform_verifier)
        .map_err(Error::internal)?
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("devconnect/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};
    use std::convert::Infallible;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU8, Ordering};
    use std::time::Duration;

    use http_body_util::{BodyExt as _, Full};
    use hyper::body::{Bytes, Incoming};
    use hyper::{Request, Response, StatusCode};
    use hyper_util::rt::TokioIo;
    use secrecy::SecretString;
    use sha1::Digest as _;

    use super::*;
    use crate::media::{DEFAULT_UPLOAD_LIMIT, process_image};
    use crate::testkit::png;
    use crate::{Config, DevConnect, MediaConfig, ProfileEdit};

    type TestResult = std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>;

    const CLOUD: &str = "devconnect-test";
    const KEY: &str = "614335564976464";
    const SECRET: &str = "Zx9-s3cr3t-cloudinary-API-secret";

    // --- a fake Cloudinary: `image/upload` and `image/destroy`, checking signatures ---

    /// How the fake answers.
    const ANSWER: u8 = 0;
    const FAIL_500: u8 = 1;
    const NEVER_ANSWER: u8 = 2;
    /// `200 OK` with a body that is not Cloudinary's JSON.
    const GARBAGE: u8 = 3;

    #[derive(Default)]
    struct State {
        mode: AtomicU8,
        calls: Mutex<Vec<Call>>,
        /// Public ids of the assets the fake holds.
        assets: Mutex<HashSet<String>>,
    }

    /// One request the fake received.
    #[derive(Clone, Debug)]
    struct Call {
        action: String,
        fields: BTreeMap<String, String>,
        file: Option<(String, Vec<u8>)>,
        signature_valid: bool,
        secure_url: Option<String>,
    }

    struct FakeCloudinary {
        api_base: String,
        state: Arc<State>,
        server: tokio::task::JoinHandle<()>,
    }

    impl Drop for FakeCloudinary {
        fn drop(&mut self) {
            self.server.abort();
        }
    }

    impl FakeCloudinary {
        async fn start() -> std::io::Result<Self> {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let api_base = format!("http://{}", listener.local_addr()?);
            let state = Arc::new(State::default());
            let shared = Arc::clone(&state);
            let server = tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let state = Arc::clone(&shared);
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| answer(Arc::clone(&state), req));
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
            Ok(Self { api_base, state, server })
        }

        fn set_mode(&self, mode: u8) {
            self.state.mode.store(mode, Ordering::SeqCst);
        }

        fn calls(&self) -> Vec<Call> {
            self.state.calls.lock().map(|c| c.clone()).unwrap_or_default()
        }

        fn assets(&self) -> HashSet<String> {
            self.state.assets.lock().map(|a| a.clone()).unwrap_or_default()
        }

        fn config(&self) -> CloudinaryConfig {
            let mut config = CloudinaryConfig::new(CLOUD, KEY, SecretString::from(SECRET.to_owned()));
            config.api_base.clone_from(&self.api_base);
            config.folder = Some("devconnect/photos".to_owned());
            config
        }

        fn media(&self) -> Result<CloudinaryMedia> {
            CloudinaryMedia::new(self.config())
        }
    }

    fn json(status: StatusCode, body: &serde_json::Value) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
        *response.status_mut() = status;
        response
    }

    async fn answer(
        state: Arc<State>,
        req: Request<Incoming>,
    ) -> std::result::Result<Response<Full<Bytes>>, Infallible> {
        let mode = state.mode.load(Ordering::SeqCst);
        if mode == NEVER_ANSWER {
            std::future::pending::<()>().await;
        }
        let action = req.uri().path().strip_prefix(&format!("/v1_1/{CLOUD}/image/")).map(str::to_owned);
        let boundary = req
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("multipart/form-data; boundary="))
            .map(str::to_owned);
        let body = req.into_body().collect().await.map(http_body_util::Collected::to_bytes).unwrap_or_default();
        let bad = |message: &str| json(StatusCode::BAD_REQUEST, &serde_json::json!({"error": {"message": message}}));
        let (Some(action), Some(boundary)) = (action, boundary) else { return Ok(bad("not a multipart API call")) };
        let Some((fields, file)) = parse_multipart(&body, &boundary) else { return Ok(bad("malformed multipart")) };
        let mut call = Call { action, signature_valid: signature_is_valid(&fields), fields, file, secure_url: None };
        let field = |name: &str| call.fields.get(name).cloned().unwrap_or_default();
        let response = if mode == FAIL_500 {
            json(StatusCode::INTERNAL_SERVER_ERROR, &serde_json::json!({"error": {"message": "General Error"}}))
        } else if mode == GARBAGE {
            Response::new(Full::new(Bytes::from_static(b"<html>maintenance</html>")))
        } else if field("api_key") != KEY {
            // Cloudinary echoes the key it does not know.
            let message = format!("Unknown API key {}", field("api_key"));
            json(StatusCode::UNAUTHORIZED, &serde_json::json!({"error": {"message": message}}))
        } else if !call.signature_valid {
            let message = format!("Invalid Signature {}. String to sign - '...'.", field("signature"));
            json(StatusCode::UNAUTHORIZED, &serde_json::json!({"error": {"message": message}}))
        } else if call.action == "upload" {
            match &call.file {
                Some((name, bytes)) if !bytes.is_empty() && !field("public_id").is_empty() => {
                    let public_id = match call.fields.get("folder") {
                        Some(folder) => format!("{folder}/{}", field("public_id")),
                        None => field("public_id"),
                    };
                    let format = name.rsplit_once('.').map_or("", |(_, ext)| ext).to_owned();
                    let version = field("timestamp");
                    let secure_url =
                        format!("https://res.cloudinary.com/{CLOUD}/image/upload/v{version}/{public_id}.{format}");
                    if let Ok(mut assets) = state.assets.lock() {
                        assets.insert(public_id.clone());
                    }
                    call.secure_url = Some(secure_url.clone());
                    json(
                        StatusCode::OK,
                        &serde_json::json!({
                            "public_id": public_id, "version": version.parse::<u64>().unwrap_or(0),
                            "format": format, "resource_type": "image", "type": "upload", "bytes": bytes.len(),
                            "url": secure_url.replacen("https://", "http://", 1), "secure_url": secure_url,
                        }),
                    )
                }
                _ => bad("Missing required parameter - file"),
            }
        } else if call.action == "destroy" {
            let removed = state.assets.lock().is_ok_and(|mut assets| assets.remove(&field("public_id")));
            json(StatusCode::OK, &serde_json::json!({"result": if removed { "ok" } else { "not found" }}))
        } else {
            json(StatusCode::NOT_FOUND, &serde_json::json!({"error": {"message": "unknown action"}}))
        };
        if let Ok(mut calls) = state.calls.lock() {
            calls.push(call);
        }
        Ok(response)
    }

    /// Recomputes the signature from the received fields, independently of
    /// [`api_sign_request`]: a `BTreeMap` keeps them sorted; the algorithm is the one
    /// the request names. The timestamp must also be fresh, as Cloudinary requires.
    fn signature_is_valid(fields: &BTreeMap<String, String>) -> bool {
        let unsigned = ["file", "cloud_name", "resource_type", "api_key", "signature"];
        let mut to_sign = fields
            .iter()
            .filter(|(name, _)| !unsigned.contains(&name.as_str()))
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("&");
        to_sign.push_str(SECRET);
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

    type Fields = (BTreeMap<String, String>, Option<(String, Vec<u8>)>);

    /// Parses a `multipart/form-data` body: text fields, and the one file part.
    fn parse_multipart(body: &[u8], boundary: &str) -> Option<Fields> {
        let delimiter = format!("--{boundary}");
        let mut fields = BTreeMap::new();
        let mut file = None;
        let mut rest = &body[find(body, delimiter.as_bytes())? + delimiter.len()..];
        while !rest.starts_with(b"--") {
            rest = rest.strip_prefix(b"\r\n")?;
            let end = find(rest, format!("\r\n{delimiter}").as_bytes())?;
            let part = &rest[..end];
            rest = &rest[end + 2 + delimiter.len()..];
            let split = find(part, b"\r\n\r\n")?;
            let headers = std::str::from_utf8(&part[..split]).ok()?;
            let content = &part[split + 4..];
            let disposition =
                headers.lines().find(|l| l.to_ascii_lowercase().starts_with("content-disposition: form-data"))?;
            let attribute = |key: &str| {
                let start = disposition.find(&format!("; {key}=\""))? + key.len() + 4;
                let len = disposition[start..].find('"')?;
                Some(disposition[start..start + len].to_owned())
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

    /// Everything an error could show or log: its `Display`, `Debug` and cause chain.
    fn everything_said(err: &Error) -> String {
        let mut text = format!("{err} {err:?}");
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            text.push_str(&format!(" {cause}"));
            source = cause.source();
        }
        text
    }

    fn assert_no_credentials(text: &str) {
        assert!(!text.contains(SECRET), "the secret leaked: {text}");
        assert!(!text.contains(KEY), "the API key leaked: {text}");
    }

    fn image() -> Result<Image> {
        process_image(&png(4, 3), DEFAULT_UPLOAD_LIMIT)
    }

    // --- the signature ---

    #[test]
    fn the_published_signature_example_is_reproduced() {
        let params = [
            ("eager", "w_400,h_300,c_pad|w_260,h_200,c_crop"),
            ("public_id", "sample_image"),
            ("timestamp", "1315060510"),
        ];
        let expected = "bfd09f95f331f558cbd1320e67aa8d488770583e";
        assert_eq!(api_sign_request(&params, "abcd", SignatureAlgorithm::Sha1), expected);

        // Order does not matter, and the unsigned parameters are left out.
        let mut shuffled = params.to_vec();
        shuffled.reverse();
        shuffled.extend([("api_key", "1234"), ("file", "x"), ("cloud_name", "demo"), ("resource_type", "image")]);
        assert_eq!(api_sign_request(&shuffled, "abcd", SignatureAlgorithm::Sha1), expected);

        let to_sign = "eager=w_400,h_300,c_pad|w_260,h_200,c_crop&public_id=sample_image&timestamp=1315060510abcd";
        let sha256 = hex::encode(sha2::Sha256::digest(to_sign.as_bytes()));
        assert_eq!(api_sign_request(&params, "abcd", SignatureAlgorithm::Sha256), sha256);
        assert_eq!(sha256.len(), 64);
    }

    // --- configuration ---

    #[test]
    fn cloudinary_urls_parse_with_options() {
        let parsed = MediaConfig::from_url(&format!("cloudinary://{KEY}:{SECRET}@{CLOUD}"));
        let Ok(MediaConfig::Cloudinary(config)) = parsed else { return assert!(parsed.is_ok(), "{parsed:?}") };
        assert_eq!((config.cloud_name.as_str(), config.api_key.as_str()), (CLOUD, KEY));
        assert_eq!(config.api_secret.expose_secret(), SECRET);
        assert_eq!((config.folder, config.api_base.as_str()), (None, CLOUDINARY_API_BASE));
        assert_eq!((config.signature_algorithm, config.timeout), (SignatureAlgorithm::Sha1, CLOUDINARY_TIMEOUT));

        let url = format!(
            "cloudinary://{KEY}:a%40b@{CLOUD}?folder=devconnect/photos&signature_algorithm=sha256&timeout=5\
             &upload_prefix=https://api-eu.cloudinary.com&secure=true"
        );
        let parsed = MediaConfig::from_url(&url);
        let Ok(MediaConfig::Cloudinary(config)) = parsed else { return assert!(parsed.is_ok(), "{parsed:?}") };
        assert_eq!(config.api_secret.expose_secret(), "a@b");
        assert_eq!(config.folder.as_deref(), Some("devconnect/photos"));
        assert_eq!(config.signature_algorithm, SignatureAlgorithm::Sha256);
        assert_eq!(config.timeout, Duration::from_secs(5));
        assert_eq!(config.api_base, "https://api-eu.cloudinary.com");
    }

    #[test]
    fn bad_cloudinary_urls_are_refused_without_echoing_credentials() {
        for url in [
            format!("cloudinary://{KEY}:{SECRET}"),
            format!("cloudinary://{KEY}{SECRET}@{CLOUD}"),
            format!("cloudinary://{KEY}:@{CLOUD}"),
            format!("cloudinary://:{SECRET}@{CLOUD}"),
            format!("cloudinary://{KEY}:{SECRET}@bad/cloud"),
            format!("cloudinary://{KEY}:{SECRET}%zz@{CLOUD}"),
            format!("cloudinary://{KEY}:{SECRET}@{CLOUD}?folder=../up"),
            format!("cloudinary://{KEY}:{SECRET}@{CLOUD}?signature_algorithm=md5"),
            format!("cloudinary://{KEY}:{SECRET}@{CLOUD}?timeout=0"),
            format!("cloudinary://{KEY}:{SECRET}@{CLOUD}?upload_prefix=ftp://x"),
            format!("https://{KEY}:{SECRET}@{CLOUD}"),
        ] {
            let parsed = MediaConfig::from_url(&url);
            let Err(err) = parsed else { return assert!(parsed.is_err(), "accepted a bad URL") };
            assert_eq!(err.code(), "validation");
            assert_no_credentials(&everything_said(&err));
        }
    }

    #[test]
    fn printed_configuration_shows_no_credentials() {
        let mut config = Config::new("/tmp/devconnect");
        config.media =
            MediaConfig::Cloudinary(CloudinaryConfig::new(CLOUD, KEY, SecretString::from(SECRET.to_owned())));
        let printed = format!("{config:?} {:#?}", config.media);
        assert!(printed.contains(CLOUD));
        assert_no_credentials(&printed);
        assert_eq!(config.media_dir(), None);
    }

    // --- against the fake Cloudinary ---

    #[tokio::test]
    async fn uploads_are_signed_and_stored_at_the_secure_url_then_destroyed() -> TestResult {
        for algorithm in [SignatureAlgorithm::Sha1, SignatureAlgorithm::Sha256] {
            let fake = FakeCloudinary::start().await?;
            let mut config = fake.config();
            config.signature_algorithm = algorithm;
            let media = CloudinaryMedia::new(config)?;
            let image = image()?;
            let stem = image.name.trim_end_matches(".png");

            let url = media.put(&image).await?;
            let calls = fake.calls();
            let [upload] = calls.as_slice() else { return Err(format!("expected one call: {calls:?}").into()) };
            assert_eq!(upload.action, "upload");
            assert!(upload.signature_valid, "{upload:?}");
            assert_eq!(upload.secure_url.as_deref(), Some(url.as_str()));
            assert_eq!(upload.fields.get("public_id").map(String::as_str), Some(stem));
            assert_eq!(upload.fields.get("folder").map(String::as_str), Some("devconnect/photos"));
            assert_eq!(upload.fields.get("api_key").map(String::as_str), Some(KEY));
            assert!(!upload.fields.values().any(|v| v.contains(SECRET)), "the secret was sent");
            assert_eq!(upload.file.as_ref().map(|(_, bytes)| bytes), Some(&image.bytes));
            let sent_algorithm = upload.fields.get("signature_algorithm").map(String::as_str);
            assert_eq!(sent_algorithm, (algorithm == SignatureAlgorithm::Sha256).then_some("sha256"));
            assert!(url.starts_with(&format!("https://res.cloudinary.com/{CLOUD}/image/upload/v")));
            assert!(url.ends_with(&format!("/devconnect/photos/{stem}.png")));
            assert_eq!(media.public_id_of(&url), Some(format!("devconnect/photos/{stem}")));

            media.delete(&url).await?;
            let calls = fake.calls();
            let destroy = calls.last().ok_or("no destroy call")?;
            assert_eq!(destroy.action, "destroy");
            assert!(destroy.signature_valid, "{destroy:?}");
            assert_eq!(destroy.fields.get("public_id"), Some(&format!("devconnect/photos/{stem}")));
            assert_eq!(destroy.fields.get("invalidate").map(String::as_str), Some("true"));
            assert!(fake.assets().is_empty());
            // Deleting again is not an error ("not found").
            media.delete(&url).await?;
        }
        Ok(())
    }

    #[tokio::test]
    async fn a_rejected_signature_is_a_clear_error_without_credentials() -> TestResult {
        let fake = FakeCloudinary::start().await?;
        let mut config = fake.config();
        config.api_secret = SecretString::from("Wr0ng-secret-of-the-right-length".to_owned());
        let wrong_secret = config.api_secret.expose_secret().to_owned();
        let media = CloudinaryMedia::new(config)?;
        let result = media.put(&image()?).await;
        let Err(err) = result else { return Err("a wrongly signed upload succeeded".into()) };
        assert_eq!(err.code(), "internal");
        assert_eq!(err.to_string(), "internal error");
        let said = everything_said(&err);
        assert!(said.contains("upload refused: HTTP 401") && said.contains("Invalid Signature"), "{said}");
        assert_no_credentials(&said);
        assert!(!said.contains(&wrong_secret), "{said}");
        assert!(fake.calls().iter().all(|c| !c.signature_valid));
        assert!(fake.assets().is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn an_unknown_api_key_echoed_by_cloudinary_is_redacted() -> TestResult {
        let fake = FakeCloudinary::start().await?;
        let mut config = fake.config();
        config.api_key = "999888777666555".to_owned();
        let media = CloudinaryMedia::new(config)?;
        let Err(err) = media.put(&image()?).await else { return Err("an unknown key was accepted".into()) };
        let said = everything_said(&err);
        assert!(said.contains("Unknown API key [REDACTED]"), "{said}");
        assert!(!said.contains("999888777666555"), "{said}");
        assert_no_credentials(&said);
        Ok(())
    }

    #[tokio::test]
    async fn server_errors_are_internal_errors() -> TestResult {
        let fake = FakeCloudinary::start().await?;
        fake.set_mode(FAIL_500);
        let media = fake.media()?;
        let Err(err) = media.put(&image()?).await else { return Err("a 500 was taken for an upload".into()) };
        assert_eq!(err.code(), "internal");
        let said = everything_said(&err);
        assert!(said.contains("HTTP 500") && said.contains("General Error"), "{said}");
        assert_no_credentials(&said);

        let url = format!("https://res.cloudinary.com/{CLOUD}/image/upload/v1/{}.png", "0".repeat(32));
        let Err(err) = media.delete(&url).await else { return Err("a 500 was taken for a destroy".into()) };
        assert_no_credentials(&everything_said(&err));
        Ok(())
    }

    #[tokio::test]
    async fn an_unexpected_answer_is_an_internal_error() -> TestResult {
        let fake = FakeCloudinary::start().await?;
        fake.set_mode(GARBAGE);
        let media = fake.media()?;
        let Err(err) = media.put(&image()?).await else { return Err("a garbage answer was taken".into()) };
        assert_eq!(err.code(), "internal");
        let said = everything_said(&err);
        assert!(said.contains("upload: unexpected answer (HTTP 200 OK)"), "{said}");
        assert_no_credentials(&said);
        Ok(())
    }

    #[tokio::test]
    async fn a_silent_server_times_out() -> TestResult {
        let fake = FakeCloudinary::start().await?;
        fake.set_mode(NEVER_ANSWER);
        let mut config = fake.config();
        config.timeout = Duration::from_millis(300);
        let media = CloudinaryMedia::new(config)?;
        let started = std::time::Instant::now();
        let Err(err) = media.put(&image()?).await else { return Err("an unanswered upload succeeded".into()) };
        assert!(started.elapsed() < Duration::from_secs(10));
        let said = everything_said(&err);
        assert!(said.contains("upload timed out after 300 ms"), "{said}");
        assert_no_credentials(&said);
        Ok(())
    }

    #[tokio::test]
    async fn an_unreachable_api_is_an_internal_error() -> TestResult {
        // Bind then drop a listener: nothing listens on that port any more.
        let port = tokio::net::TcpListener::bind("127.0.0.1:0").await?.local_addr()?.port();
        let mut config = CloudinaryConfig::new(CLOUD, KEY, SecretString::from(SECRET.to_owned()));
        config.api_base = format!("http://127.0.0.1:{port}");
        let media = CloudinaryMedia::new(config)?;
        let Err(err) = media.put(&image()?).await else { return Err("an upload to nowhere succeeded".into()) };
        assert_eq!(err.code(), "internal");
        assert_no_credentials(&everything_said(&err));
        Ok(())
    }

    #[tokio::test]
    async fn only_assets_this_store_made_in_this_cloud_are_destroyed() -> TestResult {
        let fake = FakeCloudinary::start().await?;
        let media = fake.media()?;
        let stem = "0123456789abcdef0123456789abcdef";
        for (url, expected) in [
            (format!("https://res.cloudinary.com/{CLOUD}/image/upload/v17/{stem}.jpg"), Some(stem.to_owned())),
            (format!("https://res.cloudinary.com/{CLOUD}/image/upload/{stem}.webp"), Some(stem.to_owned())),
            (
                format!("https://res.cloudinary.com/{CLOUD}/image/upload/v1/a/b-c/{stem}.png"),
                Some(format!("a/b-c/{stem}")),
            ),
            (format!("https://res.cloudinary.com/other-cloud/image/upload/v1/{stem}.png"), None),
            (format!("https://res.cloudinary.com/{CLOUD}/image/upload/v1/default_avatar.png"), None),
            (format!("https://res.cloudinary.com/{CLOUD}/video/upload/v1/{stem}.mp4"), None),
            (format!("https://res.cloudinary.com/{CLOUD}/image/upload/v1/../{stem}.png"), None),
            (format!("https://res.cloudinary.com/{CLOUD}/image/upload/v1/{stem}.png?x=1"), None),
            (format!("http://res.cloudinary.com/{CLOUD}/image/upload/v1/{stem}.png"), None),
            (format!("/media/{stem}.png"), None),
        ] {
            assert_eq!(media.public_id_of(&url), expected, "{url}");
            if expected.is_none() {
                media.delete(&url).await?;
            }
        }
        assert!(fake.calls().is_empty(), "a foreign URL reached Cloudinary");
        Ok(())
    }

    // --- through the service ---

    #[cfg(feature = "sqlite")]
    async fn service(fake: &FakeCloudinary, dir: &std::path::Path) -> Result<DevConnect> {
        let mut config = Config::new(dir);
        config.database_url = Some("sqlite::memory:".to_owned());
        config.media = MediaConfig::Cloudinary(fake.config());
        DevConnect::open(config).await
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn a_signup_photo_lands_on_cloudinary_and_replacing_it_destroys_the_old_one() -> TestResult {
        let fake = FakeCloudinary::start().await?;
        let dir = tempfile::tempdir()?;
        let app = service(&fake, dir.path()).await?;
        let mut signup = crate::testkit::signup_form("Ada", "ada@example.com");
        signup.photo = Some(png(8, 8));
        let auth = app.signup(signup, crate::Peer::Local).await?;
        let first = auth.user.profile.photo_url.clone().ok_or("no photo URL")?;
        assert_eq!(fake.calls().first().and_then(|c| c.secure_url.clone()).as_ref(), Some(&first));
        assert!(first.starts_with(&format!("https://res.cloudinary.com/{CLOUD}/image/upload/")));

        let me = app.set_photo(auth.user.profile.id, png(6, 6)).await?;
        let second = me.profile.photo_url.ok_or("no photo URL")?;
        assert_ne!(first, second);
        let media = fake.media()?;
        let (old_id, new_id) = (media.public_id_of(&first), media.public_id_of(&second));
        assert_eq!(fake.assets(), new_id.into_iter().collect::<HashSet<_>>(), "the old asset was not destroyed");
        let destroy = fake.calls().into_iter().find(|c| c.action == "destroy").ok_or("no destroy call")?;
        assert!(destroy.signature_valid);
        assert_eq!(destroy.fields.get("public_id"), old_id.as_ref());
        assert_eq!(app.profile(auth.user.profile.id).await?.profile.photo_url.as_ref(), Some(&second));
        Ok(())
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn a_failed_upload_leaves_the_profile_unchanged() -> TestResult {
        let fake = FakeCloudinary::start().await?;
        let dir = tempfile::tempdir()?;
        let app = service(&fake, dir.path()).await?;
        let mut signup = crate::testkit::signup_form("Ada", "ada@example.com");
        signup.photo = Some(png(8, 8));
        let auth = app.signup(signup, crate::Peer::Local).await?;
        let id = auth.user.profile.id;
        let before = app.profile(id).await?;
        let calls_before = fake.calls().len();

        fake.set_mode(FAIL_500);
        let edit =
            ProfileEdit { first_name: Some("Grace".to_owned()), photo: Some(png(6, 6)), ..ProfileEdit::default() };
        let Err(err) = app.edit_profile(id, edit).await else { return Err("the edit succeeded".into()) };
        assert_eq!(err.code(), "internal");
        assert_no_credentials(&everything_said(&err));
        let after = app.profile(id).await?;
        assert_eq!(after.profile.first_name, before.profile.first_name);
        assert_eq!(after.profile.photo_url, before.profile.photo_url);
        assert_eq!(after.profile.updated_at, before.profile.updated_at);
        let calls = fake.calls();
        assert_eq!(calls.len(), calls_before + 1, "{calls:?}");
        assert!(calls[calls_before..].iter().all(|c| c.action == "upload"), "something was destroyed");
        assert_eq!(fake.assets().len(), 1, "the old photo must survive");

        // A signup whose photo cannot be stored creates no account.
        let mut signup = crate::testkit::signup_form("Bob", "bob@example.com");
        signup.photo = Some(png(8, 8));
        assert!(app.signup(signup, crate::Peer::Local).await.is_err());
        fake.set_mode(ANSWER);
        assert!(app.signup(crate::testkit::signup_form("Bob", "bob@example.com"), crate::Peer::Local).await.is_ok());
        Ok(())
    }
}
