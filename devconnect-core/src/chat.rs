//! 1:1 chat between connections: sending, history, catch-up, partners, read state.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Deserialize;

pub use devconnect_types::chat::{
    AnyMessage, ChatPartner, Conversation, DirectConversation, GroupConversation, MAX_UNREAD_COUNT, Message, Sent,
    SyncPage,
};

use crate::media::Upload;
use crate::model::{Event, Inserted, NewMessageRecord, PushItem, ReadReceipt};
use crate::{DevConnect, Error, MessageId, PushKind, Result, UserId};

/// A message text may be at most this many characters.
pub const MAX_TEXT_CHARS: usize = 5000;
/// A client message id is 1 to this many printable characters.
pub const MAX_CLIENT_MSG_ID_CHARS: usize = 64;
/// Default history page size.
pub const DEFAULT_HISTORY_LIMIT: u32 = 50;
/// Largest history page.
pub const MAX_HISTORY_LIMIT: u32 = 200;
/// Default sync page size.
pub const DEFAULT_SYNC_LIMIT: u32 = 100;
/// Largest sync page.
pub const MAX_SYNC_LIMIT: u32 = 500;

/// A message to send.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewMessage {
    /// The text (may be empty if an image is attached).
    #[serde(default)]
    pub text: String,
    /// An idempotency key: resending with the same key returns the stored message.
    pub client_msg_id: Option<String>,
    /// An image to attach (never from JSON).
    #[serde(skip)]
    pub image: Option<Upload>,
}

/// Checks a client message id: 1–64 printable ASCII characters.
pub fn parse_client_msg_id(raw: &str) -> Result<String> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_CLIENT_MSG_ID_CHARS
        && raw.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(Error::validation(
            "clientMsgId",
            format!("must be 1 to {MAX_CLIENT_MSG_ID_CHARS} printable ASCII characters"),
        ))
    }
}

pub(crate) fn parse_text(raw: &str, has_image: bool) -> Result<String> {
    if raw.trim().is_empty() && !has_image {
        return Err(Error::validation("text", "a message needs text or an image"));
    }
    if raw.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::validation("text", format!("must be at most {MAX_TEXT_CHARS} characters")));
    }
    if raw.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::validation("text", "must not contain control characters"));
    }
    Ok(raw.to_owned())
}

pub(crate) fn page_limit(field: &'static str, limit: Option<u32>, default: u32, max: u32) -> Result<u32> {
    match limit.unwrap_or(default) {
        0 => Err(Error::validation(field, "must be at least 1")),
        n => Ok(n.min(max)),
    }
}

impl DevConnect {
    /// Sends a message from `me` to `to`, who must be an accepted connection. With a
    /// client message id, a resend returns the message stored the first time (and
    /// notifies nobody again). Stored durably before anyone is notified.
    pub async fn send_message(&self, me: UserId, to: UserId, message: NewMessage) -> Result<Sent> {
        if me == to {
            return Err(Error::validation("receiverId", "cannot message yourself"));
        }
        let text = parse_text(&message.text, message.image.is_some())?;
        let client_msg_id = message.client_msg_id.as_deref().map(parse_client_msg_id).transpose()?;
        if !self.inner.store.are_connected(me, to).await? {
            return Err(Error::Forbidden("you can only message your connections"));
        }
        self.inner.limits.check_message(me)?;
        let inserted = self
            .store_message(message.image, |image| async move {
                let record = NewMessageRecord {
                    id: MessageId::new(),
                    sender: me,
                    receiver: to,
                    text,
                    image,
                    client_msg_id,
                    created_at: crate::now(),
                };
                self.inner.store.insert_message(&record).await
            })
            .await?;
        Ok(match inserted {
            Inserted::New(message) => {
                let message = self.publish(message);
                crate::telemetry::message_sent();
                let event = Event::NewMessage(Arc::new(message.clone()));
                self.inner.realtime.deliver(&[to, me], &event);
                let item =
                    PushItem { message: Some(message.id), ..PushItem::new(PushKind::Message, me, Some(&message.text)) };
                self.notify_offline(&[to], item).await;
                Sent { message, created: true }
            }
            Inserted::Existing(message) => Sent { message: self.publish(message), created: false },
        })
    }

    /// Stores a message's image, if it has one, then the message by `insert` (given the
    /// image's URL). When nothing new was stored (an error, or a resend under the same
    /// client message id), the image is deleted again.
    pub(crate) async fn store_message<M, F>(
        &self,
        image: Option<Upload>,
        insert: impl FnOnce(Option<String>) -> F,
    ) -> Result<Inserted<M>>
    where
        F: Future<Output = Result<Inserted<M>>>,
    {
        let url = match image {
            Some(upload) => Some(self.store_image(upload).await?),
            None => None,
        };
        let inserted = insert(url.clone()).await;
        if let (Some(url), Ok(Inserted::Existing(_)) | Err(_)) = (url.as_deref(), &inserted) {
            self.delete_image(url).await;
        }
        inserted
    }

    /// Messages between `me` and `other`, oldest first: the newest page, or the page
    /// before the message `before`. Readable after the connection is removed.
    pub async fn history(
        &self,
        me: UserId,
        other: UserId,
        before: Option<MessageId>,
        limit: Option<u32>,
    ) -> Result<Vec<Message>> {
        let limit = page_limit("limit", limit, DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT)?;
        Ok(self.publish(self.inner.store.history(me, other, before, limit).await?))
    }

