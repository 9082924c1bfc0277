//! Push notifications for people who are offline (Web Push: RFC 8030 delivery,
//! RFC 8291 encryption, RFC 8292 VAPID).
//!
//! A browser subscribes with the server's VAPID public key and registers the
//! subscription here ([`DevConnect::add_push_subscription`]). When a message, a group
//! message, a connection request or an acceptance is stored for someone with no live
//! session on this instance, a notification is queued in the store's outbox before the
//! action is acknowledged ([`PushStore`](crate::store::PushStore)): a crash loses
//! nothing. A delivery task on every instance claims due entries, drops those whose
//! user is online on any instance by then, and sends the rest, encrypted and signed,
//! retrying 429 and 5xx answers with backoff (honouring `Retry-After`) and removing
//! subscriptions their push service says are gone (404, 410). A notification waits
//! [`PushConfig::coalesce`] before it goes: what arrives for the same conversation
//! meanwhile is counted into it, so a burst is one notification, and its `Topic` makes
//! a newer one replace an older one still on the push service.
//!
//! - `ece`: the payload encryption; `vapid`: the server's key and signed tokens.
//! - `deliver` (cargo feature `push`): the delivery task, over HTTPS; `resolve`: the
//!   addresses it may call.

#[cfg(feature = "push")]
mod deliver;
mod ece;
#[cfg(feature = "push")]
mod resolve;
mod vapid;

use base64::Engine as _;
use devconnect_types::{GroupId, PushKind, PushSettings, PushSettingsPatch, PushSubscription, UserId};

use crate::config::PushConfig;
use crate::model::{PushItem, PushSubscriptionRecord};
use crate::{DevConnect, Error, Result, Session};

#[cfg(feature = "push")]
pub(crate) use deliver::start as start_delivery;
pub use vapid::VAPID_KEY_FILE;

/// The longest endpoint URL accepted.
pub const MAX_ENDPOINT_LEN: usize = 2048;
/// Groups one may mute.
pub const MAX_MUTED_GROUPS: usize = 1000;
/// The longest text preview a notification carries, in characters.
pub const PREVIEW_CHARS: usize = 100;
/// How long a push service keeps a notification for an unreachable browser (`TTL`).
#[cfg(feature = "push")]
const TTL: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Push, when the service has it: the VAPID identity and its configuration.
pub(crate) struct Push {
    vapid: vapid::Vapid,
    config: PushConfig,
}

impl Push {
    /// Opens the VAPID key (`{data_dir}/vapid.pk8` unless configured).
    pub(crate) fn open(config: PushConfig, data_dir: &std::path::Path) -> Result<Self> {
        let file = config.vapid_key_file.clone().unwrap_or_else(|| data_dir.join(VAPID_KEY_FILE));
        Ok(Self { vapid: vapid::Vapid::open(&file, &config.subject)?, config })
    }
}

