//! Deleting an account, by its owner (with the password) or by an operator: what goes
//! (profile, photo, credentials, requests, connections, blocks, group memberships),
//! what stays (messages, from a placeholder), and sessions ending on every instance.

use std::sync::Arc;
use std::time::Duration;

use devconnect_types::profile::DELETED_NAME;
use secrecy::SecretString;

use super::behaviours;
use super::fixtures::{MEDIA_BASE, PASSWORD, SECRET, check, connect, expect_code, say, service, signup_form, user};
use crate::auth::{Peer, Signup};
use crate::groups::{NewGroup, Visibility};
use crate::media::LocalMedia;
use crate::moderation::AuditAction;
use crate::realtime::EndReason;
use crate::search::SearchQuery;
use crate::{
    DevConnect, Error, FeedQuery, GroupChange, GroupRole, NewMessage, RateLimit, SendStatus, Settings, UserId,
};

fn group(name: &str) -> NewGroup {
    NewGroup { name: name.into(), description: String::new(), visibility: Visibility::Private, tags: vec![] }
}

behaviours![
    pub async fn an_account_deleted_while_it_joins_a_group_is_not_left_a_member(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let ((owner, _), (ada, _)) = (user(&app, "Owner").await?, user(&app, "Ada").await?);
        let open = app.create_group(owner, NewGroup { visibility: Visibility::Public, ..group("Open") }).await?;
        // The deletion, groups left included, finishes between the join's checks (its
        // session was valid) and its membership's insert.
        store.erase_user(ada, crate::now()).await?;
        expect_code(app.join_group(ada, open.id).await, "not_found", "the join")?;
        let members = app.group_members(owner, open.id).await?;
        check(members.iter().all(|m| m.user_id == owner), "no member left behind")?;
        check(app.group(owner, open.id).await?.member_count == 1, "the count follows")
    }

    pub async fn deleting_my_account_erases_me_and_leaves_my_messages_to_others(store: Arc<dyn Store>) -> Result<()> {
        let dir = tempfile::tempdir().map_err(Error::internal)?;
        let media = Arc::new(LocalMedia::new(dir.path(), MEDIA_BASE)?);
        let settings = Settings { login_rate: RateLimit::per_minute(0), ..Settings::default() };
        let app = DevConnect::new(store, media, &SecretString::from(SECRET.to_owned()), settings)?;
        let form = Signup { photo: Some(crate::testkit::png(8, 8)), ..signup_form("Ada", "ada@example.com") };
        let auth = app.signup(form, Peer::Local).await?;
        let (ada, token) = (auth.user.profile.id, auth.token);
        let photo = auth.user.profile.photo_url.clone().unwrap_or_default();
        let photo_file = dir.path().join(photo.trim_start_matches(&format!("{MEDIA_BASE}/")));
        let ((bob, _), (cy, _), (dee, _)) =
            (user(&app, "Bob").await?, user(&app, "Cy").await?, user(&app, "Dee").await?);
        connect(&app, ada, bob).await?;
        say(&app, ada, bob, "hello from Ada").await?;
        say(&app, bob, ada, "hi Ada").await?;
        app.send_request(ada, cy, SendStatus::Interested, Some("let's talk")).await?;
        app.block(dee, ada).await?;
        let session = app.authenticate(&token).await?;

        expect_code(app.delete_account(&session, "Wr0ng!pass").await, "validation", "a wrong password")?;
        expect_code(app.delete_account(&session, &"x".repeat(10_000)).await, "validation", "a huge password")?;
        check(photo_file.exists(), "nothing is deleted on a wrong password")?;
        app.delete_account(&session, PASSWORD).await?;

        expect_code(app.authenticate(&token).await, "unauthorized", "the token stops working")?;
        expect_code(app.login("ada@example.com", PASSWORD, Peer::Local).await, "unauthorized", "no login")?;
        check(!photo_file.exists(), "the photo is deleted")?;
        // The other party keeps the conversation, from a placeholder.
        let history = app.history(bob, ada, None, None).await?;
        check(history.len() == 2 && history[0].text == "hello from Ada", "messages stay for the other party")?;
        let partners = app.chat_partners(bob).await?;
        let gone = partners.iter().find(|p| p.profile.id == ada).map(|p| &p.profile);
        check(
            gone.is_some_and(|p| {
                p.deleted && p.first_name == DELETED_NAME && p.about.is_empty() && p.skills.is_empty()
            }),
            &format!("the partner list shows a deleted user: {gone:?}"),
        )?;
        check(gone.is_some_and(|p| p.photo_url.is_none() && p.age.is_none()), "with nothing personal")?;
        check(!partners.iter().any(|p| p.profile.id == ada && p.online), "never online")?;
        // Everything else that linked to Ada is gone.
        check(app.connections(bob).await?.is_empty(), "the connection is gone")?;
        check(app.received_requests(cy).await?.is_empty(), "the pending request is gone")?;
        check(app.blocked_users(dee).await?.is_empty(), "blocks of Ada are gone")?;
        expect_code(app.profile_for(bob, ada).await, "not_found", "no profile")?;
        expect_code(
            app.send_message(bob, ada, NewMessage { text: "hi?".into(), ..NewMessage::default() }).await,
            "forbidden",
            "no message",
        )?;
        expect_code(app.send_request(cy, ada, SendStatus::Interested, None).await, "not_found", "no request")?;
        expect_code(app.block(bob, ada).await, "not_found", "no block")?;
        let feed = app.feed(cy, &FeedQuery::default()).await?;
        check(feed.profiles.iter().all(|p| p.id != ada), "not in the feed")?;
        let everyone = app.search_users(cy, &SearchQuery::default()).await?;
        check(everyone.results.iter().all(|r| r.profile.id != ada), "not in search results")?;
        let named = app.search_users(cy, &SearchQuery { q: Some("deleted".into()), ..SearchQuery::default() }).await?;
        check(named.results.is_empty(), "not found by the placeholder's name")?;
        // The address is free again: a new account, a new person.
        let again = app.signup(signup_form("Ada", "ada@example.com"), Peer::Local).await?;
        check(again.user.profile.id != ada, "the email can sign up again")?;
        let audit = app.audit(None, None).await?;
        let entry = audit.last().map(|e| (e.actor.clone(), e.action, e.target_id.clone()));
        check(entry == Some((ada.to_hex(), AuditAction::DeleteAccount, ada.to_hex())), "recorded")
    }

    pub async fn a_deleted_member_leaves_their_groups_and_an_owner_hands_them_on(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let ((ada, token), (bob, _), (cy, _)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Cy").await?);
        connect(&app, ada, bob).await?;
        connect(&app, ada, cy).await?;
        let shared = app.create_group(ada, group("Rustaceans")).await?.id;
        app.add_group_member(ada, shared, bob).await?;
        app.add_group_member(ada, shared, cy).await?;
        app.set_group_role(ada, shared, cy, GroupRole::Admin).await?;
        let text = |t: &str| NewMessage { text: t.into(), ..NewMessage::default() };
        app.send_group_message(ada, shared, text("welcome")).await?;
        let alone = app.create_group(ada, group("Just me")).await?.id;
        let session = app.authenticate(&token).await?;
        app.delete_account(&session, PASSWORD).await?;

        let group = app.group(bob, shared).await?;
        check(group.owner_id == cy, "the longest-standing admin owns it now")?;
        let members: Vec<UserId> = app.group_members(bob, shared).await?.iter().map(|m| m.user_id).collect();
        check(!members.contains(&ada) && members.len() == 2, "Ada is no member")?;
        let history = app.group_history(bob, shared, None, None).await?;
        check(history.iter().any(|m| m.sender_id == ada && m.text == "welcome"), "her messages stay")?;
        check(
            history.last().is_some_and(|m| m.sender_id == ada && m.change == Some(GroupChange::Left)),
            "the others see that she left",
        )?;
        check(app.my_groups(bob).await?.len() == 1, "Bob keeps the group")?;
        let alone = store.group(alone).await?;
        check(alone.is_some_and(|g| g.archived && g.member_count == 0), "the group she was alone in is archived")
    }

    pub async fn operators_delete_accounts_and_sessions_end_on_every_instance(store: Arc<dyn Store>) -> Result<()> {
        // Two services on one store: two instances, or a server and the `admin` command.
        let (here, there) = (service(Arc::clone(&store))?, service(store)?);
        let ((bob, token), (cy, _)) = (user(&here, "Bob").await?, user(&here, "Cy").await?);
        connect(&here, bob, cy).await?;
        let session = here.authenticate(&token).await?;
        let mut live_here = here.subscribe_session(&session, None).await?;
        let mut live_there = there.subscribe_session(&session, None).await?;
        expect_code(here.delete_user("ops", UserId::new(), "").await, "not_found", "unknown user")?;
        expect_code(here.delete_user(" ", bob, "").await, "validation", "no actor")?;
        here.delete_user("ops-ann", bob, "spam ring").await?;
        for (live, which) in [(&mut live_here, "here"), (&mut live_there, "there")] {
            let ended =
                tokio::time::timeout(Duration::from_secs(10), async { while live.next().await.is_some() {} }).await;
            check(ended.is_ok(), &format!("the session {which} ends"))?;
            check(live.end_reason() == Some(EndReason::Deleted), &format!("as deleted, {which}"))?;
        }
        expect_code(there.subscribe_session(&session, None).await, "unauthorized", "no new session")?;
        expect_code(here.delete_user("ops", bob, "").await, "conflict", "deleted already")?;
        expect_code(here.suspend("ops", bob, "").await, "not_found", "nothing left to suspend")?;
        check(here.connections(cy).await?.is_empty(), "the connection is gone")?;
        let audit = here.audit(None, None).await?;
        let entry = audit.last().map(|e| (e.actor.as_str(), e.action, e.note.as_str()));
        check(entry == Some(("ops-ann", AuditAction::DeleteUser, "spam ring")), "recorded")
    }
];
