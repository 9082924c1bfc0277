//! `devconnect`: the DevConnect core as a Python extension module (pyo3, built with maturin).
//!
//! - [`PyDevConnect`] (`devconnect.DevConnect`) wraps the core handle; each method
//!   decodes its arguments, makes one core call with the GIL released, and encodes the
//!   result as plain Python data ([`convert`]).
//! - [`errors`]: the exception hierarchy and the one mapping from `devconnect_core::Error`.
//! - [`subscription`]: realtime events as a blocking iterator.
//! - [`calls`]: the module's runtime, running a core call with the GIL released, and
//!   decoding ids and page numbers.

mod calls;
mod convert;
mod errors;
mod subscription;

use std::path::PathBuf;

use devconnect_core::config::DEFAULT_PUSH_SUBJECT;
use devconnect_core::{
    AuditId, Config, DevConnect, FeedQuery, GroupEdit, GroupId, GroupQuery, GroupRole, MediaConfig, MessageId,
    NewGroup, NewMessage, NewReport, PasswordChange, Peer, ProfileEdit, PushConfig, PushSettingsPatch, ReportId,
    ReportStatus, RequestId, ReviewStatus, SearchQuery, SendStatus, Signup, Upload, Visibility,
};
use pyo3::prelude::*;
use secrecy::SecretString;

use crate::calls::{call, group_id_of, page_number, parsed, push_subscription, run, user_id};
use crate::subscription::PySubscription;

/// The DevConnect service, in process: accounts, profiles, connections, feed, chat and
/// realtime events, on the embedded SQLite store or MongoDB.
///
/// Methods that act for a user take that user's id (`me`, a 24-hex string), as a
/// frontend would after `authenticate(token)`. Results are plain dicts and lists with
/// the keys of the REST API's JSON; times are timezone-aware `datetime`s (UTC). Errors
/// raise subclasses of `DevConnectError`. Every call releases the GIL while it runs;
/// one object may be shared by many threads.
#[pyclass(name = "DevConnect", module = "devconnect", frozen)]
struct PyDevConnect {
    app: DevConnect,
}

#[pymethods]
impl PyDevConnect {
    /// Opens (creating if needed) a DevConnect service.
    ///
    /// `url` is `sqlite://PATH`, `sqlite::memory:` or `mongodb://HOST/DATABASE` (in
    /// builds with the `mongodb` feature, as `pip install` makes). Files (the JWT secret,
    /// local media) go to `data_dir`, by default the database file's directory (or the
    /// current directory). `media_dir` overrides where images are kept
    /// (`{data_dir}/media`). `jwt_secret` (at least 32 bytes) signs tokens; without it a
    /// random secret is generated once and kept in `{data_dir}/jwt-secret`. Image URLs
    /// are absolute: under `public_url` (a REST server serving `media_dir` at
    /// `{public_url}/media/`), by default the `file://` URL of `media_dir`.
    ///
    /// `push=True` turns on Web Push notifications for people who are offline (off by
    /// default: an embedding program may not want a delivery task). The VAPID key is
    /// `vapid_key_file` (PKCS#8 DER; every process of one deployment must share it), by
    /// default `{data_dir}/vapid.pk8`, generated on first use; `push_subject` is the
    /// operator's `mailto:` or `https:` contact push services see;
    /// `push_allow_loopback` also accepts `http://` endpoints on loopback addresses
    /// (tests, a local push service). Giving these without `push=True` raises
    /// `ValidationError`.
    #[staticmethod]
    #[pyo3(signature = (url="sqlite://devconnect.db", *, data_dir=None, media_dir=None, jwt_secret=None, public_url=None, push=false, push_subject=None, vapid_key_file=None, push_allow_loopback=false))]
    #[expect(clippy::too_many_arguments, reason = "the service's options as keyword arguments")]
    fn open(
        py: Python<'_>,
        url: &str,
        data_dir: Option<PathBuf>,
        media_dir: Option<PathBuf>,
        jwt_secret: Option<String>,
        public_url: Option<&str>,
        push: bool,
        push_subject: Option<String>,
        vapid_key_file: Option<PathBuf>,
        push_allow_loopback: bool,
    ) -> PyResult<Self> {
        if !push && (push_subject.is_some() || vapid_key_file.is_some() || push_allow_loopback) {
            let err = devconnect_core::Error::validation(
                "push",
                "push_subject, vapid_key_file and push_allow_loopback need push=True",
            );
            return Err(errors::to_py_err(py, &err));
        }
        let data_dir = data_dir.unwrap_or_else(|| default_data_dir(url));
        let mut config = Config::new(data_dir);
        config.database_url = Some(url.to_owned());
        config.jwt_secret = jwt_secret.map(SecretString::from);
        let base_url = public_url
            .map(|u| devconnect_core::config::parse_public_url(u).map(|u| format!("{u}/media")))
            .transpose()
            .map_err(|e| errors::to_py_err(py, &e))?;
        config.media = MediaConfig::Local { dir: media_dir, base_url };
        config.push = push.then(|| PushConfig {
            vapid_key_file,
            allow_loopback_http: push_allow_loopback,
            ..PushConfig::new(push_subject.unwrap_or_else(|| DEFAULT_PUSH_SUBJECT.to_owned()))
        });
        let app = run(py, DevConnect::open(config))?;
        Ok(Self { app })
    }