    /// Everything to or from `me` after the message `after` (or from the start), across
    /// all conversations, in order: what a client missed while disconnected. Messages
    /// from people `me` blocked are left out.
    pub async fn sync(&self, me: UserId, after: Option<MessageId>, limit: Option<u32>) -> Result<SyncPage> {
        let limit = page_limit("limit", limit, DEFAULT_SYNC_LIMIT, MAX_SYNC_LIMIT)?;
        let hidden = self.hidden_senders(me).await?;
        let mut messages = self.inner.store.sync(me, after, &hidden, limit + 1).await?;
        let has_more = messages.len() > limit as usize;
        messages.truncate(limit as usize);
        Ok(self.publish(SyncPage { messages, has_more }))
    }

    /// Connections and anyone `me` has history with, most recent conversation first,
    /// with online state, last message and unread count. Presence is shown for
    /// connections only: someone I merely have history with (a removed connection) is
    /// never shown online.
    pub async fn chat_partners(&self, me: UserId) -> Result<Vec<ChatPartner>> {
        let partners = self.inner.store.chat_partners(me).await?;
        let connections: HashSet<UserId> = self.inner.store.connection_ids(me).await?.into_iter().collect();
        let ids: Vec<UserId> = partners.iter().map(|p| p.profile.id).filter(|id| connections.contains(id)).collect();
        let mut online = self.inner.realtime.online_among(&ids).await.into_iter();
        let partners = partners
            .into_iter()
            .map(|p| ChatPartner {
                // `ids` lists the connections among the partners in this same order.
                online: connections.contains(&p.profile.id) && online.next().unwrap_or(false),
                profile: p.profile,
                last_message: p.last_message,
                // A store that cannot stop counting at the cap (MongoDB's 1:1 counts)
                // still says no more.
                unread_count: p.unread_count.min(MAX_UNREAD_COUNT),
            })
            .collect();
        Ok(self.publish(partners))
    }

    /// My conversations, 1:1 and in my groups together, most recent first (by their
    /// last message; then connections I never wrote with, then quiet groups), each with
    /// its last message and unread count. [`DevConnect::chat_partners`] stays as the
    /// original frontend knows it.
    pub async fn conversations(&self, me: UserId) -> Result<Vec<Conversation>> {
        let partners = self.chat_partners(me).await?;
        let mut groups = self.inner.store.group_conversations(me).await?;
        groups.sort_by_key(|g| std::cmp::Reverse(g.group.updated_at));
        // The rule, whatever a store counted (both stop reading at the cap already).
        for group in &mut groups {
            group.unread_count = group.unread_count.min(MAX_UNREAD_COUNT);
        }
        let direct = partners.into_iter().map(|p| {
            Conversation::Direct(DirectConversation {
                user: p.profile,
                online: p.online,
                last_message: p.last_message,
                unread_count: p.unread_count,
            })
        });
        let mut all: Vec<Conversation> = direct.chain(groups.into_iter().map(Conversation::Group)).collect();
        // Stable: those without messages keep the order above.
        all.sort_by_key(|c| std::cmp::Reverse(c.last_seq()));
        Ok(self.publish(all))
    }

    /// Marks everything `other` sent to `me` as read and tells `other` up to which
    /// message, if we are connected (a read receipt shows activity, which, like
    /// presence, only connections see). Returns that message id (`None` if nothing was
    /// unread).
    pub async fn mark_read(&self, me: UserId, other: UserId) -> Result<Option<MessageId>> {
        if me == other {
            return Err(Error::validation("userId", "cannot mark your own messages"));
        }
        let up_to = self.inner.store.mark_read(me, other, crate::now()).await?;
        let connected = up_to.is_some() && self.are_connected(me, other).await?;
        if let Some(up_to) = up_to.filter(|_| connected) {
            self.inner.realtime.deliver(&[other], &Event::MessagesRead(Box::new(ReadReceipt { user_id: me, up_to })));
        }
        Ok(up_to)
    }

    /// Tells `to` that `me` is (or stopped) typing. Only between connections; silently
    /// dropped when `to` is offline or their queue is full. Limited per sender
    /// ([`Settings::typing_rate`](crate::Settings)), so nobody can flood a receiver.
    pub async fn typing(&self, me: UserId, to: UserId, typing: bool) -> Result<()> {
        if !self.are_connected(me, to).await? {
            return Err(Error::Forbidden("you can only message your connections"));
        }
        self.inner.limits.check_typing(me)?;
        self.inner.realtime.deliver(&[to], &Event::Typing { user_id: me, typing });
        Ok(())
    }

    /// Whether `a` and `b` are connected, from the hub when `a` is online here (it
    /// keeps their connections current), else from the store.
    async fn are_connected(&self, a: UserId, b: UserId) -> Result<bool> {
        Ok(self.inner.realtime.knows_connected(a, b) || self.inner.store.are_connected(a, b).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_msg_ids_are_printable_and_bounded() {
        assert!(parse_client_msg_id("abc-123 x").is_ok());
        assert!(parse_client_msg_id("").is_err());
        assert!(parse_client_msg_id(&"x".repeat(65)).is_err());
        assert!(parse_client_msg_id("tab\there").is_err());
        assert!(parse_client_msg_id("ünï").is_err());
    }

    #[test]
    fn empty_messages_need_an_image() {
        assert!(parse_text("  ", false).is_err());
        assert!(parse_text("", true).is_ok());
        assert!(parse_text(&"x".repeat(MAX_TEXT_CHARS + 1), false).is_err());
        assert_eq!(parse_text(" hi\n", false).ok().as_deref(), Some(" hi\n"));
    }
}
