//! Live sessions: presence, events, catch-up then live, revocation, caps and floods.

use std::sync::Arc;
use std::time::Duration;

use super::behaviours;
use super::fixtures::{
    PASSWORD, assert_quiet, check, code, connect, expect_code, next_event, say, service, service_with, user,
    user_record,
};
use crate::auth::{PasswordChange, Peer};
use crate::connection::{ReviewStatus, SendStatus};
use crate::realtime::{EndReason, Event};
use crate::{AnyMessage, Error, MessageId, RateLimit, Settings};

behaviours![
    pub async fn presence_is_refcounted_and_only_for_connections(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        let (eve, _) = user(&app, "Eve").await?;
        connect(&app, ada, bob).await?;
        let mut bob_sub = app.subscribe(bob).await?;
        let mut eve_sub = app.subscribe(eve).await?;
        let ada_tab1 = app.subscribe(ada).await?;
        let online = Event::Presence { user_id: ada, online: true };
        check(next_event(&mut bob_sub).await? == online, "connection sees Ada online")?;
        check(app.online_connections(ada).await? == [ada, bob], "Ada sees herself and Bob")?;
        check(app.online_connections(eve).await? == [eve], "Eve sees only herself")?;
        let ada_tab2 = app.subscribe(ada).await?;
        drop(ada_tab1);
        assert_quiet(&mut bob_sub).await?;
        check(app.is_online(ada), "still online with one tab")?;
        drop(ada_tab2);
        check(next_event(&mut bob_sub).await? == Event::Presence { user_id: ada, online: false }, "offline")?;
        check(!app.is_online(ada), "offline after last tab")?;
        assert_quiet(&mut eve_sub).await?;
        // A new connection between two online users shows each to the other.
        let mut ada_sub = app.subscribe(ada).await?;
        let _ = next_event(&mut bob_sub).await?;
        let r = app.send_request(eve, ada, SendStatus::Interested, None).await?;
        let _ = next_event(&mut ada_sub).await?; // the request itself
        app.review_request(ada, r.id, ReviewStatus::Accepted).await?;
        check(next_event(&mut ada_sub).await? == Event::Presence { user_id: eve, online: true }, "Ada sees Eve")?;
        let mut saw_presence = false;
        for _ in 0..2 {
            saw_presence |= next_event(&mut eve_sub).await? == Event::Presence { user_id: ada, online: true };
        }
        check(saw_presence, "Eve sees Ada")
    }

    pub async fn events_reach_the_right_people(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        let (eve, _) = user(&app, "Eve").await?;
        let mut eve_sub = app.subscribe(eve).await?;
        let mut ada_sub = app.subscribe(ada).await?;
        let mut bob_sub = app.subscribe(bob).await?;
        let request = app.send_request(ada, bob, SendStatus::Interested, Some("hi")).await?;
        match next_event(&mut bob_sub).await? {
            Event::ConnectionRequest(r) => check(r.id == request.id && r.from_user_id.id == ada, "request event")?,
            other => return Err(Error::internal(format!("expected a request, got {other:?}"))),
        }
        app.review_request(bob, request.id, ReviewStatus::Accepted).await?;
        let mut accepted = false;
        for _ in 0..2 {
            if let Event::ConnectionAccepted(r) = next_event(&mut ada_sub).await? {
                accepted = r.id == request.id && r.to_user_id.id == bob;
            }
        }
        check(accepted, "accepted event to the sender")?;
        let _ = next_event(&mut bob_sub).await?; // Ada's presence
        let m = say(&app, ada, bob, "hey").await?;
        for sub in [&mut ada_sub, &mut bob_sub] {
            check(next_event(sub).await? == Event::NewMessage(Arc::new(m.clone())), "message to both sides")?;
        }
        app.typing(bob, ada, true).await?;
        check(next_event(&mut ada_sub).await? == Event::Typing { user_id: bob, typing: true }, "typing")?;
        expect_code(app.typing(eve, ada, true).await, "forbidden", "typing to a stranger")?;
        app.mark_read(bob, ada).await?;
        check(
            next_event(&mut ada_sub).await?
                == Event::MessagesRead(Box::new(crate::ReadReceipt { user_id: bob, up_to: m.id })),
            "read receipt",
        )?;
        assert_quiet(&mut eve_sub).await?;
        assert_quiet(&mut bob_sub).await
    }

    pub async fn a_catch_up_then_live_delivers_each_message_once_in_order(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        connect(&app, ada, bob).await?;
        let token = app.login("ada@example.com", PASSWORD, Peer::Local).await?.token;
        let session = app.authenticate(&token).await?;
        let seen = say(&app, bob, ada, "seen before the disconnect").await?;
        // Reconnecting: subscribe first, then read what was missed.
        let mut sub = app.subscribe_session(&session, Some(seen.id)).await?;
        let missed = [say(&app, bob, ada, "missed 1").await?, say(&app, bob, ada, "missed 2").await?];
        let page = app.catch_up(&mut sub).await?;
        check(
            page.messages == missed.clone().map(AnyMessage::Direct) && !page.has_more,
            "the catch-up holds what was missed, in order",
        )?;
        let done = app.catch_up(&mut sub).await?;
        check(done.messages.is_empty() && !done.has_more, "a finished catch-up reads nothing more")?;
        let live = say(&app, ada, bob, "live").await?;
        // The live copies of the missed messages were queued before the catch-up; they are
        // left out, and the next message is the live one.
        check(next_event(&mut sub).await? == Event::NewMessage(Arc::new(live)), "the live message comes next")?;
        assert_quiet(&mut sub).await
    }

    pub async fn revoked_and_expired_tokens_end_their_subscriptions(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let (_, token) = user(&app, "Ada").await?;
        let other = app.login("ada@example.com", PASSWORD, Peer::Local).await?.token;
        let session = app.authenticate(&token).await?;
        let other_session = app.authenticate(&other).await?;
        let mut sub = app.subscribe_session(&session, None).await?;
        let mut other_sub = app.subscribe_session(&other_session, None).await?;
        app.logout(&session).await?;
        let ended = tokio::time::timeout(Duration::from_secs(5), sub.next()).await.map_err(Error::internal)?;
        check(ended.is_none() && sub.end_reason() == Some(EndReason::Revoked), "logout ends that subscription")?;
        check(app.is_online(other_session.user_id), "the other token's subscription lives")?;
        let change = PasswordChange {
            old_password: PASSWORD.into(),
            new_password: "N3w!passw".into(),
            confirm_password: "N3w!passw".into(),
        };
        app.change_password(&other_session, change).await?;
        let ended = tokio::time::timeout(Duration::from_secs(5), other_sub.next()).await.map_err(Error::internal)?;
        check(ended.is_none() && other_sub.end_reason() == Some(EndReason::Revoked), "password change ends it")?;
        check(!app.is_online(session.user_id), "offline")?;
        // A session opened 50 ms before its token's `exp` (by the service's clock) ends
        // then, as expired.
        let clock = Arc::new(crate::ManualClock::new());
        let settings = Settings { token_ttl: Duration::from_secs(60), clock: clock.clone(), ..Settings::default() };
        let short = service_with(store, settings)?;
        let token = short.login("ada@example.com", "N3w!passw", Peer::Local).await?.token;
        let session = short.authenticate(&token).await?;
        clock.advance(
            (session.expires_at - crate::Clock::now(&*clock)).to_std().map_err(Error::internal)?
                - Duration::from_millis(50),
        );
        let mut sub = short.subscribe_session(&session, None).await?;
        let ended = tokio::time::timeout(Duration::from_secs(5), sub.next()).await.map_err(Error::internal)?;
        check(ended.is_none() && sub.end_reason() == Some(EndReason::Expired), "expiry ends it")?;
        check(!short.is_online(session.user_id), "offline after expiry")
    }

    pub async fn no_subscription_outlives_a_revocation_that_races_its_opening(store: Arc<dyn Store>) -> Result<()> {
        const ROUNDS: usize = 50;
        const RECONNECTS: usize = 4;
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let mut password = PASSWORD.to_owned();
        for round in 0..ROUNDS {
            let token = app.login("ada@example.com", &password, Peer::Local).await?.token;
            let session = app.authenticate(&token).await?;
            // Clients reconnecting with the token while it is revoked: by logout in most
            // rounds, by a password change in every tenth.
            let opening: Vec<_> = (0..RECONNECTS)
                .map(|_| {
                    let (app, token) = (app.clone(), token.clone());
                    tokio::spawn(async move {
                        let session = app.authenticate(&token).await?;
                        app.subscribe_session(&session, None).await
                    })
                })
                .collect();
            if round % 10 == 9 {
                let next = format!("N3w!pass{round}");
                let change = PasswordChange {
                    old_password: password,
                    new_password: next.clone(),
                    confirm_password: next.clone(),
                };
                app.change_password(&session, change).await?;
                password = next;
            } else {
                app.logout(&session).await?;
            }
            for task in opening {
                match task.await.map_err(Error::internal)? {
                    Ok(mut sub) => {
                        let ended = tokio::time::timeout(Duration::from_secs(5), sub.next()).await;
                        check(
                            matches!(ended, Ok(None)) && sub.end_reason() == Some(EndReason::Revoked),
                            &format!("round {round}: a subscription opened on the revoked token lives on"),
                        )?;
                    }
                    Err(err) => check(err.code() == "unauthorized", &format!("round {round}: refused with {err}"))?,
                }
            }
            check(!app.is_online(ada), &format!("round {round}: nothing of the revoked token is online"))?;
        }
        Ok(())
    }

    pub async fn a_resume_point_that_is_not_my_message_is_refused_before_going_live(
        store: Arc<dyn Store>,
    ) -> Result<()> {
        let app = service(store)?;
        let (ada, token) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        let (cleo, _) = user(&app, "Cleo").await?;
        connect(&app, ada, bob).await?;
        connect(&app, bob, cleo).await?;
        let mine = say(&app, bob, ada, "to Ada").await?;
        let theirs = say(&app, bob, cleo, "to Cleo").await?;
        let session = app.authenticate(&token).await?;
        for (after, what) in [(MessageId::new(), "an unknown message"), (theirs.id, "someone else's message")] {
            let refused = app.subscribe_session(&session, Some(after)).await;
            check(
                matches!(&refused, Err(Error::Validation { field: "lastMessageId", .. })),
                &format!("{what} as the resume point is a validation error"),
            )?;
            check(!app.is_online(ada), &format!("{what}: nothing went live"))?;
        }
        let mut sub = app.subscribe_session(&session, Some(mine.id)).await?;
        let page = app.catch_up(&mut sub).await?;
        check(page.messages.is_empty() && !page.has_more, "my own last message resumes with nothing missed")
    }

    pub async fn live_sessions_per_user_are_capped(store: Arc<dyn Store>) -> Result<()> {
        let app = service_with(store, Settings { max_sessions_per_user: 2, ..Settings::default() })?;
        let (ada, token) = user(&app, "Ada").await?;
        let session = app.authenticate(&token).await?;
        let first = app.subscribe_session(&session, None).await?;
        let _second = app.subscribe(ada).await?;
        expect_code(app.subscribe_session(&session, None).await, "limit_exceeded", "a third session")?;
        expect_code(app.subscribe(ada).await, "limit_exceeded", "a third subscription")?;
        drop(first);
        app.subscribe_session(&session, None).await.map(drop)
    }

    pub async fn typing_floods_are_limited_and_never_end_the_receivers_subscription(
        store: Arc<dyn Store>,
    ) -> Result<()> {
        // Typing unlimited and a small queue: a burst fills the receiver's queue, and the
        // extra typing events are dropped rather than ending the subscription.
        let settings = Settings { event_queue: 8, typing_rate: RateLimit::per_minute(0), ..Settings::default() };
        let app = service_with(Arc::clone(&store), settings)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        connect(&app, ada, bob).await?;
        let mut bob_sub = app.subscribe(bob).await?;
        for i in 0..100 {
            app.typing(ada, bob, i % 2 == 0).await?;
        }
        let mut typing = 0;
        while let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(100), bob_sub.next()).await {
            check(matches!(event, Event::Typing { .. }), "only typing events were queued")?;
            typing += 1;
        }
        check(typing <= 8 && bob_sub.end_reason().is_none(), "the receiver kept its subscription")?;
        let hello = say(&app, ada, bob, "still there?").await?;
        check(next_event(&mut bob_sub).await? == Event::NewMessage(Arc::new(hello)), "and still gets messages")?;

        // With the default limit, a sender's burst is refused beyond it.
        let limited = service_with(store, Settings { typing_rate: RateLimit::per_minute(10), ..Settings::default() })?;
        let mut refused = 0;
        for _ in 0..60 {
            if code(limited.typing(ada, bob, true).await) == "rate_limited" {
                refused += 1;
            }
        }
        check(refused == 50, &format!("60 typing events at 10 a minute: {refused} refused"))
    }

    pub async fn presence_and_read_receipts_reach_connections_only(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        connect(&app, ada, bob).await?;
        say(&app, bob, ada, "hi").await?;
        let _bob_online = app.subscribe(bob).await?;
        let partners = app.chat_partners(ada).await?;
        check(partners.iter().any(|p| p.profile.id == bob && p.online), "a connection is shown online")?;
        app.remove_connection(ada, bob).await?;
        let partners = app.chat_partners(ada).await?;
        check(partners.iter().any(|p| p.profile.id == bob && !p.online), "history alone shows no presence")?;
        check(!app.online_connections(ada).await?.contains(&bob), "nor does the online list")?;
        let mut bob_sub = app.subscribe(bob).await?;
        check(app.mark_read(ada, bob).await?.is_some(), "reading still works")?;
        assert_quiet(&mut bob_sub).await
    }

    pub async fn a_connection_made_while_subscribing_is_not_missed(store: Arc<dyn Store>) -> Result<()> {
        const ROUNDS: usize = 30;
        let app = service(Arc::clone(&store))?;
        for round in 0..ROUNDS {
            // Users straight into the store: no password hashing per round.
            let (a, b) = (user_record(&format!("a{round}@race.test")), user_record(&format!("b{round}@race.test")));
            store.insert_user(&a).await?;
            store.insert_user(&b).await?;
            let (a, b) = (a.me.profile.id, b.me.profile.id);
            let request = app.send_request(a, b, SendStatus::Interested, None).await?;
            let _a_online = app.subscribe(a).await?;
            let subscribing = {
                let app = app.clone();
                tokio::spawn(async move { app.subscribe(b).await })
            };
            app.review_request(b, request.id, ReviewStatus::Accepted).await?;
            let _b_online = subscribing.await.map_err(Error::internal)??;
            check(app.online_connections(b).await? == vec![b, a], &format!("round {round}: b sees a online"))?;
            check(app.online_connections(a).await? == vec![a, b], &format!("round {round}: a sees b online"))?;
        }
        Ok(())
    }
];
