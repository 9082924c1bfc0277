//! Blocks and reports: what a block hides both ways, what it removes, that it is not
//! revealed to the one blocked, groups (Matrix's "ignore"), races with requests, and the
//! rules of reports.

use std::sync::Arc;

use super::behaviours;
use super::fixtures::{assert_quiet, check, connect, expect_code, next_event, say, service, service_with, user};
use crate::chat::NewMessage;
use crate::connection::{ReviewStatus, SendStatus};
use crate::groups::{NewGroup, Visibility};
use crate::model::Event;
use crate::safety::{NewReport, ReportKind, ReportReason, ReportStatus, Reported};
use crate::store::Blocked;
use crate::{AnyMessage, Error, FeedQuery, RateLimit, Settings, UserId};

fn report(kind: &str, target: impl std::fmt::Display, reason: &str) -> NewReport {
    NewReport {
        kind: kind.to_owned(),
        target_id: target.to_string(),
        reason: reason.to_owned(),
        details: String::new(),
    }
}

async fn in_feed(app: &crate::DevConnect, viewer: UserId, other: UserId) -> crate::Result<bool> {
    let page = app.feed(viewer, &FeedQuery { limit: Some(50), ..FeedQuery::default() }).await?;
    Ok(page.profiles.iter().any(|p| p.id == other))
}

