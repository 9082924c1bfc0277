//! Typed Rust clients of a DevConnect server: [`Client`] for the REST API, and
//! [`realtime`] for its Socket.IO endpoint. They depend on the wire types only
//! (`devconnect-types`): no server, no store.
//!
//! [`Client`] covers every route of API.md, returning the wire types. The client keeps the bearer token
//! of the last signup, login or password change (shared by its clones); `logout`
//! forgets it. Failures carry the server's stable error code. Its routes are in a file
//! per concern: `account` (auth, profile), `connections`, `safety`, `push`, `groups`,
//! `chat` (feed, search, messages) and `ops` (health, OpenAPI, media).
//!
//! ```no_run
//! # async fn demo() -> Result<(), devconnect_client::ClientError> {
//! use devconnect_client::Client;
//! let client = Client::new("http://127.0.0.1:3000")?;
//! client.login("ada@example.com", "Str0ng!pass").await?;
//! let feed = client.feed(1, 10, &[]).await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod account;
mod chat;
mod connections;
mod groups;
mod ops;
mod push;
pub mod realtime;
mod safety;

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use devconnect_types::rest::{AuthResponse, ErrorBody};
use devconnect_types::{Me, MessageId, UserId};
use reqwest::header::{AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered with an error envelope.
    #[error("{message} ({code}, HTTP {status})")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The stable error code, e.g. `validation`, `unauthorized`, `rate_limited`.
        code: String,
        /// The server's human message.
        message: String,
        /// For `rate_limited`: how long to wait.
        retry_after: Option<Duration>,
    },
    /// The server could not be reached, or the connection failed.
    #[error("could not reach the server: {0}")]
    Transport(#[from] reqwest::Error),
    /// The server answered with something this client does not understand.
    #[error("unexpected response: {0}")]
    Decode(String),
    /// The base URL is not usable.
    #[error("invalid server URL: {0}")]
    Url(String),
}

impl ClientError {
    /// The stable code: the server's for API errors; `transport`, `decode` or `url` otherwise.
    #[must_use]
    pub fn code(&self) -> &str {
        match self {
            Self::Api { code, .. } => code,
            Self::Transport(_) => "transport",
            Self::Decode(_) => "decode",
            Self::Url(_) => "url",
        }
    }

    /// The HTTP status of an API error.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// `Result` with [`ClientError`].
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// A new account. `photo` (bytes and a file name) sends the signup as a multipart form.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAccount {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email.
    #[serde(rename = "emailID")]
    pub email: String,
    /// Password.
    pub password: String,
    /// Age.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age: Option<u8>,
    /// `male`, `female` or `others`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// About text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// Skills.
    pub skills: Vec<String>,
    /// A profile photo: bytes and a file name.
    #[serde(skip)]
    pub photo: Option<(Vec<u8>, String)>,
}

/// A profile change: `None` leaves a field as it is.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileChanges {
    /// New first name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// New last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// New age.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age: Option<u8>,
    /// New gender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// New about text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// New skills.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<String>>,
    /// A new photo: bytes and a file name (sends the edit as a multipart form).
    #[serde(skip)]
    pub photo: Option<(Vec<u8>, String)>,
}

/// A developer search (`GET /users/search`). An empty or `None` field is left out of the
/// query, so the server's defaults apply (page 1, 20 results, no bound).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserSearch {
    /// Words to match in names, about and skills (the last may be a prefix).
    pub q: String,
    /// Skills a developer must all have.
    pub skills: Vec<String>,
    /// Words the location must all have.
    pub location: String,
    /// At least this many years of experience.
    pub min_experience: Option<u8>,
    /// At most this many years of experience.
    pub max_experience: Option<u8>,
    /// 1-based page.
    pub page: Option<u32>,
    /// Page size.
    pub limit: Option<u32>,
    /// The first page's `asOf`, so later pages do not shift with new signups.
    pub as_of: Option<UserId>,
}

