//! Chat in groups: sending, history, read positions, typing, and the system messages
//! that record each change of a group in its history.
//!
//! A member sees the messages sent while they are a member (Matrix's "joined" history
//! visibility): from when they joined, and, once they leave or are removed, up to then;
//! what they saw stays readable, nothing new reaches them. Group messages share the
//! positions of 1:1 messages, so [`DevConnect::sync`] and a live session's catch-up
//! cover both. Live, they arrive as [`Event::GroupMessage`], never as `newMessage`.
//!
//! Who may not read a group is told what [`DevConnect::group`] tells them: a private
//! group does not exist for outsiders (`NotFound`); a public one, or one they left,
//! exists but is not theirs to write to (`Forbidden`).

use std::sync::Arc;

use crate::chat::{DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT, NewMessage, page_limit, parse_client_msg_id, parse_text};
use crate::model::{Event, GroupTyping, Inserted, NewGroupMessageRecord, PushItem, Window};
use crate::{
    DevConnect, Error, GroupChange, GroupId, GroupMessage, GroupRead, MessageId, PushKind, Result, Sent, UserId,
    Visibility,
};

impl DevConnect {
    /// Sends a message to a group `me` is a member of, to every member (`me` too). With
    /// a client message id, a resend returns the message stored the first time (and
    /// notifies nobody again). Stored durably before anyone is notified.
    pub async fn send_group_message(
        &self,
        me: UserId,
        group: GroupId,
        message: NewMessage,
    ) -> Result<Sent<GroupMessage>> {
        let text = parse_text(&message.text, message.image.is_some())?;
        let client_msg_id = message.client_msg_id.as_deref().map(parse_client_msg_id).transpose()?;
        self.require_member(me, group).await?;
        self.inner.limits.check_message(me)?;
        let inserted = self
            .store_message(message.image, |image| async move {
                let record = NewGroupMessageRecord {
                    id: MessageId::new(),
                    group,
                    sender: me,
                    text,
                    image,
                    client_msg_id,
                    change: None,
                    created_at: crate::now(),
                };
                self.inner.store.insert_group_message(&record).await
            })
            .await?;
        Ok(match inserted {
            Inserted::New(message) => {
                crate::telemetry::message_sent();
                Sent { message: self.tell_group_message(message).await?, created: true }
            }
            Inserted::Existing(message) => Sent { message: self.publish(message), created: false },
        })
    }

    /// A group's messages as `me` may read them (see the module), oldest first: the
    /// newest page, or the page before the message `before`. Messages from people `me`
    /// blocked are left out.
    pub async fn group_history(
        &self,
        me: UserId,
        group: GroupId,
        before: Option<MessageId>,
        limit: Option<u32>,
    ) -> Result<Vec<GroupMessage>> {
        let limit = page_limit("limit", limit, DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT)?;
        let window = self.window_on(me, group).await?;
        let hidden = self.hidden_senders(me).await?;
        Ok(self.publish(self.inner.store.group_history(group, window, &hidden, before, limit).await?))
    }

    /// Moves `me`'s read position in a group up to the message `up_to` (never back) and,
    /// when it moved, tells the other members with `groupRead`. Whether it moved.
    pub async fn mark_group_read(&self, me: UserId, group: GroupId, up_to: MessageId) -> Result<bool> {
        self.window_on(me, group).await?;
        let moved = match self.inner.store.mark_group_read(group, me, up_to).await {
            Err(Error::NotFound(_)) => {
                return Err(Error::validation("messageId", "is not a message of this group you can read"));
            }
            other => other?,
        };
        if moved && self.inner.store.member(group, me).await?.is_some() {
            let event = Event::GroupRead(Box::new(GroupRead { group_id: group, user_id: me, up_to }));
            self.tell_others(group, me, &event).await?;
        }
        Ok(moved)
    }

    /// Tells the other members of a group that `me` is (or stopped) typing. Limited per
    /// sender like 1:1 typing; dropped for whoever is offline.
    pub async fn group_typing(&self, me: UserId, group: GroupId, typing: bool) -> Result<()> {
        self.require_member(me, group).await?;
        self.inner.limits.check_typing(me)?;
        let event = Event::GroupTyping(Box::new(GroupTyping { group_id: group, user_id: me, typing }));
        self.tell_others(group, me, &event).await
    }

    /// Records a change of a group, made by `actor`, as a system message in its
    /// history, and delivers it to the members.
    pub(crate) async fn record_change(&self, group: GroupId, actor: UserId, change: GroupChange) -> Result<()> {
        let record = NewGroupMessageRecord {
            id: MessageId::new(),
            group,
            sender: actor,
            text: String::new(),
            image: None,
            client_msg_id: None,
            change: Some(change),
            created_at: crate::now(),
        };
        if let Inserted::New(message) = self.inner.store.insert_group_message(&record).await? {
            self.tell_group_message(message).await?;
        }
        Ok(())
    }

    /// Delivers a stored group message to the members, but not to those who blocked its
    /// sender: one delivery for all of them, which a bus publishes once.
    async fn tell_group_message(&self, message: GroupMessage) -> Result<GroupMessage> {
        let message = self.publish(message);
        let members = self.inner.store.recipients(message.group_id, message.sender_id).await?;
        self.inner.realtime.deliver(&members, &Event::GroupMessage(Arc::new(message.clone())));
        if message.change.is_none() {
            let others: Vec<UserId> = members.into_iter().filter(|m| *m != message.sender_id).collect();
            let item = PushItem::new(PushKind::GroupMessage, message.sender_id, Some(&message.text));
            self.notify_offline(&others, PushItem { message: Some(message.id), ..item }.in_group(message.group_id))
                .await;
        }
        Ok(message)
    }

    /// Delivers what `me` did in a group to the other members who did not block `me`.
    async fn tell_others(&self, group: GroupId, me: UserId, event: &Event) -> Result<()> {
        let mut others = self.inner.store.recipients(group, me).await?;
        others.retain(|id| *id != me);
        self.inner.realtime.deliver(&others, event);
        Ok(())
    }

    /// Fails unless `me` is a member of the group now.
    async fn require_member(&self, me: UserId, group: GroupId) -> Result<()> {
        if self.inner.store.member(group, me).await?.is_some() {
            return Ok(());
        }
        let was_member = self.inner.store.window(group, me).await?.is_some();
        Err(self.outsider(group, was_member).await)
    }

    /// `me`'s window on the group's history, as a member or a former one.
    async fn window_on(&self, me: UserId, group: GroupId) -> Result<Window> {
        match self.inner.store.window(group, me).await? {
            Some(window) => Ok(window),
            None => Err(self.outsider(group, false).await),
        }
    }

    /// The error for someone who may not take part in a group: `NotFound` for a private
    /// group they were never in (it does not exist for them), else `Forbidden`.
    async fn outsider(&self, group: GroupId, was_member: bool) -> Error {
        let public = match self.inner.store.group(group).await {
            Ok(found) => found.is_some_and(|g| g.visibility == Visibility::Public),
            Err(err) => return err,
        };
        if public || was_member {
            Error::Forbidden("only members take part in a group")
        } else {
            Error::NotFound("group")
        }
    }
}
