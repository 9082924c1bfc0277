//! A live session: what every realtime frontend (Socket.IO, gRPC `Subscribe`, Python)
//! serves, so none of them assembles it itself.
//!
//! [`DevConnect::live`] opens it; [`Live::next`] then yields, in this order:
//! 1. [`LiveItem::Online`]: me and my online connections, me first;
//! 2. the messages missed since `resume_after`, oldest first, as
//!    [`Event::NewMessage`] or, in my groups, [`Event::GroupMessage`] (paged from the
//!    store, one page at a time);
//! 3. live events as they happen. [`Live::online`] stays current with the presence
//!    events among them, so nobody asks the store or the bus for the list again.
//!
//! It ends (`None`) when the token is logged out, superseded or expires, or when the
//! subscriber fell behind; [`Live::end_reason`] says which, with a stable code and
//! message. A store failure during the catch-up is yielded once as an error, then the
//! session ends.
//!
//! [`Live::next`] is cancel-safe: a frontend may `select!` on it beside its own timers
//! and input, and an interrupted call loses nothing.

use std::collections::VecDeque;
use std::sync::Arc;

use super::subscription::{EndReason, Subscription};
use crate::auth::Session;
use crate::chat::AnyMessage;
use crate::model::Event;
use crate::{DevConnect, MessageId, Result, UserId};

/// One item of a [`Live`] session.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum LiveItem {
    /// Me and those of my connections who are online, me first; the first item.
    Online(Vec<UserId>),
    /// A missed message (catch-up) or a live event.
    Event(Event),
}

/// A live session for one user (see the module docs). The user is online while it
/// exists.
pub struct Live {
    app: DevConnect,
    subscription: Subscription,
    /// Me first, then my online connections in id order.
    online: Vec<UserId>,
    stage: Stage,
    /// The current catch-up page, not yet yielded.
    missed: VecDeque<AnyMessage>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// The online list is still to be yielded.
    Start,
    /// Catch-up pages may still be due.
    CatchingUp,
    /// Live events.
    Live,
    /// A catch-up failed; nothing more comes.
    Failed,
}

impl DevConnect {
    /// Opens the live session of `session`'s user (see [`Live`]): subscribes (with the
    /// guarantees of [`DevConnect::subscribe_session`], including refusal of a revoked
    /// token and of a `resume_after` that is not one of the user's messages) and reads
    /// who is online.
    pub async fn live(&self, session: &Session, resume_after: Option<MessageId>) -> Result<Live> {
        let subscription = self.subscribe_session(session, resume_after).await?;
        self.live_from(subscription).await
    }

    /// Like [`DevConnect::live`] for a user the caller vouches for (embedding, tests):
    /// no token, so it ends only when dropped or when it falls behind.
    pub async fn live_unauthenticated(&self, user: UserId) -> Result<Live> {
        let subscription = self.subscribe(user).await?;
        self.live_from(subscription).await
    }

    async fn live_from(&self, subscription: Subscription) -> Result<Live> {
        // Read after subscribing: a presence change from then on is also an event, and
        // events are applied to this list in order, so it cannot go stale.
        let online = self.online_connections(subscription.user_id()).await?;
        Ok(Live { app: self.clone(), subscription, online, stage: Stage::Start, missed: VecDeque::new() })
    }
}

impl Live {
    /// The next item; `None` once the session has ended ([`Live::end_reason`] says why).
    pub async fn next(&mut self) -> Option<Result<LiveItem>> {
        loop {
            // What a catch-up page holds goes out before anything that follows it.
            if let Some(message) = self.missed.pop_front() {
                return Some(Ok(LiveItem::Event(match message {
                    AnyMessage::Direct(m) => Event::NewMessage(Arc::new(m)),
                    AnyMessage::Group(m) => Event::GroupMessage(Arc::new(m)),
                })));
            }
            match self.stage {
                Stage::Start => {
                    self.stage = Stage::CatchingUp;
                    return Some(Ok(LiveItem::Online(self.online.clone())));
                }
                Stage::CatchingUp => {
                    // Boxed: the catch-up runs once, and its future would otherwise
                    // grow every caller's state for the session's whole life. Nothing
                    // below the await can be interrupted, so cancelling loses nothing.
                    match Box::pin(self.app.catch_up(&mut self.subscription)).await {
                        Ok(page) => {
                            if !page.has_more {
                                self.stage = Stage::Live;
                            }
                            self.missed.extend(page.messages);
                        }
                        Err(err) => {
                            self.stage = Stage::Failed;
                            return Some(Err(err));
                        }
                    }
                }
                Stage::Live => {
                    let event = self.subscription.next().await?;
                    if let Event::Presence { user_id, online } = event {
                        self.track(user_id, online);
                    }
                    return Some(Ok(LiveItem::Event(event)));
                }
                Stage::Failed => return None,
            }
        }
    }

    /// Me and my online connections now, me first.
    #[must_use]
    pub fn online(&self) -> &[UserId] {
        &self.online
    }

    /// The session's user.
    #[must_use]
    pub fn user_id(&self) -> UserId {
        self.subscription.user_id()
    }

    /// Why the session ended, once it has (`None` while it is live, or after a failed
    /// catch-up, which was yielded as an error).
    #[must_use]
    pub fn end_reason(&self) -> Option<EndReason> {
        self.subscription.end_reason()
    }