behaviours![
    pub async fn block_rules_and_the_blocked_list(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let ((ada, _), (bob, _), (eve, _)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Eve").await?);
        expect_code(app.block(ada, ada).await, "validation", "myself")?;
        expect_code(app.block(ada, UserId::new()).await, "not_found", "unknown user")?;
        expect_code(app.unblock(ada, bob).await, "not_found", "nobody blocked")?;
        check(app.block(ada, bob).await?, "a new block")?;
        check(!app.block(ada, bob).await?, "blocking again changes nothing")?;
        check(app.block(ada, eve).await?, "another")?;
        check(app.block(bob, ada).await?, "blocked back")?;
        let listed: Vec<UserId> = app.blocked_users(ada).await?.iter().map(|b| b.user.id).collect();
        check(listed == [eve, bob], &format!("newest block first: {listed:?}"))?;
        check(app.blocked_users(eve).await?.is_empty(), "the blocked do not see it")?;
        app.unblock(ada, eve).await?;
        check(app.blocked_users(ada).await?.iter().map(|b| b.user.id).eq([bob]), "unblocked")?;
        // The cap, checked in the same step as the write.
        check(store.block(eve, ada, 1, crate::now()).await? == Blocked::New { disconnected: false }, "under the cap")?;
        check(store.block(eve, bob, 1, crate::now()).await? == Blocked::Full, "at the cap")
    }

    pub async fn a_block_hides_both_ways_and_is_not_revealed(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _)) = (user(&app, "Ada").await?, user(&app, "Bob").await?);
        check(in_feed(&app, ada, bob).await? && in_feed(&app, bob, ada).await?, "strangers see each other")?;
        app.block(ada, bob).await?;
        check(!in_feed(&app, ada, bob).await? && !in_feed(&app, bob, ada).await?, "neither in the other's feed")?;
        expect_code(app.profile_for(bob, ada).await, "not_found", "the blocked see no profile")?;
        check(app.profile_for(ada, bob).await?.id == bob, "the blocker still does")?;
        expect_code(app.send_request(bob, ada, SendStatus::Interested, None).await, "not_found", "as for nobody")?;
        expect_code(app.send_request(ada, bob, SendStatus::Interested, None).await, "forbidden", "unblock first")?;
        expect_code(app.report(bob, report("user", ada, "spam")).await, "not_found", "nor report a hidden profile")?;
        app.unblock(ada, bob).await?;
        check(in_feed(&app, ada, bob).await? && in_feed(&app, bob, ada).await?, "unblocking shows them again")?;
        app.send_request(bob, ada, SendStatus::Interested, None).await?;
        Ok(())
    }

    pub async fn a_block_removes_the_connection_and_pending_requests(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _)) = (user(&app, "Ada").await?, user(&app, "Bob").await?);
        let ((eve, _), (dan, _)) = (user(&app, "Eve").await?, user(&app, "Dan").await?);
        connect(&app, ada, bob).await?;
        say(&app, bob, ada, "hi Ada").await?;
        let pending = app.send_request(eve, ada, SendStatus::Interested, None).await?;
        app.send_request(ada, dan, SendStatus::Ignored, None).await?;
        let _ada_online = app.subscribe(ada).await?;
        let _bob_online = app.subscribe(bob).await?;
        check(app.online_connections(bob).await?.contains(&ada), "online before")?;
        for other in [bob, eve, dan] {
            app.block(ada, other).await?;
        }
        check(app.connections(ada).await?.is_empty() && app.connections(bob).await?.is_empty(), "disconnected")?;
        check(!app.online_connections(bob).await?.contains(&ada), "no presence any more")?;
        check(app.received_requests(ada).await?.is_empty(), "the pending request is gone")?;
        expect_code(app.review_request(ada, pending.id, ReviewStatus::Accepted).await, "not_found", "to accept")?;
        let text = NewMessage { text: "still there?".into(), ..NewMessage::default() };
        expect_code(app.send_message(bob, ada, text.clone()).await, "forbidden", "no message, as to a stranger")?;
        expect_code(app.send_message(ada, bob, text).await, "forbidden", "either way")?;
        expect_code(app.typing(bob, ada, true).await, "forbidden", "no typing")?;
        check(app.history(ada, bob, None, None).await?.len() == 1, "the old conversation stays readable")?;
        // The ignored request stays: it keeps the two out of each other's feed after unblocking.
        app.unblock(ada, dan).await?;
        check(!in_feed(&app, ada, dan).await?, "ignored stays ignored")?;
        app.unblock(ada, bob).await?;
        check(app.connections(ada).await?.is_empty(), "unblocking restores nothing")
    }

    pub async fn a_request_racing_a_block_never_stands(store: Arc<dyn Store>) -> Result<()> {
        const ROUNDS: usize = 20;
        let app = service(Arc::clone(&store))?;
        for round in 0..ROUNDS {
            let (a, b) = (
                super::user_record(&format!("a{round}@block.test")),
                super::user_record(&format!("b{round}@block.test")),
            );
            store.insert_user(&a).await?;
            store.insert_user(&b).await?;
            let (a, b) = (a.me.profile.id, b.me.profile.id);
            let sending = {
                let app = app.clone();
                tokio::spawn(async move { app.send_request(a, b, SendStatus::Interested, None).await })
            };
            app.block(b, a).await?;
            match sending.await.map_err(Error::internal)? {
                Ok(_) | Err(Error::NotFound(_)) => {}
                Err(other) => return Err(other),
            }
            check(store.request_between(a, b).await?.is_none(), &format!("round {round}: a request stands"))?;
        }
        Ok(())
    }

    pub async fn the_blocker_no_longer_gets_the_blocked_in_groups(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _), (eve, _)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Eve").await?);
        let new =
            NewGroup { name: "Rust".into(), description: String::new(), visibility: Visibility::Public, tags: vec![] };
        let group = app.create_group(ada, new).await?.id;
        app.join_group(bob, group).await?;
        app.join_group(eve, group).await?;
        let start = app.sync(ada, None, None).await?.messages.last().map(AnyMessage::id);
        app.block(ada, bob).await?;
        let (mut ada_live, mut eve_live) = (app.subscribe(ada).await?, app.subscribe(eve).await?);
        let post = |from, words: &str| {
            let app = app.clone();
            let message = NewMessage { text: words.to_owned(), ..NewMessage::default() };
            async move { app.send_group_message(from, group, message).await }
        };
        post(bob, "from Bob").await?;
        match next_event(&mut eve_live).await? {
            Event::GroupMessage(m) if m.text == "from Bob" => {}
            other => return Err(Error::internal(format!("Eve gets Bob's message, got {other:?}"))),
        }
        app.group_typing(bob, group, true).await?;
        assert_quiet(&mut ada_live).await?;
        post(eve, "from Eve").await?;
        match next_event(&mut ada_live).await? {
            Event::GroupMessage(m) if m.text == "from Eve" => {}
            other => return Err(Error::internal(format!("Ada gets Eve's message, got {other:?}"))),
        }
        let texts = |messages: Vec<crate::GroupMessage>| messages.into_iter().map(|m| m.text).collect::<Vec<_>>();
        let adas = texts(app.group_history(ada, group, None, None).await?);
        check(!adas.contains(&"from Bob".to_owned()) && adas.contains(&"from Eve".to_owned()), "Ada's history")?;
        check(texts(app.group_history(eve, group, None, None).await?).contains(&"from Bob".to_owned()), "Eve's")?;
        let synced = app.sync(ada, start, None).await?.messages;
        check(synced.iter().all(|m| m.sender_id() != bob) && !synced.is_empty(), "Ada's catch-up leaves Bob out")?;
        // Bob still gets Ada's messages: ignoring is the blocker's choice only.
        check(texts(app.group_history(bob, group, None, None).await?).contains(&"from Eve".to_owned()), "Bob")?;
        app.unblock(ada, bob).await?;
        let adas = texts(app.group_history(ada, group, None, None).await?);
        check(adas.contains(&"from Bob".to_owned()), "unblocking shows the history again")?;
        post(bob, "Bob again").await?;
        match next_event(&mut ada_live).await? {
            Event::GroupMessage(m) if m.text == "Bob again" => Ok(()),
            other => Err(Error::internal(format!("once unblocked, Bob's messages reach Ada, got {other:?}"))),
        }
    }

    pub async fn a_groups_recipients_are_its_members_less_the_senders_blockers(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let (ada, bob, cy, dan, eve) = (
            user(&app, "Ada").await?.0,
            user(&app, "Bob").await?.0,
            user(&app, "Cy").await?.0,
            user(&app, "Dan").await?.0,
            user(&app, "Eve").await?.0,
        );
        let new =
            NewGroup { name: "Rust".into(), description: String::new(), visibility: Visibility::Public, tags: vec![] };
        let group = app.create_group(ada, new).await?.id;
        for member in [bob, cy, dan] {
            app.join_group(member, group).await?;
        }
        app.block(cy, ada).await?;
        // The other way round: Dan still gets what Ada says.
        app.block(ada, dan).await?;
        // Not a member: nothing to leave out.
        app.block(eve, ada).await?;
        let recipients = |sender: UserId| {
            let store = Arc::clone(&store);
            async move {
                let mut ids = store.recipients(group, sender).await?;
                ids.sort_unstable();
                Ok::<_, Error>(ids)
            }
        };
        let sorted = |mut ids: Vec<UserId>| {
            ids.sort_unstable();
            ids
        };
        check(recipients(ada).await? == sorted(vec![ada, bob, dan]), "Cy blocked Ada")?;
        check(recipients(dan).await? == sorted(vec![bob, cy, dan]), "Ada blocked Dan")?;
        check(recipients(bob).await? == sorted(vec![ada, bob, cy, dan]), "nobody blocked Bob")?;
        app.leave_group(bob, group).await?;
        app.unblock(cy, ada).await?;
        check(recipients(ada).await? == sorted(vec![ada, cy, dan]), "Bob left, Cy unblocked Ada")?;
        check(store.recipients(crate::GroupId::new(), ada).await?.is_empty(), "no such group")
    }

    pub async fn reports_snapshot_what_was_reported(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _)) = (user(&app, "Ada").await?, user(&app, "Bob").await?);
        connect(&app, ada, bob).await?;
        let message = say(&app, bob, ada, "buy my course").await?;
        let mut new = report("message", message.id, "spam");
        new.details = "  third time today \n".into();
        let filed = app.report(ada, new).await?;
        check(filed.kind == ReportKind::Message && filed.reason == ReportReason::Spam, "kind and reason")?;
        check(filed.status == ReportStatus::Open && filed.details == "third time today", "open, details trimmed")?;
        match &filed.snapshot {
            Reported::Message { message: AnyMessage::Direct(m) } if m.text == "buy my course" => {}
            other => return Err(Error::internal(format!("snapshot of the message, got {other:?}"))),
        }
        expect_code(app.report(ada, report("message", message.id, "harassment")).await, "conflict", "still open")?;
        let profile = app.report(ada, report("user", bob, "impersonation")).await?;
        check(matches!(&profile.snapshot, Reported::User { user } if user.id == bob), "the profile")?;
        let mine: Vec<_> = app.my_reports(ada).await?.iter().map(|r| r.id).collect();
        check(mine == [profile.id, filed.id], "my reports, newest first")?;
        check(app.my_reports(bob).await?.is_empty(), "Bob filed none")
    }

    pub async fn report_input_is_checked(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _), (eve, _)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Eve").await?);
        connect(&app, ada, bob).await?;
        let mine = say(&app, ada, bob, "hello").await?;
        let to_bob = say(&app, bob, ada, "to Ada").await?;
        expect_code(app.report(ada, report("post", bob, "spam")).await, "validation", "kind")?;
        expect_code(app.report(ada, report("user", bob, "rude")).await, "validation", "reason")?;
        expect_code(app.report(ada, report("user", "nope", "spam")).await, "validation", "malformed id")?;
        expect_code(app.report(ada, report("user", ada, "spam")).await, "validation", "myself")?;
        expect_code(app.report(ada, report("user", UserId::new(), "spam")).await, "not_found", "unknown user")?;
        expect_code(app.report(ada, report("message", mine.id, "spam")).await, "validation", "my own message")?;
        expect_code(app.report(eve, report("message", to_bob.id, "spam")).await, "not_found", "someone else's")?;
        expect_code(app.report(ada, report("group", crate::GroupId::new(), "spam")).await, "not_found", "no group")?;
        let new = NewGroup {
            name: "Secret".into(),
            description: String::new(),
            visibility: Visibility::Private,
            tags: vec![],
        };
        let secret = app.create_group(bob, new).await?.id;
        expect_code(app.report(eve, report("group", secret, "spam")).await, "not_found", "a private group")?;
        check(app.report(bob, report("group", secret, "other")).await?.kind == ReportKind::Group, "its member may")?;
        let mut long = report("user", bob, "other");
        long.details = "x".repeat(1001);
        expect_code(app.report(ada, long).await, "validation", "details too long")
    }

    pub async fn an_export_holds_everything_about_me_and_nothing_of_others(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _), (eve, _)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Eve").await?);
        connect(&app, ada, bob).await?;
        let mine = say(&app, ada, bob, "from Ada").await?;
        say(&app, bob, ada, "from Bob").await?;
        app.send_request(eve, ada, SendStatus::Interested, None).await?;
        let new =
            NewGroup { name: "Rust".into(), description: String::new(), visibility: Visibility::Public, tags: vec![] };
        let group = app.create_group(ada, new).await?.id;
        let in_group = NewMessage { text: "to the group".into(), ..NewMessage::default() };
        let group_message = app.send_group_message(ada, group, in_group).await?.message;
        app.report(ada, report("message", app.history(ada, bob, None, None).await?[1].id, "other")).await?;
        let export = app.export_account(ada).await?;
        check(export.profile.email == "ada@example.com", "my profile, with my email")?;
        check(export.connections.iter().map(|p| p.id).eq([bob]), "my connections")?;
        check(export.sent_requests.iter().map(|r| r.to_user_id.id).eq([bob]), "my requests")?;
        check(export.received_requests.iter().map(|r| r.from_user_id.id).eq([eve]), "requests to me")?;
        let ids: Vec<_> = export.messages.iter().map(AnyMessage::id).collect();
        check(ids == [mine.id, group_message.id], &format!("only what I wrote, oldest first: {ids:?}"))?;
        check(export.groups.iter().map(|g| g.group.id).eq([group]), "my groups")?;
        check(export.reports.len() == 1 && export.blocked.is_empty(), "my reports")?;
        let json = serde_json::to_string(&export).map_err(Error::internal)?;
        check(!json.contains("password") && !json.contains("$argon2"), "no credentials")
    }

    pub async fn reports_are_rate_limited(store: Arc<dyn Store>) -> Result<()> {
        let settings = Settings { report_rate: RateLimit::per_minute(2), ..Settings::default() };
        let app = service_with(store, settings)?;
        let (ada, _) = user(&app, "Ada").await?;
        let mut others = Vec::new();
        for name in ["Bob", "Eve", "Dan"] {
            others.push(user(&app, name).await?.0);
        }
        app.report(ada, report("user", others[0], "spam")).await?;
        app.report(ada, report("user", others[1], "spam")).await?;
        expect_code(app.report(ada, report("user", others[2], "spam")).await, "rate_limited", "the third")
    }
];
