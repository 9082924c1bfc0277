//! Chat: who may message whom, history pages, idempotent sends, sync and chat partners.

use std::sync::Arc;

use super::behaviours;
use super::fixtures::{MEDIA_BASE, check, connect, expect_code, png, say, service, user};
use crate::chat::NewMessage;
use crate::connection::{ReviewStatus, SendStatus};
use crate::store::NewMessageRecord;
use crate::{AnyMessage, Error, MessageId, UserId};

behaviours![
    pub async fn messages_go_only_to_connections(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        expect_code(say(&app, ada, bob, "hi").await, "forbidden", "not connected")?;
        let r = app.send_request(ada, bob, SendStatus::Interested, None).await?;
        expect_code(say(&app, ada, bob, "hi").await, "forbidden", "pending")?;
        app.review_request(bob, r.id, ReviewStatus::Accepted).await?;
        expect_code(say(&app, ada, bob, "   ").await, "validation", "empty")?;
        expect_code(say(&app, ada, ada, "me").await, "validation", "self")?;
        expect_code(say(&app, ada, bob, &"x".repeat(5001)).await, "validation", "too long")?;
        let m = say(&app, ada, bob, "hello 👋").await?;
        check(m.sender_id == ada && m.receiver_id == bob && m.text == "hello 👋" && m.read_at.is_none(), "fields")?;
        let with_image = NewMessage { image: Some(png(2, 2)), ..NewMessage::default() };
        let m = app.send_message(bob, ada, with_image).await?.message;
        let absolute = m.image.as_deref().is_some_and(|u| u.starts_with(&format!("{MEDIA_BASE}/")));
        check(absolute && m.text.is_empty(), "image-only message")?;
        let history = app.history(bob, ada, None, None).await?;
        check(history.len() == 2, "both stored")
    }

    pub async fn history_pages_backwards_in_order(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        let (eve, _) = user(&app, "Eve").await?;
        connect(&app, ada, bob).await?;
        connect(&app, ada, eve).await?;
        let mut sent = Vec::new();
        for i in 0..12 {
            let (from, to) = if i % 3 == 0 { (bob, ada) } else { (ada, bob) };
            sent.push(say(&app, from, to, &format!("m{i}")).await?.id);
            say(&app, ada, eve, "noise").await?;
        }
        let newest = app.history(ada, bob, None, Some(5)).await?;
        check(newest.iter().map(|m| m.id).eq(sent[7..].iter().copied()), "newest page, oldest first")?;
        let older = app.history(bob, ada, Some(newest[0].id), Some(5)).await?;
        check(older.iter().map(|m| m.id).eq(sent[2..7].iter().copied()), "page before")?;
        let oldest = app.history(ada, bob, Some(older[0].id), Some(5)).await?;
        check(oldest.iter().map(|m| m.id).eq(sent[..2].iter().copied()), "last page")?;
        check(newest.windows(2).all(|w| w[0].seq < w[1].seq), "positions increase")?;
        let foreign = app.history(ada, eve, None, Some(1)).await?;
        expect_code(app.history(ada, bob, Some(foreign[0].id), None).await, "not_found", "cursor of another chat")?;
        expect_code(app.history(ada, bob, Some(MessageId::new()), None).await, "not_found", "unknown cursor")?;
        expect_code(app.history(ada, bob, None, Some(0)).await, "validation", "limit 0")
    }

    pub async fn client_message_ids_make_sends_idempotent(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        let (eve, _) = user(&app, "Eve").await?;
        connect(&app, ada, bob).await?;
        connect(&app, ada, eve).await?;
        connect(&app, bob, eve).await?;
        let msg = |text: &str| NewMessage { text: text.into(), client_msg_id: Some("c-1".into()), image: None };
        let first = app.send_message(ada, bob, msg("once")).await?;
        let again = app.send_message(ada, bob, msg("once (retry)")).await?;
        check(first.created && !again.created, "second is a replay")?;
        check(again.message == first.message, "same stored message")?;
        let to_eve = app.send_message(ada, eve, msg("other receiver")).await?;
        let from_bob = app.send_message(bob, ada, msg("other sender")).await?;
        check(
            to_eve.created && from_bob.created && to_eve.message.id != first.message.id,
            "scoped per sender+receiver",
        )?;
        check(app.history(ada, bob, None, None).await?.len() == 2, "no duplicate stored")?;
        let bad = NewMessage { text: "x".into(), client_msg_id: Some(String::new()), image: None };
        expect_code(app.send_message(ada, bob, bad).await, "validation", "empty client id")
    }

    pub async fn concurrent_duplicate_sends_store_one_message(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        connect(&app, ada, bob).await?;
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move {
                    let m = NewMessage { text: "storm".into(), client_msg_id: Some("storm-1".into()), image: None };
                    app.send_message(ada, bob, m).await
                })
            })
            .collect();
        let mut ids = Vec::new();
        let mut created = 0;
        for task in tasks {
            let sent = task.await.map_err(Error::internal)??;
            created += usize::from(sent.created);
            ids.push(sent.message.id);
        }
        ids.dedup();
        check(created == 1 && ids.len() == 1, "one message, one id for all")?;
        check(app.history(ada, bob, None, None).await?.len() == 1, "one stored")
    }

    pub async fn sync_returns_everything_after_a_message_in_order(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        let (eve, _) = user(&app, "Eve").await?;
        connect(&app, ada, bob).await?;
        connect(&app, ada, eve).await?;
        connect(&app, bob, eve).await?;
        let mut mine = Vec::new();
        for i in 0..9 {
            let m = match i % 3 {
                0 => say(&app, bob, ada, "b").await?,
                1 => say(&app, ada, eve, "a").await?,
                _ => {
                    say(&app, bob, eve, "not mine").await?;
                    continue;
                }
            };
            mine.push(m.id);
        }
        let all = app.sync(ada, None, None).await?;
        check(all.messages.iter().map(AnyMessage::id).eq(mine.iter().copied()) && !all.has_more, "all mine, in order")?;
        let page = app.sync(ada, Some(mine[1]), Some(2)).await?;
        check(
            page.messages.iter().map(AnyMessage::id).eq(mine[2..4].iter().copied()) && page.has_more,
            "after, bounded",
        )?;
        let rest = app.sync(ada, Some(mine[3]), Some(100)).await?;
        check(rest.messages.iter().map(AnyMessage::id).eq(mine[4..].iter().copied()) && !rest.has_more, "rest")?;
        let foreign = app.history(bob, eve, None, Some(1)).await?;
        expect_code(app.sync(ada, Some(foreign[0].id), None).await, "not_found", "someone else's message")
    }

    /// A client paging with `sync` while others send must never see a position appear
    /// after it has already read past it (it would skip that message forever).
    pub async fn concurrent_sends_never_let_sync_skip_a_message(store: Arc<dyn Store>) -> Result<()> {
        let ada = UserId::new();
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let store = Arc::clone(&store);
                let sender = UserId::new();
                tokio::spawn(async move {
                    for i in 0..10 {
                        let message = NewMessageRecord {
                            id: MessageId::new(),
                            sender,
                            receiver: ada,
                            text: format!("m{i}"),
                            image: None,
                            client_msg_id: None,
                            created_at: crate::now(),
                        };
                        store.insert_message(&message).await?;
                    }
                    Ok::<_, Error>(())
                })
            })
            .collect();
        // Poll with a cursor while the writers run, as a reconnecting client would.
        let (mut seen, mut cursor) = (Vec::new(), None);
        loop {
            let finished = writers.iter().all(tokio::task::JoinHandle::is_finished);
            let page = store.sync(ada, cursor, &[], 100).await?;
            cursor = page.last().map(AnyMessage::id).or(cursor);
            seen.extend(page.iter().map(AnyMessage::seq));
            if finished && page.is_empty() {
                break;
            }
            tokio::task::yield_now().await;
        }
        for writer in writers {
            writer.await.map_err(Error::internal)??;
        }
        check(seen.len() == 40, &format!("every message seen once: {seen:?}"))?;
        check(seen.windows(2).all(|w| w[0] < w[1]), &format!("in position order: {seen:?}"))
    }

    pub async fn chat_partners_show_recency_and_unread_counts(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        let (eve, _) = user(&app, "Eve").await?;
        let (dan, _) = user(&app, "Dan").await?;
        connect(&app, ada, bob).await?;
        connect(&app, ada, eve).await?;
        connect(&app, ada, dan).await?;
        say(&app, bob, ada, "1").await?;
        say(&app, bob, ada, "2").await?;
        let last = say(&app, eve, ada, "3").await?;
        app.remove_connection(ada, eve).await?;
        let partners = app.chat_partners(ada).await?;
        let ids: Vec<UserId> = partners.iter().map(|p| p.profile.id).collect();
        check(ids == [eve, bob, dan], &format!("recent first, history kept, then connections: {ids:?}"))?;
        check(partners[0].last_message.as_ref().map(|m| m.id) == Some(last.id), "last message")?;
        check(partners[1].unread_count == 2 && partners[2].unread_count == 0, "unread counts")?;
        check(partners[2].last_message.is_none(), "no history")?;
        let up_to = app.mark_read(ada, bob).await?;
        check(up_to.is_some(), "marked something")?;
        check(app.mark_read(ada, bob).await?.is_none(), "nothing left")?;
        let partners = app.chat_partners(ada).await?;
        check(partners.iter().all(|p| p.profile.id != bob || p.unread_count == 0), "read")?;
        let history = app.history(ada, bob, None, None).await?;
        check(history.iter().all(|m| m.read_at.is_some()) && history.last().map(|m| m.id) == up_to, "read_at set")?;
        check(app.chat_partners(bob).await?[0].unread_count == 0, "Bob's own messages are not unread to him")
    }
];