    /// Applies a presence change to the online list (me stays first).
    fn track(&mut self, user: UserId, online: bool) {
        let me = self.user_id();
        if user == me {
            return;
        }
        let others = self.online.get(1..).unwrap_or_default();
        match (others.binary_search(&user), online) {
            (Err(at), true) => self.online.insert(at + 1, user),
            (Ok(at), false) => {
                self.online.remove(at + 1);
            }
            _ => {}
        }
    }
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("user", &self.user_id())
            .field("stage", &self.stage)
            .field("online", &self.online.len())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, feature = "testkit", feature = "sqlite"))]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::sqlite::SqliteStore;
    use crate::testkit::{PASSWORD, connect, say, service, user};
    use crate::{Error, Peer};

    async fn app() -> Result<DevConnect> {
        service(Arc::new(SqliteStore::open_in_memory().await?))
    }

    async fn next(live: &mut Live) -> Result<LiveItem> {
        tokio::time::timeout(Duration::from_secs(5), live.next())
            .await
            .map_err(|_| Error::internal("nothing within 5 s"))?
            .ok_or_else(|| Error::internal("the session ended"))?
    }

    fn message(item: &LiveItem) -> Option<&str> {
        match item {
            LiveItem::Event(Event::NewMessage(m)) => Some(&m.text),
            _ => None,
        }
    }

    #[tokio::test]
    async fn a_session_yields_who_is_online_then_what_was_missed_in_order_then_live_events() -> Result<()> {
        let app = app().await?;
        let ((ada, _), (bob, _)) = (user(&app, "Ada").await?, user(&app, "Bob").await?);
        connect(&app, ada, bob).await?;
        let session = app.authenticate(&app.login("ada@example.com", PASSWORD, Peer::Local).await?.token).await?;
        let seen = say(&app, bob, ada, "seen").await?;
        // More than one catch-up page, so the session pages on by itself.
        let missed = crate::chat::MAX_SYNC_LIMIT as usize + 3;
        for i in 0..missed {
            say(&app, bob, ada, &format!("missed {i}")).await?;
        }
        let bob_live = app.live_unauthenticated(bob).await?;
        let mut live = app.live(&session, Some(seen.id)).await?;
        // Stored after the session opened: both a live event and in the catch-up; once.
        say(&app, bob, ada, "between").await?;
        assert_eq!(next(&mut live).await?, LiveItem::Online(vec![ada, bob]));
        for i in 0..missed {
            assert_eq!(message(&next(&mut live).await?), Some(format!("missed {i}").as_str()));
        }
        assert_eq!(message(&next(&mut live).await?), Some("between"));
        say(&app, bob, ada, "live").await?;
        assert_eq!(message(&next(&mut live).await?), Some("live"));
        drop(bob_live);
        assert_eq!(next(&mut live).await?, LiveItem::Event(Event::Presence { user_id: bob, online: false }));
        assert_eq!(live.online(), [ada]);
        Ok(())
    }

    #[tokio::test]
    async fn the_online_list_follows_presence_and_new_connections_with_me_first() -> Result<()> {
        let app = app().await?;
        let (ada, _) = user(&app, "Ada").await?;
        let mut others = Vec::new();
        for name in ["Bob", "Cy", "Dee"] {
            let (id, _) = user(&app, name).await?;
            connect(&app, ada, id).await?;
            others.push(id);
        }
        let mut live = app.live_unauthenticated(ada).await?;
        assert_eq!(next(&mut live).await?, LiveItem::Online(vec![ada]));
        let mut opened = Vec::new();
        for id in others.iter().rev() {
            opened.push(app.live_unauthenticated(*id).await?);
            assert_eq!(next(&mut live).await?, LiveItem::Event(Event::Presence { user_id: *id, online: true }));
        }
        let mut sorted = others.clone();
        sorted.sort();
        assert_eq!(live.online()[0], ada);
        assert_eq!(live.online()[1..], sorted[..]);
        // A new connection while both are online shows up too.
        let (eve, _) = user(&app, "Eve").await?;
        let _eve_live = app.live_unauthenticated(eve).await?;
        connect(&app, eve, ada).await?;
        loop {
            if next(&mut live).await? == LiveItem::Event(Event::Presence { user_id: eve, online: true }) {
                break;
            }
        }
        assert!(live.online().contains(&eve));
        assert_eq!(live.online().len(), 5);
        Ok(())
    }

    #[tokio::test]
    async fn a_logout_ends_the_session_with_a_stable_reason() -> Result<()> {
        let app = app().await?;
        let (_, token) = user(&app, "Ada").await?;
        let session = app.authenticate(&token).await?;
        let mut live = app.live(&session, None).await?;
        assert!(matches!(next(&mut live).await?, LiveItem::Online(_)));
        app.logout(&session).await?;
        assert!(tokio::time::timeout(Duration::from_secs(5), live.next()).await.map_err(Error::internal)?.is_none());
        let reason = live.end_reason();
        assert_eq!(reason.map(EndReason::code), Some("token_revoked"));
        assert_eq!(reason.map(EndReason::may_reconnect), Some(false));
        assert!(app.live(&session, None).await.is_err(), "a revoked token opens no session");
        Ok(())
    }

    #[tokio::test]
    async fn a_resume_point_that_is_not_mine_is_refused_before_anything_goes_live() -> Result<()> {
        let app = app().await?;
        let ((ada, token), (bob, _), (cy, _)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Cy").await?);
        connect(&app, bob, cy).await?;
        let theirs = say(&app, bob, cy, "not for Ada").await?;
        let session = app.authenticate(&token).await?;
        let refused = app.live(&session, Some(theirs.id)).await;
        assert_eq!(refused.err().map(|e| e.code()), Some("validation"));
        assert!(!app.is_online(ada));
        Ok(())
    }
}
