//! Typed Rust clients of a DevConnect server: [`Client`] for the REST API, and
//! [`realtime`] for its Socket.IO endpoint. They depend on the wire types only
//! (`devconnect-types`): no server, no store.
//!
//! [`Client`] covers every route of API.md, returning the wire types. The client keeps the bearer token
//! of the last signup, login or password change (shared by its clones); `logout`
//! forgets it. Failures carry the server's stable error code.
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

pub mod realtime;

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use devconnect_types::rest::{
    AuthResponse, DataResponse, ErrorBody, FeedResponse, ListResponse, ReadResponse, SearchResponse, SyncResponse,
    TokenResponse, UserResponse,
};
use devconnect_types::search::SearchPage;
use devconnect_types::{
    AccountExport, BlockedUser, ChatPartner, ConnectionRequest, Conversation, FeedPage, Group, GroupId, GroupMember,
    GroupMessage, GroupPage, GroupRole, Me, Message, MessageId, MyGroup, Profile, PushSettings, PushSettingsPatch,
    Report, ReportKind, ReportReason, RequestId, ReviewStatus, SendStatus, Sent, SyncPage, UserId, Visibility,
};
use reqwest::header::{AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

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

    // ---- auth ----

    /// `POST /auth/signup`; keeps the returned token.
    pub async fn signup(&self, account: &NewAccount) -> Result<LoggedIn> {
        let builder = self.request(Method::POST, "/auth/signup");
        let builder = match &account.photo {
            Some(photo) => builder.multipart(Self::form_with_photo(account, photo)?),
            None => builder.json(account),
        };
        Ok(self.logged_in(Self::call(builder).await?))
    }

    /// `POST /auth/login`; keeps the returned token.
    pub async fn login(&self, email: &str, password: &str) -> Result<LoggedIn> {
        let builder = self.request(Method::POST, "/auth/login").json(&json!({"emailID": email, "password": password}));
        Ok(self.logged_in(Self::call(builder).await?))
    }

    /// `POST /auth/logout`; the token stops working and is forgotten.
    pub async fn logout(&self) -> Result<()> {
        Self::send(self.request(Method::POST, "/auth/logout")).await?;
        self.set_token(None);
        Ok(())
    }

    // ---- profile ----

    /// `GET /profile/view`: my own profile.
    pub async fn me(&self) -> Result<Me> {
        Self::call(self.request(Method::GET, "/profile/view")).await
    }

    /// `GET /profile/:userId`: anyone's public profile.
    pub async fn profile(&self, id: UserId) -> Result<Profile> {
        Self::call(self.request(Method::GET, &format!("/profile/{id}"))).await
    }

    /// `PATCH /profile/edit`.
    pub async fn edit_profile(&self, changes: &ProfileChanges) -> Result<Me> {
        let builder = self.request(Method::PATCH, "/profile/edit");
        let builder = match &changes.photo {
            Some(photo) => builder.multipart(Self::form_with_photo(changes, photo)?),
            None => builder.json(changes),
        };
        Ok(Self::call::<UserResponse>(builder).await?.user)
    }

    /// `PATCH /profile/password`; keeps the new token (all older ones stop working).
    pub async fn change_password(&self, old: &str, new: &str) -> Result<()> {
        let body = json!({"oldPassword": old, "newPassword": new, "confirmPassword": new});
        let builder = self.request(Method::PATCH, "/profile/password").json(&body);
        let token = Self::call::<TokenResponse>(builder).await?.token;
        self.set_token(Some(token));
        Ok(())
    }

    // ---- connections ----

    /// `POST /request/send/:status/:toUserId` (`interested` or `ignored`), with an optional note.
    pub async fn send_request(&self, status: SendStatus, to: UserId, note: Option<&str>) -> Result<ConnectionRequest> {
        let mut builder = self.request(Method::POST, &format!("/request/send/{status}/{to}"));
        if let Some(note) = note {
            builder = builder.json(&json!({ "note": note }));
        }
        Ok(Self::call::<DataResponse<ConnectionRequest>>(builder).await?.data)
    }

    /// `POST /request/review/:status/:requestId` (`accepted` or `rejected`).
    pub async fn review_request(&self, id: RequestId, status: ReviewStatus) -> Result<ConnectionRequest> {
        let builder = self.request(Method::POST, &format!("/request/review/{status}/{id}"));
        Ok(Self::call::<DataResponse<ConnectionRequest>>(builder).await?.data)
    }

    /// `GET /user/requests/received`: pending requests to me, with the sender's profile.
    pub async fn received_requests(&self) -> Result<Vec<ConnectionRequest<Profile, UserId>>> {
        Ok(Self::call::<ListResponse<_>>(self.request(Method::GET, "/user/requests/received")).await?.requests)
    }

    /// `GET /user/requests/sent`: my requests, with the receiver's profile.
    pub async fn sent_requests(&self) -> Result<Vec<ConnectionRequest<UserId, Profile>>> {
        Ok(Self::call::<ListResponse<_>>(self.request(Method::GET, "/user/requests/sent")).await?.requests)
    }

    /// `GET /user/connections`.
    pub async fn connections(&self) -> Result<Vec<Profile>> {
        Ok(Self::call::<ListResponse<_>>(self.request(Method::GET, "/user/connections")).await?.requests)
    }

    /// `DELETE /user/deleteconnection/:userId`.
    pub async fn remove_connection(&self, other: UserId) -> Result<()> {
        Self::send(self.request(Method::DELETE, &format!("/user/deleteconnection/{other}"))).await.map(drop)
    }

    // ---- safety ----

    /// `POST /user/block/:userId`: blocks someone (both ways; see the server's README).
    pub async fn block(&self, other: UserId) -> Result<()> {
        Self::send(self.request(Method::POST, &format!("/user/block/{other}"))).await.map(drop)
    }

    /// `DELETE /user/block/:userId`: lifts my block.
    pub async fn unblock(&self, other: UserId) -> Result<()> {
        Self::send(self.request(Method::DELETE, &format!("/user/block/{other}"))).await.map(drop)
    }

    /// `GET /user/blocked`: everyone I blocked, most recently blocked first.
    pub async fn blocked_users(&self) -> Result<Vec<BlockedUser>> {
        Ok(Self::call::<DataResponse<Vec<BlockedUser>>>(self.request(Method::GET, "/user/blocked")).await?.data)
    }

    /// `POST /reports`: reports a user, message or group (`target_id`) for `reason`.
    pub async fn report(
        &self,
        kind: ReportKind,
        target_id: &str,
        reason: ReportReason,
        details: &str,
    ) -> Result<Report> {
        let body = json!({"kind": kind, "targetId": target_id, "reason": reason, "details": details});
        Ok(Self::call::<DataResponse<Report>>(self.request(Method::POST, "/reports").json(&body)).await?.data)
    }

    /// `GET /profile/export`: everything the server holds about me.
    pub async fn export_account(&self) -> Result<AccountExport> {
        Ok(Self::call::<DataResponse<AccountExport>>(self.request(Method::GET, "/profile/export")).await?.data)
    }

    /// `DELETE /profile`: deletes my account, confirmed by my password. This client's
    /// token stops working.
    pub async fn delete_account(&self, password: &str) -> Result<()> {
        let builder = self.request(Method::DELETE, "/profile").json(&json!({ "password": password }));
        Self::send(builder).await?;
        self.set_token(None);
        Ok(())
    }

    /// `GET /reports/mine`: the reports I filed, newest first.
    pub async fn my_reports(&self) -> Result<Vec<Report>> {
        Ok(Self::call::<DataResponse<Vec<Report>>>(self.request(Method::GET, "/reports/mine")).await?.data)
    }

    // ---- push notifications ----

    /// `GET /push/settings`: which notifications I get while offline. A server with
    /// push turned off answers `unavailable`.
    pub async fn push_settings(&self) -> Result<PushSettings> {
        Ok(Self::call::<DataResponse<PushSettings>>(self.request(Method::GET, "/push/settings")).await?.data)
    }

    /// `PATCH /push/settings`: changes what `patch` gives, the rest stays; the settings
    /// now in effect.
    pub async fn update_push_settings(&self, patch: &PushSettingsPatch) -> Result<PushSettings> {
        let builder = self.request(Method::PATCH, "/push/settings").json(patch);
        Ok(Self::call::<DataResponse<PushSettings>>(builder).await?.data)
    }

    // ---- groups ----

    /// `POST /groups`: a new group, which I own.
    pub async fn create_group(
        &self,
        name: &str,
        description: &str,
        visibility: Visibility,
        tags: &[String],
    ) -> Result<Group> {
        let body = json!({"name": name, "description": description, "visibility": visibility, "tags": tags});
        Ok(Self::call::<DataResponse<Group>>(self.request(Method::POST, "/groups").json(&body)).await?.data)
    }

    /// `GET /groups/mine`: my groups, with my role in each.
    pub async fn my_groups(&self) -> Result<Vec<MyGroup>> {
        Ok(Self::call::<DataResponse<Vec<MyGroup>>>(self.request(Method::GET, "/groups/mine")).await?.data)
    }

    /// `GET /groups/:groupId`.
    pub async fn group(&self, id: GroupId) -> Result<Group> {
        Ok(Self::call::<DataResponse<Group>>(self.request(Method::GET, &format!("/groups/{id}"))).await?.data)
    }

    /// `GET /groups/:groupId/members`: longest-standing first.
    pub async fn group_members(&self, id: GroupId) -> Result<Vec<GroupMember>> {
        let builder = self.request(Method::GET, &format!("/groups/{id}/members"));
        Ok(Self::call::<DataResponse<Vec<GroupMember>>>(builder).await?.data)
    }

    /// `POST /groups/:groupId/members/:userId`: adds one of my connections.
    pub async fn add_group_member(&self, id: GroupId, user: UserId) -> Result<GroupMember> {
        let builder = self.request(Method::POST, &format!("/groups/{id}/members/{user}"));
        Ok(Self::call::<DataResponse<GroupMember>>(builder).await?.data)
    }

    /// `PATCH /groups/:groupId/members/:userId`: `admin` or `member`.
    pub async fn set_group_role(&self, id: GroupId, user: UserId, role: GroupRole) -> Result<GroupMember> {
        let builder = self.request(Method::PATCH, &format!("/groups/{id}/members/{user}")).json(&json!({"role": role}));
        Ok(Self::call::<DataResponse<GroupMember>>(builder).await?.data)
    }

    /// `DELETE /groups/:groupId/members/:userId`.
    pub async fn remove_group_member(&self, id: GroupId, user: UserId) -> Result<()> {
        Self::send(self.request(Method::DELETE, &format!("/groups/{id}/members/{user}"))).await.map(drop)
    }

    /// `POST /groups/:groupId/join`: joins a public group.
    pub async fn join_group(&self, id: GroupId) -> Result<GroupMember> {
        let builder = self.request(Method::POST, &format!("/groups/{id}/join"));
        Ok(Self::call::<DataResponse<GroupMember>>(builder).await?.data)
    }

    /// `POST /groups/:groupId/leave`.
    pub async fn leave_group(&self, id: GroupId) -> Result<()> {
        Self::send(self.request(Method::POST, &format!("/groups/{id}/leave"))).await.map(drop)
    }

    /// `POST /groups/:groupId/transfer/:userId`: hands a group I own on.
    pub async fn transfer_group(&self, id: GroupId, to: UserId) -> Result<()> {
        Self::send(self.request(Method::POST, &format!("/groups/{id}/transfer/{to}"))).await.map(drop)
    }

    /// `PATCH /groups/:groupId`: changes a group's details (JSON).
    pub async fn edit_group(&self, id: GroupId, changes: &serde_json::Value) -> Result<Group> {
        let builder = self.request(Method::PATCH, &format!("/groups/{id}")).json(changes);
        Ok(Self::call::<DataResponse<Group>>(builder).await?.data)
    }

    /// `PATCH /groups/:groupId` as a multipart form: the `changes` of [`Self::edit_group`]
    /// and a new photo, in one request (one system message, one `groupUpdated`). A list
    /// goes as one comma-separated part: the server splits parts on commas but refuses a
    /// repeated `tags` part. A form cannot say "no tags": an empty list is left out, so
    /// the tags stay.
    pub async fn edit_group_with_photo(
        &self,
        id: GroupId,
        changes: &serde_json::Value,
        image: &(Vec<u8>, String),
    ) -> Result<Group> {
        let mut fields = changes.clone();
        if let serde_json::Value::Object(map) = &mut fields {
            for value in map.values_mut() {
                if let serde_json::Value::Array(items) = value {
                    let joined: Vec<&str> = items.iter().filter_map(serde_json::Value::as_str).collect();
                    *value = serde_json::Value::from(joined.join(","));
                }
            }
        }
        let builder =
            self.request(Method::PATCH, &format!("/groups/{id}")).multipart(Self::form_with_photo(&fields, image)?);
        Ok(Self::call::<DataResponse<Group>>(builder).await?.data)
    }

    /// `PATCH /groups/:groupId` as a multipart form with a new photo.
    pub async fn set_group_photo(&self, id: GroupId, image: (Vec<u8>, String)) -> Result<Group> {
        let form =
            reqwest::multipart::Form::new().part("image", reqwest::multipart::Part::bytes(image.0).file_name(image.1));
        let builder = self.request(Method::PATCH, &format!("/groups/{id}")).multipart(form);
        Ok(Self::call::<DataResponse<Group>>(builder).await?.data)
    }

    /// `GET /groups?q&skills&page&limit`: public groups, most recently active first.
    pub async fn discover_groups(&self, q: &str, tags: &[&str], page: u32, limit: u32) -> Result<GroupPage> {
        let mut builder = self.request(Method::GET, "/groups").query(&[("page", page), ("limit", limit)]);
        if !q.is_empty() {
            builder = builder.query(&[("q", q)]);
        }
        if !tags.is_empty() {
            builder = builder.query(&[("skills", tags.join(","))]);
        }
        Ok(Self::call::<DataResponse<_>>(builder).await?.data)
    }

    /// `GET /groups/:groupId/messages?before&limit`: a group's messages I may read,
    /// oldest first.
    pub async fn group_history(
        &self,
        id: GroupId,
        before: Option<MessageId>,
        limit: Option<u32>,
    ) -> Result<Vec<GroupMessage>> {
        let builder = self.request(Method::GET, &format!("/groups/{id}/messages"));
        Ok(Self::call::<DataResponse<_>>(paged(builder, ("before", before), limit)).await?.data)
    }

    /// `POST /groups/:groupId/messages` with text and an optional idempotency key.
    pub async fn send_group_message(
        &self,
        id: GroupId,
        text: &str,
        client_msg_id: Option<&str>,
    ) -> Result<Sent<GroupMessage>> {
        let builder = self
            .request(Method::POST, &format!("/groups/{id}/messages"))
            .json(&json!({"text": text, "clientMsgId": client_msg_id}));
        let (status, body) = Self::send(builder).await?;
        let sent: DataResponse<GroupMessage> =
            serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()))?;
        Ok(Sent { message: sent.data, created: status == StatusCode::CREATED })
    }

    /// `POST /groups/:groupId/read`: moves my read position up to `up_to`; the message
    /// marked, or `None` when the position did not move.
    pub async fn mark_group_read(&self, id: GroupId, up_to: MessageId) -> Result<Option<MessageId>> {
        let builder = self.request(Method::POST, &format!("/groups/{id}/read")).json(&json!({"messageId": up_to}));
        Ok(Self::call::<ReadResponse>(builder).await?.up_to)
    }

    // ---- feed ----

    /// `GET /users/feed?page&limit&skills`.
    pub async fn feed(&self, page: u32, limit: u32, skills: &[&str]) -> Result<FeedPage> {
        let mut builder = self.request(Method::GET, "/users/feed").query(&[("page", page), ("limit", limit)]);
        if !skills.is_empty() {
            builder = builder.query(&[("skills", skills.join(","))]);
        }
        Ok(Self::call::<FeedResponse>(builder).await?.into())
    }

    /// `GET /users/search?q&skills&location&minExperience&maxExperience&page&limit&asOf`.
    pub async fn search_users(&self, search: &UserSearch) -> Result<SearchPage> {
        let mut query: Vec<(&str, String)> = Vec::new();
        let texts = [("q", search.q.trim()), ("location", search.location.trim())];
        query.extend(texts.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k, v.to_owned())));
        if !search.skills.is_empty() {
            query.push(("skills", search.skills.join(",")));
        }
        let numbers = [
            ("minExperience", search.min_experience.map(u32::from)),
            ("maxExperience", search.max_experience.map(u32::from)),
            ("page", search.page),
            ("limit", search.limit),
        ];
        query.extend(numbers.into_iter().filter_map(|(k, v)| Some((k, v?.to_string()))));
        if let Some(as_of) = search.as_of {
            query.push(("asOf", as_of.to_string()));
        }
        let builder = self.request(Method::GET, "/users/search").query(&query);
        Ok(Self::call::<SearchResponse>(builder).await?.into())
    }

    // ---- messages ----

    /// `GET /message/connections`: chat partners, most recent conversation first.
    pub async fn chat_partners(&self) -> Result<Vec<ChatPartner>> {
        Ok(Self::call::<ListResponse<_>>(self.request(Method::GET, "/message/connections")).await?.requests)
    }

    /// `GET /conversations`: my 1:1 and group conversations, most recent first.
    pub async fn conversations(&self) -> Result<Vec<Conversation>> {
        Ok(Self::call::<DataResponse<_>>(self.request(Method::GET, "/conversations")).await?.data)
    }

    /// `GET /message/:userId?before&limit`: history, oldest first.
    pub async fn history(&self, other: UserId, before: Option<MessageId>, limit: Option<u32>) -> Result<Vec<Message>> {
        let builder = self.request(Method::GET, &format!("/message/{other}"));
        Self::call(paged(builder, ("before", before), limit)).await
    }

    /// `POST /message/:receiverId` with text and an optional idempotency key.
    pub async fn send_message(&self, to: UserId, text: &str, client_msg_id: Option<&str>) -> Result<Sent> {
        let builder = self
            .request(Method::POST, &format!("/message/{to}"))
            .json(&json!({"text": text, "clientMsgId": client_msg_id}));
        Self::sent(builder).await
    }

    /// `POST /message/:receiverId` as a multipart form with an image.
    pub async fn send_image(
        &self,
        to: UserId,
        text: &str,
        image: (Vec<u8>, String),
        client_msg_id: Option<&str>,
    ) -> Result<Sent> {
        let mut form = reqwest::multipart::Form::new().text("text", text.to_owned());
        if let Some(id) = client_msg_id {
            form = form.text("clientMsgId", id.to_owned());
        }
        let form = form.part("image", reqwest::multipart::Part::bytes(image.0).file_name(image.1));
        Self::sent(self.request(Method::POST, &format!("/message/{to}")).multipart(form)).await
    }

    async fn sent(builder: RequestBuilder) -> Result<Sent> {
        let (status, body) = Self::send(builder).await?;
        let message: Message = serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()))?;
        Ok(Sent { message, created: status == StatusCode::CREATED })
    }

    /// `GET /message/sync?after&limit`: everything to or from me after a message.
    pub async fn sync(&self, after: Option<MessageId>, limit: Option<u32>) -> Result<SyncPage> {
        let builder = self.request(Method::GET, "/message/sync");
        Ok(Self::call::<SyncResponse>(paged(builder, ("after", after), limit)).await?.into())
    }

    /// `POST /message/:userId/read`: marks their messages to me as read.
    pub async fn mark_read(&self, other: UserId) -> Result<Option<MessageId>> {
        Ok(Self::call::<ReadResponse>(self.request(Method::POST, &format!("/message/{other}/read"))).await?.up_to)
    }

    // ---- operations ----

    /// `GET /healthz`: whether the server and its store are up.
    pub async fn health(&self) -> Result<()> {
        Self::send(self.request(Method::GET, "/healthz")).await.map(drop)
    }

    /// `GET /openapi.json`.
    pub async fn openapi(&self) -> Result<serde_json::Value> {
        Self::call(self.request(Method::GET, "/openapi.json")).await
    }

    /// Downloads a media URL as returned in `photoURL` or `image` (relative or absolute):
    /// the bytes and the content type.
    pub async fn media(&self, url: &str) -> Result<(Vec<u8>, Option<String>)> {
        let full = if url.starts_with('/') { format!("{}{url}", self.base) } else { url.to_owned() };
        let response = self.http.get(full).send().await?;
        let status = response.status();
        let content_type =
            response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = response.bytes().await?;
        if !status.is_success() {
            return Err(ClientError::Api {
                status: status.as_u16(),
                code: format!("http_{}", status.as_u16()),
                message: "media not available".to_owned(),
                retry_after: None,
            });
        }
        Ok((bytes.to_vec(), content_type))
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

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on any unexpected error")]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;

    use super::*;

    /// A server on 127.0.0.1:0 that answers one request with `status` and the JSON
    /// `body`, and hands back the request it read (head and body).
    async fn answer_once(status: u16, body: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head, then as much body as it announces.
            loop {
                let n = socket.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(reply.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&request).into_owned()
        });
        (url, task)
    }

    const SETTINGS: &str = r#"{"success":true,"message":"Push settings","data":{"messages":true,"requests":false,"groups":true,"previews":false,"mutedGroups":[]}}"#;

    #[tokio::test]
    async fn push_settings_are_read_with_the_token_from_the_data_envelope() {
        let (url, server) = answer_once(200, SETTINGS).await;
        let client = Client::new(&url).unwrap().with_token(Some("tok".to_owned()));
        let settings = client.push_settings().await.unwrap();
        assert_eq!(settings, PushSettings { requests: false, previews: false, ..PushSettings::default() },);
        let request = server.await.unwrap().to_ascii_lowercase();
        assert!(request.starts_with("get /push/settings http/1.1"), "{request}");
        assert!(request.contains("authorization: bearer tok"), "{request}");
    }

    #[tokio::test]
    async fn a_settings_change_sends_only_what_changes() {
        let (url, server) = answer_once(200, SETTINGS).await;
        let client = Client::new(&url).unwrap();
        let patch = PushSettingsPatch { requests: Some(false), ..PushSettingsPatch::default() };
        let settings = client.update_push_settings(&patch).await.unwrap();
        assert!(!settings.requests);
        let request = server.await.unwrap();
        assert!(request.starts_with("PATCH /push/settings HTTP/1.1"), "{request}");
        assert!(request.ends_with(r#"{"requests":false}"#), "{request}");
    }

    #[tokio::test]
    async fn a_server_without_push_answers_unavailable() {
        let body = r#"{"success":false,"code":"unavailable","message":"push notifications are not enabled"}"#;
        let (url, _server) = answer_once(503, body).await;
        let err = Client::new(&url).unwrap().push_settings().await.unwrap_err();
        assert_eq!((err.code(), err.status()), ("unavailable", Some(503)));
    }
}
