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
        let http = crate::https::client(config.timeout)?;
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

#[cfg(test)]
mod tests;