    /// Checks that the store is reachable; raises if not.
    fn health(&self, py: Python<'_>) -> PyResult<()> {
        run(py, self.app.health())
    }

    /// Closes the store. Call once, when done with the service.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        run(py, self.app.close())
    }

    /// Returns itself, to be closed on exit.
    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// Closes; exceptions propagate.
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: &Bound<'_, PyAny>,
        exc: &Bound<'_, PyAny>,
        tb: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let _ = (exc_type, exc, tb);
        self.close(py)?;
        Ok(false)
    }

    /// Creates an account. Returns `{"user": Me, "token": str}`. A taken email raises
    /// `ConflictError`; bad fields raise `ValidationError`. `photo` is image bytes
    /// (JPEG, PNG or WebP).
    #[pyo3(signature = (first_name, email, password, *, last_name=String::new(), age=None, gender=None, about=None, skills=Vec::new(), photo=None))]
    #[expect(clippy::too_many_arguments, reason = "mirrors the signup form's fields as keyword arguments")]
    fn signup<'py>(
        &self,
        py: Python<'py>,
        first_name: String,
        email: String,
        password: String,
        last_name: String,
        age: Option<i64>,
        gender: Option<String>,
        about: Option<String>,
        skills: Vec<String>,
        photo: Option<Vec<u8>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let signup = Signup {
            first_name,
            last_name,
            email,
            password,
            age,
            gender,
            about,
            skills,
            photo: photo.map(Upload::from),
        };
        // A local call of the embedding program: not limited per client address.
        call(py, self.app.signup(signup, Peer::Local))
    }

    /// Logs in. Returns `{"user": Me, "token": str}`; a wrong email or password raises
    /// `AuthError`.
    fn login<'py>(&self, py: Python<'py>, email: &str, password: &str) -> PyResult<Bound<'py, PyAny>> {
        call(py, self.app.login(email, password, Peer::Local))
    }

    /// Checks a token. Returns `{"userId", "tokenId", "expiresAt"}`; raises `AuthError`
    /// if it is invalid, expired or revoked.
    fn authenticate<'py>(&self, py: Python<'py>, token: &str) -> PyResult<Bound<'py, PyAny>> {
        call(py, self.app.authenticate(token))
    }

    /// Revokes this token (and ends subscriptions opened with it).
    fn logout(&self, py: Python<'_>, token: &str) -> PyResult<()> {
        let app = &self.app;
        run(py, async move { app.logout(&app.authenticate(token).await?).await })
    }

    /// Changes the password of the token's user. Every older token stops working;
    /// returns the new token.
    fn change_password<'py>(
        &self,
        py: Python<'py>,
        token: &str,
        old_password: String,
        new_password: String,
        confirm_password: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let app = &self.app;
        let change = PasswordChange { old_password, new_password, confirm_password };
        call(py, async move { app.change_password(&app.authenticate(token).await?, change).await })
    }

    /// Deletes the token's user's account, confirmed by their password: see
    /// `DevConnect::delete_account` in the core.
    fn delete_account<'py>(&self, py: Python<'py>, token: &str, password: String) -> PyResult<Bound<'py, PyAny>> {
        let app = &self.app;
        call(py, async move { app.delete_account(&app.authenticate(token).await?, &password).await })
    }

    /// The caller's own profile (with `emailID`).
    fn profile<'py>(&self, py: Python<'py>, me: &str) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        call(py, self.app.profile(me))
    }

    /// Anyone's public profile (no email) as the caller may see it: unknown ids, and
    /// users who blocked the caller, raise `NotFoundError` alike.
    fn public_profile<'py>(&self, py: Python<'py>, me: &str, user_id: &str) -> PyResult<Bound<'py, PyAny>> {
        let me = crate::user_id(py, "me", me)?;
        let id = crate::user_id(py, "user_id", user_id)?;
        call(py, self.app.profile_for(me, id))
    }

    /// Edits the caller's profile; only the given fields change, and nothing changes
    /// unless all are valid. `skills` replaces the list; `photo` is image bytes.
    /// Returns the updated profile.
    #[pyo3(signature = (me, *, first_name=None, last_name=None, age=None, gender=None, about=None, skills=None, location=None, experience_years=None, photo=None))]
    #[expect(clippy::too_many_arguments, reason = "mirrors the profile form's fields as keyword arguments")]
    fn edit_profile<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        first_name: Option<String>,
        last_name: Option<String>,
        age: Option<i64>,
        gender: Option<String>,
        about: Option<String>,
        skills: Option<Vec<String>>,
        location: Option<String>,
        experience_years: Option<i64>,
        photo: Option<Vec<u8>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        let edit = ProfileEdit {
            first_name,
            last_name,
            age,
            gender,
            about,
            skills,
            location,
            experience_years,
            photo: photo.map(Upload::from),
        };
        call(py, self.app.edit_profile(me, edit))
    }

    /// Replaces the caller's photo with `photo` (JPEG, PNG or WebP bytes, re-encoded
    /// without metadata). Returns the updated profile.
    fn set_photo<'py>(&self, py: Python<'py>, me: &str, photo: Vec<u8>) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        call(py, self.app.set_photo(me, Upload(photo)))
    }

    /// Sends a connection request (`status` `"interested"` or `"ignored"`) with an
    /// optional note. Returns the request.
    #[pyo3(signature = (me, to, status="interested", note=None))]
    fn send_request<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        to: &str,
        status: &str,
        note: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        let to = user_id(py, "to", to)?;
        let status = parsed(py, SendStatus::parse(status))?;
        call(py, self.app.send_request(me, to, status, note))
    }

    /// Reviews a request sent to the caller (`status` `"accepted"` or `"rejected"`).
    /// Returns the request.
    fn review_request<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        request_id: &str,
        status: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        let id = parsed(py, RequestId::parse("request_id", request_id))?;
        let status = parsed(py, ReviewStatus::parse(status))?;
        call(py, self.app.review_request(me, id, status))
    }

    /// Pending requests to the caller, newest first; `fromUserId` is the sender's profile.
    fn received_requests<'py>(&self, py: Python<'py>, me: &str) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        call(py, self.app.received_requests(me))
    }

    /// Requests the caller sent, newest first; `toUserId` is the receiver's profile.
    fn sent_requests<'py>(&self, py: Python<'py>, me: &str) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        call(py, self.app.sent_requests(me))
    }

    /// The caller's connections, as profiles.
    fn connections<'py>(&self, py: Python<'py>, me: &str) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        call(py, self.app.connections(me))
    }

    /// Removes the connection with `other` (`NotFoundError` if there is none).
    fn remove_connection(&self, py: Python<'_>, me: &str, other: &str) -> PyResult<()> {
        let me = user_id(py, "me", me)?;
        let other = user_id(py, "other", other)?;
        run(py, self.app.remove_connection(me, other))
    }

    /// A page of developers the caller has no request or connection with, newest
    /// first: `{"profiles", "page", "limit", "hasMore"}`. `page` defaults to 1, `limit`
    /// to 10 (at most 50); `skills` keeps profiles having any of them.
    #[pyo3(signature = (me, *, page=None, limit=None, skills=Vec::new()))]
    fn feed<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        page: Option<i64>,
        limit: Option<i64>,
        skills: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        let query = FeedQuery { page: page.map(page_number), limit: limit.map(page_number), skills };
        let app = &self.app;
        call(py, async move { app.feed(me, &query).await })
    }

    /// Finds developers for the caller, best match first (name above skills above about,
    /// then newest account): `{"results", "page", "limit", "hasMore", "asOf"}`, each
    /// result a profile plus `relation` (`"connected"`, `"pending"` or `"none"`). Never
    /// lists the caller, suspended users, or anyone in a block with the caller.
    /// `q` is words of names, about text and skills (the last may be the start of one; at
    /// most 200 characters and 10 words); `skills` must all be present; `location` words
    /// must all be in the location; `min_experience`/`max_experience` bound the years
    /// (0–60). `page` defaults to 1, `limit` to 20 (at most 50). Pass the first page's
    /// `asOf` as `as_of` with the next pages, so signups meanwhile do not shift them.
    #[pyo3(signature = (me, *, q=None, skills=Vec::new(), location=None, min_experience=None, max_experience=None, page=None, limit=None, as_of=None))]
    #[expect(clippy::too_many_arguments, reason = "mirrors the search form's fields as keyword arguments")]
    fn search_users<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        q: Option<String>,
        skills: Vec<String>,
        location: Option<String>,
        min_experience: Option<i64>,
        max_experience: Option<i64>,
        page: Option<i64>,
        limit: Option<i64>,
        as_of: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        let query = SearchQuery {
            q,
            skills,
            location,
            min_experience,
            max_experience,
            page: page.map(page_number),
            limit: limit.map(page_number),
            as_of: as_of.map(|raw| user_id(py, "as_of", raw)).transpose()?,
        };
        let app = &self.app;
        call(py, async move { app.search_users(me, &query).await })
    }

    /// Connections and anyone the caller has history with, most recent conversation
    /// first: profiles plus `online`, `lastMessage` and `unreadCount`.
    fn chat_partners<'py>(&self, py: Python<'py>, me: &str) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        call(py, self.app.chat_partners(me))
    }

    /// The caller's 1:1 conversations and groups together, most recent first (by their
    /// last message; then connections never written with, then quiet groups), as the
    /// REST API's `GET /conversations` lists them: dicts with `kind` `"direct"` (`user`,
    /// `online`, `lastMessage`, `unreadCount`) or `"group"` (`group`, `lastMessage`,
    /// `unreadCount`). System messages and the caller's own are never unread.
    fn conversations<'py>(&self, py: Python<'py>, me: &str) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        call(py, self.app.conversations(me))
    }

    /// Messages between the caller and `other`, oldest first: the newest page, or the
    /// page before message `before`. `limit` defaults to 50 (at most 200).
    #[pyo3(signature = (me, other, *, before=None, limit=None))]
    fn history<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        other: &str,
        before: Option<&str>,
        limit: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        let other = user_id(py, "other", other)?;
        let before = parsed(py, before.map(|b| MessageId::parse("before", b)).transpose())?;
        call(py, self.app.history(me, other, before, limit.map(page_number)))
    }

    /// Sends a message to a connection (`ForbiddenError` otherwise). `text` may be empty
    /// when `image` (bytes) is given. With `client_msg_id`, a resend returns the message
    /// stored the first time. Returns the message.
    #[pyo3(signature = (me, to, text=String::new(), *, client_msg_id=None, image=None))]
    fn send_message<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        to: &str,
        text: String,
        client_msg_id: Option<String>,
        image: Option<Vec<u8>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        let to = user_id(py, "to", to)?;
        let message = NewMessage { text, client_msg_id, image: image.map(Upload::from) };
        let app = &self.app;
        call(py, async move { app.send_message(me, to, message).await.map(|sent| sent.message) })
    }

    /// Everything to or from the caller after message `after` (or from the start), in
    /// order, messages in the caller's groups (with `groupId`) among them:
    /// `{"messages", "hasMore"}`. `limit` defaults to 100 (at most 500).
    #[pyo3(signature = (me, *, after=None, limit=None))]
    fn sync<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        after: Option<&str>,
        limit: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        let after = parsed(py, after.map(|a| MessageId::parse("after", a)).transpose())?;
        call(py, self.app.sync(me, after, limit.map(page_number)))
    }

    /// Marks everything `other` sent the caller as read and tells `other`. Returns the
    /// id of the newest message marked, or `None` if nothing was unread.
    fn mark_read<'py>(&self, py: Python<'py>, me: &str, other: &str) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        let other = user_id(py, "other", other)?;
        call(py, self.app.mark_read(me, other))
    }

    /// Tells connection `to` that the caller is (or stopped) typing.
    #[pyo3(signature = (me, to, typing=true))]
    fn typing(&self, py: Python<'_>, me: &str, to: &str, typing: bool) -> PyResult<()> {
        let me = user_id(py, "me", me)?;
        let to = user_id(py, "to", to)?;
        run(py, self.app.typing(me, to, typing))
    }

    /// The caller (if online) and their online connections, caller first (ids).
    fn online_connections<'py>(&self, py: Python<'py>, me: &str) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        call(py, self.app.online_connections(me))
    }

    /// Creates a group the caller owns (`visibility` `"private"` or `"public"`).
    #[pyo3(signature = (me, name, *, description="", visibility="private", tags=Vec::new()))]
    fn create_group<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        name: String,
        description: &str,
        visibility: &str,
        tags: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        let visibility = parsed(py, Visibility::parse(visibility))?;
        let new = NewGroup { name, description: description.to_owned(), visibility, tags };
        call(py, self.app.create_group(me, new))
    }

    /// A group the caller may see (any public one; a private one as a member).
    fn group<'py>(&self, py: Python<'py>, me: &str, group_id: &str) -> PyResult<Bound<'py, PyAny>> {
        let (me, id) = (user_id(py, "me", me)?, group_id_of(py, group_id)?);
        call(py, self.app.group(me, id))
    }

    /// Edits a group the caller owns or administers (`ForbiddenError` otherwise); only
    /// the given fields change, and nothing changes unless all are valid. `tags`
    /// replaces the list (`[]` clears it); `photo` is image bytes and replaces the old
    /// one. The members get `groupUpdated` and a system message (`edited`). Returns the
    /// group.
    #[pyo3(signature = (me, group_id, *, name=None, description=None, visibility=None, tags=None, photo=None))]
    #[expect(clippy::too_many_arguments, reason = "mirrors the group form's fields as keyword arguments")]
    fn edit_group<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        group_id: &str,
        name: Option<String>,
        description: Option<String>,
        visibility: Option<&str>,
        tags: Option<Vec<String>>,
        photo: Option<Vec<u8>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (me, id) = (user_id(py, "me", me)?, group_id_of(py, group_id)?);
        let visibility = parsed(py, visibility.map(Visibility::parse).transpose())?;
        let edit = GroupEdit { name, description, visibility, tags, photo: photo.map(Upload::from) };
        call(py, self.app.edit_group(me, id, edit))
    }

    /// A group's members, longest-standing first.
    fn group_members<'py>(&self, py: Python<'py>, me: &str, group_id: &str) -> PyResult<Bound<'py, PyAny>> {
        let (me, id) = (user_id(py, "me", me)?, group_id_of(py, group_id)?);
        call(py, self.app.group_members(me, id))
    }

    /// The caller's groups, each with the caller's `role`.
    fn my_groups<'py>(&self, py: Python<'py>, me: &str) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        call(py, self.app.my_groups(me))
    }

    /// Adds one of the caller's connections to a group the caller owns or administers.
    fn add_group_member<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        group_id: &str,
        user: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (me, id, user) = (user_id(py, "me", me)?, group_id_of(py, group_id)?, user_id(py, "user", user)?);
        call(py, self.app.add_group_member(me, id, user))
    }

    /// Makes a member an admin or an admin a member (`role` `"admin"` or `"member"`).
    fn set_group_role<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        group_id: &str,
        user: &str,
        role: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (me, id, user) = (user_id(py, "me", me)?, group_id_of(py, group_id)?, user_id(py, "user", user)?);
        let role = parsed(py, GroupRole::parse(role))?;
        call(py, self.app.set_group_role(me, id, user, role))
    }

    /// Removes a member (admins remove members, the owner also admins).
    fn remove_group_member(&self, py: Python<'_>, me: &str, group_id: &str, user: &str) -> PyResult<()> {
        let (me, id, user) = (user_id(py, "me", me)?, group_id_of(py, group_id)?, user_id(py, "user", user)?);
        run(py, self.app.remove_group_member(me, id, user))
    }

    /// Joins a public group.
    fn join_group<'py>(&self, py: Python<'py>, me: &str, group_id: &str) -> PyResult<Bound<'py, PyAny>> {
        let (me, id) = (user_id(py, "me", me)?, group_id_of(py, group_id)?);
        call(py, self.app.join_group(me, id))
    }

    /// Leaves a group (an owner hands it on first; the last member archives it).
    fn leave_group(&self, py: Python<'_>, me: &str, group_id: &str) -> PyResult<()> {
        let (me, id) = (user_id(py, "me", me)?, group_id_of(py, group_id)?);
        run(py, self.app.leave_group(me, id))
    }

    /// Hands a group the caller owns to another member.
    fn transfer_group(&self, py: Python<'_>, me: &str, group_id: &str, to: &str) -> PyResult<()> {
        let (me, id, to) = (user_id(py, "me", me)?, group_id_of(py, group_id)?, user_id(py, "to", to)?);
        run(py, self.app.transfer_group(me, id, to))
    }

    /// A page of public, unarchived groups, most recently active first (by their latest
    /// message, system messages included): `{"groups", "page", "limit", "hasMore"}`.
    /// `q` is words of the name, each a whole word of it except the last, which may be
    /// the start of one (at most 100 characters and 5 words); `tags` must all be present
    /// (at most 20); both case-insensitive. `page` defaults to 1, `limit` to 10 (at
    /// most 50).
    #[pyo3(signature = (q=None, *, tags=None, page=None, limit=None))]
    fn discover_groups<'py>(
        &self,
        py: Python<'py>,
        q: Option<String>,
        tags: Option<Vec<String>>,
        page: Option<i64>,
        limit: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let query = GroupQuery {
            q,
            tags: tags.unwrap_or_default(),
            page: page.map(page_number),
            limit: limit.map(page_number),
        };
        let app = &self.app;
        call(py, async move { app.discover_groups(&query).await })
    }

    /// Sends a message to a group the caller is a member of (`ForbiddenError` otherwise;
    /// `NotFoundError` for a private group they were never in); every member, the caller
    /// too, gets a `groupMessage` event. `text` may be empty when `image` (bytes) is
    /// given. With `client_msg_id`, a resend returns the message stored the first time.
    /// Returns the message (with `groupId`).
    #[pyo3(signature = (me, group_id, text=String::new(), *, client_msg_id=None, image=None))]
    fn send_group_message<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        group_id: &str,
        text: String,
        client_msg_id: Option<String>,
        image: Option<Vec<u8>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (me, id) = (user_id(py, "me", me)?, group_id_of(py, group_id)?);
        let message = NewMessage { text, client_msg_id, image: image.map(Upload::from) };
        let app = &self.app;
        call(py, async move { app.send_group_message(me, id, message).await.map(|sent| sent.message) })
    }

    /// A group's messages the caller may read, oldest first: the newest page, or the
    /// page before message `before`. A member reads from when they joined, and after
    /// leaving still up to then; system messages (`change` set) record each change of
    /// the group. `limit` defaults to 50 (at most 200).
    #[pyo3(signature = (me, group_id, *, before=None, limit=None))]
    fn group_history<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        group_id: &str,
        before: Option<&str>,
        limit: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (me, id) = (user_id(py, "me", me)?, group_id_of(py, group_id)?);
        let before = parsed(py, before.map(|b| MessageId::parse("before", b)).transpose())?;
        call(py, self.app.group_history(me, id, before, limit.map(page_number)))
    }

    /// Moves the caller's read position in a group up to message `up_to` (never back)
    /// and, when it moved, tells the other members (`groupRead`). Returns whether it
    /// moved.
    fn mark_group_read(&self, py: Python<'_>, me: &str, group_id: &str, up_to: &str) -> PyResult<bool> {
        let (me, id) = (user_id(py, "me", me)?, group_id_of(py, group_id)?);
        let up_to = parsed(py, MessageId::parse("up_to", up_to))?;
        run(py, self.app.mark_group_read(me, id, up_to))
    }

    /// Tells the other members of a group that the caller is (or stopped) typing.
    #[pyo3(signature = (me, group_id, typing=true))]
    fn group_typing(&self, py: Python<'_>, me: &str, group_id: &str, typing: bool) -> PyResult<()> {
        let (me, id) = (user_id(py, "me", me)?, group_id_of(py, group_id)?);
        run(py, self.app.group_typing(me, id, typing))
    }

    /// Blocks `user_id`: a block works both ways (feed, profiles, requests, 1:1 chat),
    /// ends the connection and pending requests between the two, and is not revealed to
    /// the one blocked; in groups the caller no longer gets their messages. Returns
    /// `False` if they were already blocked. Blocking oneself raises `ValidationError`,
    /// an unknown user `NotFoundError`, more than 1,000 blocks `LimitExceededError`.
    fn block(&self, py: Python<'_>, me: &str, user_id: &str) -> PyResult<bool> {
        let (me, other) = (crate::user_id(py, "me", me)?, crate::user_id(py, "user_id", user_id)?);
        run(py, self.app.block(me, other))
    }

    /// Lifts the caller's block of `user_id` (`NotFoundError` if there is none); nothing
    /// that the block removed comes back.
    fn unblock(&self, py: Python<'_>, me: &str, user_id: &str) -> PyResult<()> {
        let (me, other) = (crate::user_id(py, "me", me)?, crate::user_id(py, "user_id", user_id)?);
        run(py, self.app.unblock(me, other))
    }

    /// Everyone the caller blocked, most recently blocked first: `{"user", "blockedAt"}`.
    fn blocked_users<'py>(&self, py: Python<'py>, me: &str) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        call(py, self.app.blocked_users(me))
    }

    /// Reports a user, message or group (`kind` `"user"`, `"message"` or `"group"`;
    /// `target_id` its id) to the operators for `reason` (`"spam"`, `"harassment"`,
    /// `"impersonation"`, `"inappropriate_content"` or `"other"`), with the caller's
    /// `details` (at most 1,000 characters). The report keeps a `snapshot` of the target
    /// as the caller sees it now. A target the caller cannot see raises `NotFoundError`;
    /// oneself, one's own message or bad input `ValidationError`; a second open report
    /// of the same target `ConflictError`; too many reports `RateLimitedError`.
    #[pyo3(signature = (me, kind, target_id, reason, details=String::new()))]
    fn report<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        kind: String,
        target_id: String,
        reason: String,
        details: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        call(py, self.app.report(me, NewReport { kind, target_id, reason, details }))
    }

    /// The reports the caller filed, newest first.
    fn my_reports<'py>(&self, py: Python<'py>, me: &str) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        call(py, self.app.my_reports(me))
    }

    /// Everything held about the caller: profile (with email), connections, requests,
    /// the messages they sent, groups, blocks and reports.
    fn export_account<'py>(&self, py: Python<'py>, me: &str) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        call(py, self.app.export_account(me))
    }

    // ---- push notifications (`UnavailableError` unless opened with `push=True`) ----

    /// The VAPID public key (base64url, an uncompressed P-256 point): the
    /// `applicationServerKey` browsers subscribe with.
    fn vapid_public_key(&self, py: Python<'_>) -> PyResult<String> {
        self.app.vapid_public_key().map_err(|e| errors::to_py_err(py, &e))
    }

    /// Registers a browser's push subscription for the token's user, bound to that
    /// token (logging it out removes the subscription; a password change removes all).
    /// `subscription` is `subscription.toJSON()`'s shape: `{"endpoint": str, "keys":
    /// {"p256dh": str, "auth": str}}`. The endpoint must be an https URL of a push
    /// service and the keys base64url of the right length, else `ValidationError`. An
    /// endpoint registered before is replaced; past 10 per user the oldest goes.
    fn add_push_subscription(&self, py: Python<'_>, token: &str, subscription: &Bound<'_, PyAny>) -> PyResult<()> {
        let subscription = push_subscription(py, subscription)?;
        let app = &self.app;
        run(py, async move { app.add_push_subscription(&app.authenticate(token).await?, &subscription).await })
    }

    /// Removes the caller's subscription at `endpoint` (`NotFoundError` if there is none).
    fn remove_push_subscription(&self, py: Python<'_>, me: &str, endpoint: &str) -> PyResult<()> {
        let me = user_id(py, "me", me)?;
        run(py, self.app.remove_push_subscription(me, endpoint))
    }

    /// Which notifications the caller gets while offline: `{"messages", "requests",
    /// "groups", "previews", "mutedGroups"}` (everything on until turned off).
    fn push_settings<'py>(&self, py: Python<'py>, me: &str) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        call(py, self.app.push_settings(me))
    }

    /// Changes the given settings; the rest stay. `muted_groups` replaces the list
    /// (`[]` unmutes every group; at most 1,000). Returns the settings now in effect.
    #[pyo3(signature = (me, *, messages=None, requests=None, groups=None, previews=None, muted_groups=None))]
    #[expect(clippy::too_many_arguments, reason = "mirrors the settings' fields as keyword arguments")]
    fn update_push_settings<'py>(
        &self,
        py: Python<'py>,
        me: &str,
        messages: Option<bool>,
        requests: Option<bool>,
        groups: Option<bool>,
        previews: Option<bool>,
        muted_groups: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let me = user_id(py, "me", me)?;
        let muted_groups = muted_groups
            .map(|ids| ids.iter().map(|id| GroupId::parse("muted_groups", id)).collect::<Result<Vec<_>, _>>())
            .transpose();
        let patch = PushSettingsPatch { messages, requests, groups, previews, muted_groups: parsed(py, muted_groups)? };
        call(py, self.app.update_push_settings(me, patch))
    }

    // ---- operators (moderation): the caller names the operator as `actor` ----

    /// Reports with `status` (`"open"`, `"resolved"`, `"dismissed"`; all with `None`),
    /// oldest first, after the report `after`; `limit` default 50, at most 500.
    #[pyo3(signature = (status=None, *, after=None, limit=None))]
    fn reports<'py>(
        &self,
        py: Python<'py>,
        status: Option<&str>,
        after: Option<&str>,
        limit: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let status = status.map(|s| parsed(py, ReportStatus::parse(s))).transpose()?;
        let after = after.map(|a| parsed(py, ReportId::parse("after", a))).transpose()?;
        call(py, self.app.reports(status, after, limit.map(page_number)))
    }

    /// One report, with its snapshot.
    fn report_by_id<'py>(&self, py: Python<'py>, report_id: &str) -> PyResult<Bound<'py, PyAny>> {
        let id = parsed(py, ReportId::parse("report_id", report_id))?;
        call(py, self.app.report_by_id(id))
    }

    /// Closes an open report as `"resolved"` or `"dismissed"` with a note, recorded in
    /// the audit log under `actor`.
    #[pyo3(signature = (actor, report_id, outcome, note=String::new()))]
    fn close_report<'py>(
        &self,
        py: Python<'py>,
        actor: String,
        report_id: &str,
        outcome: &str,
        note: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = parsed(py, ReportId::parse("report_id", report_id))?;
        let outcome = parsed(py, ReportStatus::parse(outcome))?;
        let app = &self.app;
        call(py, async move { app.close_report(&actor, id, outcome, &note).await })
    }

    /// Suspends a user (no login, sessions end everywhere, hidden from listings).
    #[pyo3(signature = (actor, user_id, note=String::new()))]
    fn suspend<'py>(&self, py: Python<'py>, actor: String, user_id: &str, note: String) -> PyResult<Bound<'py, PyAny>> {
        let user = crate::user_id(py, "user_id", user_id)?;
        let app = &self.app;
        call(py, async move { app.suspend(&actor, user, &note).await })
    }

    /// Lifts a suspension.
    #[pyo3(signature = (actor, user_id, note=String::new()))]
    fn unsuspend<'py>(
        &self,
        py: Python<'py>,
        actor: String,
        user_id: &str,
        note: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user = crate::user_id(py, "user_id", user_id)?;
        let app = &self.app;
        call(py, async move { app.unsuspend(&actor, user, &note).await })
    }

    /// Deletes a user's account and photo, as `delete_account` does without the password.
    #[pyo3(signature = (actor, user_id, note=String::new()))]
    fn delete_user<'py>(
        &self,
        py: Python<'py>,
        actor: String,
        user_id: &str,
        note: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user = crate::user_id(py, "user_id", user_id)?;
        let app = &self.app;
        call(py, async move { app.delete_user(&actor, user, &note).await })
    }

    /// The audit log, oldest first, after the entry `after`; `limit` default 50, at most 500.
    #[pyo3(signature = (*, after=None, limit=None))]
    fn audit<'py>(&self, py: Python<'py>, after: Option<&str>, limit: Option<i64>) -> PyResult<Bound<'py, PyAny>> {
        let after = after.map(|a| parsed(py, AuditId::parse("after", a))).transpose()?;
        call(py, self.app.audit(after, limit.map(page_number)))
    }

    /// Whether the user has any open subscription.
    fn is_online(&self, py: Python<'_>, user_id: &str) -> PyResult<bool> {
        let id = crate::user_id(py, "user_id", user_id)?;
        Ok(self.app.is_online(id))
    }

    /// Opens a realtime event stream for `user_id`, who is online until it is closed.
    /// `timeout` (seconds, default `None` = forever) bounds each wait for an event.
    #[pyo3(signature = (user_id, *, timeout=None))]
    fn subscribe(&self, py: Python<'_>, user_id: &str, timeout: Option<f64>) -> PyResult<PySubscription> {
        let id = crate::user_id(py, "user_id", user_id)?;
        let timeout = timeout.map(subscription::seconds).transpose()?;
        let stream = run(py, self.app.live_unauthenticated(id))?;
        Ok(PySubscription::new(stream, timeout))
    }

    /// Like `subscribe`, for a token's user; the stream also ends when that token is
    /// logged out, revoked by a password change, or expires. With `last_message_id`
    /// (the newest message the caller has), the messages missed since come first, in
    /// order, then live events; each message arrives once.
    #[pyo3(signature = (token, *, last_message_id=None, timeout=None))]
    fn subscribe_session(
        &self,
        py: Python<'_>,
        token: &str,
        last_message_id: Option<&str>,
        timeout: Option<f64>,
    ) -> PyResult<PySubscription> {
        let timeout = timeout.map(subscription::seconds).transpose()?;
        let after = last_message_id.map(|id| MessageId::parse("last_message_id", id)).transpose();
        let after = parsed(py, after)?;
        let app = &self.app;
        let stream = run(py, async move { app.live(&app.authenticate(token).await?, after).await })?;
        Ok(PySubscription::new(stream, timeout))
    }

    /// A short description.
    fn __repr__(&self) -> &'static str {
        "<devconnect.DevConnect>"
    }
}

/// `sqlite://PATH` keeps its files beside the database; anything else in the current directory.
fn default_data_dir(url: &str) -> PathBuf {
    url.strip_prefix("sqlite://")
        .map(PathBuf::from)
        .and_then(|path| path.parent().map(PathBuf::from))
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The DevConnect core as a Python module.
#[pymodule]
fn devconnect(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDevConnect>()?;
    m.add_class::<PySubscription>()?;
    errors::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_files_go_beside_the_database() {
        assert_eq!(default_data_dir("sqlite:///var/lib/dc/devconnect.db"), PathBuf::from("/var/lib/dc"));
        assert_eq!(default_data_dir("sqlite://devconnect.db"), PathBuf::from("."));
        assert_eq!(default_data_dir("sqlite::memory:"), PathBuf::from("."));
    }
}