/// A signup or login: the user and their token (also kept by the client).
#[derive(Clone, Debug, Deserialize)]
pub struct LoggedIn {
    /// The user's own profile.
    pub user: Me,
    /// The bearer token.
    pub token: String,
}

/// A client of one DevConnect server. Cheap to clone; clones share the token.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Arc<RwLock<Option<String>>>,
}

impl Client {
    /// A client of the server at `base_url` (e.g. `http://127.0.0.1:3000`).
    pub fn new(base_url: &str) -> Result<Self> {
        // reqwest is built without a default TLS crypto provider; use ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()?;
        Self::with_http(http, base_url)
    }

    /// A client using a preconfigured `reqwest::Client`.
    pub fn with_http(http: reqwest::Client, base_url: &str) -> Result<Self> {
        let base = base_url.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base).map_err(|e| ClientError::Url(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ClientError::Url(format!("{base}: the scheme must be http or https")));
        }
        Ok(Self { http, base, token: Arc::default() })
    }

    /// The underlying HTTP client (for requests this client has no method for).
    #[must_use]
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The server's base URL.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The bearer token in use, if any.
    #[must_use]
    pub fn token(&self) -> Option<String> {
        self.token.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Uses `token` (e.g. one saved from an earlier run), or none.
    pub fn set_token(&self, token: Option<String>) {
        *self.token.write().unwrap_or_else(PoisonError::into_inner) = token;
    }

    /// A clone with its own token (not shared with this client).
    #[must_use]
    pub fn with_token(&self, token: Option<String>) -> Self {
        Self { http: self.http.clone(), base: self.base.clone(), token: Arc::new(RwLock::new(token)) }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base));
        match self.token() {
            Some(token) => builder.header(AUTHORIZATION, format!("Bearer {token}")),
            None => builder,
        }
    }

    async fn send(builder: RequestBuilder) -> Result<(StatusCode, bytes::Bytes)> {
        let response = builder.send().await?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await?;
        if status.is_success() {
            return Ok((status, body));
        }
        Err(match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => ClientError::Api { status: status.as_u16(), code: e.code, message: e.message, retry_after },
            Err(_) => ClientError::Api {
                status: status.as_u16(),
                code: format!("http_{}", status.as_u16()),
                message: String::from_utf8_lossy(&body).chars().take(200).collect(),
                retry_after,
            },
        })
    }

    async fn call<T: DeserializeOwned>(builder: RequestBuilder) -> Result<T> {
        let (_, body) = Self::send(builder).await?;
        serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()))
    }

    fn form_with_photo<T: Serialize>(fields: &T, photo: &(Vec<u8>, String)) -> Result<reqwest::multipart::Form> {
        let value = serde_json::to_value(fields).map_err(|e| ClientError::Decode(e.to_string()))?;
        let mut form = reqwest::multipart::Form::new();
        if let serde_json::Value::Object(map) = value {
            for (name, value) in map {
                match value {
                    serde_json::Value::Array(items) => {
                        for item in items {
                            form = form.text(name.clone(), item.as_str().unwrap_or_default().to_owned());
                        }
                    }
                    serde_json::Value::String(s) => form = form.text(name, s),
                    serde_json::Value::Null => {}
                    other => form = form.text(name, other.to_string()),
                }
            }
        }
        let part = reqwest::multipart::Part::bytes(photo.0.clone()).file_name(photo.1.clone());
        Ok(form.part("image", part))
    }

    /// Keeps the token of a signup or login.
    fn logged_in(&self, auth: AuthResponse) -> LoggedIn {
        self.set_token(Some(auth.token.clone()));
        LoggedIn { user: auth.user, token: auth.token }
    }
}

/// `builder` with a page's cursor (named as its route names it) and limit, when given.
fn paged(mut builder: RequestBuilder, (name, cursor): (&str, Option<MessageId>), limit: Option<u32>) -> RequestBuilder {
    if let Some(cursor) = cursor {
        builder = builder.query(&[(name, cursor.to_hex())]);
    }
    if let Some(limit) = limit {
        builder = builder.query(&[("limit", limit)]);
    }
    builder
}