/// Decodes a base64url key (padded or not) of exactly `len` bytes.
fn decode_key(field: &'static str, value: &str, len: usize) -> Result<Vec<u8>> {
    // Checked before decoding: no work for an oversized value.
    if value.len() > len.div_ceil(3) * 4 {
        return Err(Error::validation(field, format!("must be {len} bytes, base64url")));
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .map_err(|_| Error::validation(field, "must be base64url"))?;
    if bytes.len() != len {
        return Err(Error::validation(field, format!("must be {len} bytes, base64url")));
    }
    Ok(bytes)
}

/// Checks an endpoint: an `https` URL of a named host (an address literal could reach
/// this network's insides), without credentials; with `allow_loopback_http`, also
/// `http` or `https` on a loopback address or name (`localhost`, `*.localhost`, RFC
/// 6761). Where a name leads is checked again at each delivery (`resolve`).
pub(crate) fn parse_endpoint(raw: &str, allow_loopback_http: bool) -> Result<url::Url> {
    let invalid = |reason: &str| Error::validation("endpoint", reason.to_owned());
    if raw.len() > MAX_ENDPOINT_LEN {
        return Err(invalid(&format!("must be at most {MAX_ENDPOINT_LEN} characters")));
    }
    let url = url::Url::parse(raw).map_err(|_| invalid("must be an https URL"))?;
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have credentials or a fragment"));
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => {
            let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(invalid("must name a host")),
    };
    let named = matches!(url.host(), Some(url::Host::Domain(_))) && !loopback;
    match url.scheme() {
        "https" if named || (loopback && allow_loopback_http) => Ok(url),
        "http" if loopback && allow_loopback_http => Ok(url),
        "https" | "http" if loopback || !named => Err(invalid("must be a push service's URL, not a local address")),
        _ => Err(invalid("must be an https URL")),
    }
}

impl DevConnect {
    fn push(&self) -> Result<&Push> {
        self.inner.push.as_ref().ok_or(Error::Unavailable("push notifications are not enabled on this server"))
    }

    /// The server's VAPID public key (base64url), which browsers subscribe with.
    /// `Unavailable` when push is not enabled.
    pub fn vapid_public_key(&self) -> Result<String> {
        Ok(self.push()?.vapid.public_key().to_owned())
    }

    /// Registers a browser's push subscription for the session's user, bound to its
    /// token (logging that token out removes it). An endpoint registered before, by
    /// anyone, is replaced; past [`PushConfig::max_subscriptions`] the user's oldest go.
    pub async fn add_push_subscription(&self, session: &Session, subscription: &PushSubscription) -> Result<()> {
        let push = self.push()?;
        let endpoint = parse_endpoint(&subscription.endpoint, push.config.allow_loopback_http)?;
        let p256dh = decode_key("keys.p256dh", &subscription.keys.p256dh, ece::P256DH_LEN)?;
        let auth = decode_key("keys.auth", &subscription.keys.auth, ece::AUTH_LEN)?;
        // A point off the curve would fail every push: refuse it now.
        ece::encrypt(&p256dh, &auth, b"")?;
        self.inner.limits.check_edit(session.user_id)?;
        let record = PushSubscriptionRecord {
            id: bson::oid::ObjectId::new().to_hex(),
            user: session.user_id,
            endpoint: endpoint.into(),
            p256dh,
            auth,
            token_id: session.token_id.clone(),
            created_at: crate::now(),
        };
        self.inner.store.add_push_subscription(&record, push.config.max_subscriptions).await
    }

    /// Removes `me`'s subscription at `endpoint` (`NotFound` if there is none).
    pub async fn remove_push_subscription(&self, me: UserId, endpoint: &str) -> Result<()> {
        self.push()?;
        let gone = || Error::NotFound("push subscription");
        if endpoint.len() > MAX_ENDPOINT_LEN {
            return Err(gone());
        }
        self.inner.limits.check_edit(me)?;
        if !self.inner.store.remove_push_subscription(me, endpoint).await? {
            return Err(gone());
        }
        Ok(())
    }

    /// `me`'s push settings.
    pub async fn push_settings(&self, me: UserId) -> Result<PushSettings> {
        self.push()?;
        self.inner.store.push_settings(me).await
    }

    /// Changes `me`'s push settings (at most [`MAX_MUTED_GROUPS`] muted groups); the
    /// settings now in effect.
    pub async fn update_push_settings(&self, me: UserId, patch: PushSettingsPatch) -> Result<PushSettings> {
        self.push()?;
        if patch.muted_groups.as_ref().is_some_and(|g| g.len() > MAX_MUTED_GROUPS) {
            return Err(Error::validation("mutedGroups", format!("at most {MAX_MUTED_GROUPS} groups")));
        }
        let mut settings = self.inner.store.push_settings(me).await?;
        let PushSettingsPatch { messages, requests, groups, previews, muted_groups } = patch;
        settings.messages = messages.unwrap_or(settings.messages);
        settings.requests = requests.unwrap_or(settings.requests);
        settings.groups = groups.unwrap_or(settings.groups);
        settings.previews = previews.unwrap_or(settings.previews);
        if let Some(mut muted) = muted_groups {
            muted.sort();
            muted.dedup();
            settings.muted_groups = muted;
        }
        self.inner.store.set_push_settings(me, &settings).await?;
        Ok(settings)
    }

    /// Queues a notification of `kind`, caused by `sender`, for those of `users` with
    /// no live session here (whether they are online elsewhere is checked when it goes
    /// out). Called once the cause is stored, before it is acknowledged. A failure is
    /// logged, not returned: the cause itself succeeded.
    pub(crate) async fn notify_offline(&self, users: &[UserId], item: PushItem) {
        let Some(push) = &self.inner.push else { return };
        let offline: Vec<UserId> = users.iter().copied().filter(|u| !self.is_online(*u)).collect();
        if offline.is_empty() {
            return;
        }
        let now = crate::now();
        let due = now + push.config.coalesce;
        if let Err(err) = self.inner.store.enqueue_push(&offline, &item, due, now).await {
            tracing::warn!(code = err.code(), kind = item.kind.as_str(), "could not queue a push notification");
        }
    }
}

impl PushItem {
    /// A notification of `kind` from `sender` about `text`, replacing earlier ones on
    /// `topic`.
    pub(crate) fn new(kind: PushKind, sender: UserId, text: Option<&str>) -> Self {
        let topic = format!("{}{sender}", topic_prefix(kind));
        let text = text.map(|t| t.chars().take(PREVIEW_CHARS).collect::<String>()).filter(|t| !t.is_empty());
        Self { topic, kind, sender, text, group: None, message: None, request: None }
    }

    /// The same, about a group's conversation (one topic per group).
    pub(crate) fn in_group(mut self, group: GroupId) -> Self {
        self.topic = format!("{}{group}", topic_prefix(self.kind));
        self.group = Some(group);
        self
    }
}

/// Topics are a letter and an id: 25 characters of the URL-safe alphabet (at most 32).
fn topic_prefix(kind: PushKind) -> &'static str {
    match kind {
        PushKind::Message => "m",
        PushKind::GroupMessage => "g",
        PushKind::Request => "r",
        PushKind::Accepted => "a",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_urls_of_named_hosts() {
        assert!(parse_endpoint("https://fcm.googleapis.com/fcm/send/abc:def", false).is_ok());
        assert!(parse_endpoint("https://updates.push.services.mozilla.com/wpush/v2/gAAA", false).is_ok());
        for bad in [
            "http://push.example.com/x",
            "ftp://push.example.com/x",
            "https://10.0.0.8/x",
            "https://[fd00::1]/x",
            "https://127.0.0.1:9/x",
            "http://127.0.0.1:9/x",
            "https://localhost/x",
            "https://localhost./x",
            "https://push.LocalHost/x",
            "https://user:pw@push.example.com/x",
            "https://push.example.com/x#frag",
            "not a url",
            "",
        ] {
            assert_eq!(parse_endpoint(bad, false).err().map(|e| e.code()), Some("validation"), "{bad}");
        }
        assert!(parse_endpoint(&format!("https://push.example.com/{}", "x".repeat(MAX_ENDPOINT_LEN)), false).is_err());
        for local in ["http://127.0.0.1:9/x", "http://[::1]:9/x", "http://localhost:9/x", "https://127.0.0.1/x"] {
            assert!(parse_endpoint(local, true).is_ok(), "{local}");
        }
        assert!(parse_endpoint("http://10.0.0.8/x", true).is_err());
    }

    #[test]
    fn keys_are_base64url_of_their_exact_length() {
        let auth = "BTBZMqHH6r4Tts7J_aSIgg";
        assert_eq!(decode_key("keys.auth", auth, 16).map(|k| k.len()).ok(), Some(16));
        assert_eq!(decode_key("keys.auth", "BTBZMqHH6r4Tts7J_aSIgg==", 16).map(|k| k.len()).ok(), Some(16));
        for bad in
            ["", "BTBZMqHH6r4Tts7J_aSI", "BTBZMqHH6r4Tts7J_aSIggAA", "BTBZMqHH6r4Tts7J+aSIgg", &"A".repeat(10_000)]
        {
            assert!(decode_key("keys.auth", bad, 16).is_err(), "{bad}");
        }
    }

    #[test]
    fn previews_are_cut_and_topics_fit_the_header() {
        let sender = UserId::new();
        let item = PushItem::new(PushKind::Message, sender, Some(&"é".repeat(300)));
        assert_eq!(item.text.as_ref().map(|t| t.chars().count()), Some(PREVIEW_CHARS));
        assert_eq!(PushItem::new(PushKind::Request, sender, Some("")).text, None);
        let group = PushItem::new(PushKind::GroupMessage, sender, None).in_group(GroupId::new());
        for topic in [&item.topic, &group.topic] {
            assert!(topic.len() <= 32 && topic.bytes().all(|b| b.is_ascii_alphanumeric()), "{topic}");
        }
    }
}
