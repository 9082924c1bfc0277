//! Group chat: messages in order from when one joined, idempotent sends, system
//! messages, removal, catch-up shared with 1:1 chat, read positions, live events.

use super::behaviours;
use super::fixtures::{PASSWORD, assert_quiet, check, connect, expect_code, next_event, png, say, service, user};
use crate::auth::Peer;
use crate::chat::NewMessage;
use crate::groups::{GroupRole, NewGroup, Visibility};
use crate::model::Event;
use crate::{
    AnyMessage, Conversation, DevConnect, Error, GroupChange, GroupId, GroupMessage, MessageId, Result, UserId,
};

fn group_of(name: &str, visibility: Visibility) -> NewGroup {
    NewGroup { name: name.to_owned(), description: String::new(), visibility, tags: Vec::new() }
}

fn text(text: &str) -> NewMessage {
    NewMessage { text: text.to_owned(), ..NewMessage::default() }
}

async fn post(app: &DevConnect, from: UserId, group: GroupId, words: &str) -> Result<GroupMessage> {
    Ok(app.send_group_message(from, group, text(words)).await?.message)
}

/// Ada and Bob, connected, and the public group `name` Ada made and Bob joined.
async fn connections_in_a_group(app: &DevConnect, name: &str) -> Result<(UserId, UserId, GroupId)> {
    let ((ada, _), (bob, _)) = (user(app, "Ada").await?, user(app, "Bob").await?);
    connect(app, ada, bob).await?;
    let group = app.create_group(ada, group_of(name, Visibility::Public)).await?.id;
    app.join_group(bob, group).await?;
    Ok((ada, bob, group))
}

/// What a page of group messages says: the text, or the change of a system message.
fn said(messages: &[GroupMessage]) -> Vec<String> {
    messages
        .iter()
        .map(|m| match m.change {
            Some(change) => format!("{change:?}"),
            None => m.text.clone(),
        })
        .collect()
}

async fn next_group_message(events: &mut crate::Subscription) -> Result<GroupMessage> {
    match next_event(events).await? {
        Event::GroupMessage(m) => Ok((*m).clone()),
        other => Err(Error::internal(format!("expected groupMessage, got {other:?}"))),
    }
}

behaviours![
    pub async fn members_read_a_group_from_when_they_joined_in_order(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _)) = (user(&app, "Ada").await?, user(&app, "Bob").await?);
        let group = app.create_group(ada, group_of("Rust", Visibility::Public)).await?.id;
        post(&app, ada, group, "before Bob").await?;
        app.join_group(bob, group).await?;
        let hello = post(&app, ada, group, "hello Bob").await?;
        let hi = post(&app, bob, group, "hi").await?;
        check(hello.seq < hi.seq && hi.group_id == group && hi.sender_id == bob, "positions and fields")?;
        let bobs = app.group_history(bob, group, None, None).await?;
        check(said(&bobs) == ["Joined", "hello Bob", "hi"], &format!("Bob's history from his join: {bobs:?}"))?;
        check(bobs[0].sender_id == bob && bobs[0].text.is_empty(), "a system message names who made the change")?;
        let adas = app.group_history(ada, group, None, None).await?;
        check(said(&adas) == ["Created", "before Bob", "Joined", "hello Bob", "hi"], "the owner's history")?;
        let page = app.group_history(ada, group, Some(hello.id), Some(2)).await?;
        check(said(&page) == ["before Bob", "Joined"], "a page before a message")?;
        expect_code(app.group_history(bob, group, Some(adas[1].id), None).await, "not_found", "before Bob joined")?;
        expect_code(app.group_history(ada, group, Some(MessageId::new()), None).await, "not_found", "unknown cursor")?;
        expect_code(app.group_history(ada, group, None, Some(0)).await, "validation", "limit 0")?;
        expect_code(app.send_group_message(ada, group, text("  ")).await, "validation", "empty")?;
        let bad_id = NewMessage { client_msg_id: Some(String::new()), ..text("x") };
        expect_code(app.send_group_message(ada, group, bad_id).await, "validation", "client id")
    }

    pub async fn a_resent_group_message_is_stored_once(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (one, two) = (
            app.create_group(ada, group_of("One", Visibility::Private)).await?.id,
            app.create_group(ada, group_of("Two", Visibility::Private)).await?.id,
        );
        let keyed = || NewMessage { client_msg_id: Some("k-1".to_owned()), image: Some(png(4, 4)), ..text("once") };
        let first = app.send_group_message(ada, one, keyed()).await?;
        let again = app.send_group_message(ada, one, keyed()).await?;
        check(first.created && !again.created && again.message == first.message, "the resend answers the first")?;
        check(first.message.image.is_some(), "with its image")?;
        let other = app.send_group_message(ada, two, keyed()).await?;
        check(other.created && other.message.id != first.message.id, "the same key in another group is new")?;
        let texts: Vec<_> = app.group_history(ada, one, None, None).await?.into_iter().map(|m| m.text).collect();
        check(texts == ["", "once"], "stored once, after the creation")?;
        // A 1:1 message may use the same key: keys are per sender and receiver.
        let (bob, _) = user(&app, "Bob").await?;
        connect(&app, ada, bob).await?;
        let direct = NewMessage { client_msg_id: Some("k-1".to_owned()), ..text("to Bob") };
        check(app.send_message(ada, bob, direct).await?.created, "a 1:1 message with the same key")
    }

    pub async fn outsiders_neither_read_nor_write(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (cy, _)) = (user(&app, "Ada").await?, user(&app, "Cy").await?);
        let public = app.create_group(ada, group_of("Public", Visibility::Public)).await?.id;
        let private = app.create_group(ada, group_of("Private", Visibility::Private)).await?.id;
        let said = post(&app, ada, public, "members only").await?;
        expect_code(app.send_group_message(cy, public, text("let me in")).await, "forbidden", "public, not joined")?;
        expect_code(app.group_history(cy, public, None, None).await, "forbidden", "public history")?;
        expect_code(app.group_typing(cy, public, true).await, "forbidden", "public typing")?;
        expect_code(app.mark_group_read(cy, public, said.id).await, "forbidden", "public read position")?;
        expect_code(app.send_group_message(cy, private, text("hello?")).await, "not_found", "private: hidden")?;
        expect_code(app.group_history(cy, private, None, None).await, "not_found", "private history: hidden")?;
        expect_code(app.send_group_message(ada, GroupId::new(), text("?")).await, "not_found", "unknown group")?;
        let synced = app.sync(cy, None, None).await?;
        check(synced.messages.is_empty(), "nothing of others' groups in catch-up")?;
        expect_code(app.sync(cy, Some(said.id), None).await, "not_found", "another group's message as cursor")
    }

    pub async fn a_removed_member_keeps_what_they_saw_and_gets_nothing_new(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _)) = (user(&app, "Ada").await?, user(&app, "Bob").await?);
        connect(&app, ada, bob).await?;
        let group = app.create_group(ada, group_of("Team", Visibility::Private)).await?.id;
        app.add_group_member(ada, group, bob).await?;
        post(&app, bob, group, "seen").await?;
        let mut bob_events = app.subscribe(bob).await?;
        app.remove_group_member(ada, group, bob).await?;
        match next_event(&mut bob_events).await? {
            Event::GroupMemberRemoved(r) => check(r.user_id == bob, "Bob hears he was removed")?,
            other => return Err(Error::internal(format!("expected groupMemberRemoved, got {other:?}"))),
        }
        post(&app, ada, group, "after Bob").await?;
        assert_quiet(&mut bob_events).await?;
        let kept = app.group_history(bob, group, None, None).await?;
        check(said(&kept) == [format!("{:?}", GroupChange::Added { user_id: bob }), "seen".to_owned()], "kept")?;
        let synced: Vec<_> = app.sync(bob, None, None).await?.messages.into_iter().map(|m| m.id()).collect();
        check(synced == kept.iter().map(|m| m.id).collect::<Vec<_>>(), "catch-up stops at the removal too")?;
        expect_code(app.send_group_message(bob, group, text("still here?")).await, "forbidden", "no more sending")?;
        let adas = app.group_history(ada, group, None, None).await?;
        let removed = GroupChange::Removed { user_id: bob };
        check(adas.iter().any(|m| m.change == Some(removed) && m.sender_id == ada), "the others see the removal")?;
        // Back again: from the return on (what came in between stays unseen).
        app.add_group_member(ada, group, bob).await?;
        post(&app, ada, group, "welcome back").await?;
        let back = said(&app.group_history(bob, group, None, None).await?);
        check(back == [format!("{:?}", GroupChange::Added { user_id: bob }), "welcome back".to_owned()], "returned")
    }

    pub async fn catch_up_interleaves_group_and_direct_messages_by_position(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, bob, group) = connections_in_a_group(&app, "Both").await?;
        let mut expected = app.sync(bob, None, None).await?.messages;
        check(expected.len() == 1, "the join's system message")?;
        for i in 0..4 {
            expected.push(AnyMessage::Direct(say(&app, ada, bob, &format!("direct {i}")).await?));
            expected.push(AnyMessage::Group(post(&app, bob, group, &format!("group {i}")).await?));
        }
        let all = app.sync(bob, None, None).await?;
        check(all.messages == expected && !all.has_more, "everything in position order, each of its kind")?;
        let page = app.sync(bob, Some(expected[2].id()), Some(3)).await?;
        check(page.messages == expected[3..6] && page.has_more, "after a group message, bounded")?;
        // A live session resumes after a group message and catches up on both kinds.
        let token = app.login("bob@example.com", PASSWORD, Peer::Local).await?.token;
        let session = app.authenticate(&token).await?;
        let mut sub = app.subscribe_session(&session, Some(expected[4].id())).await?;
        let caught = app.catch_up(&mut sub).await?;
        check(caught.messages == expected[5..], "the live catch-up covers group messages")?;
        let live = post(&app, ada, group, "live").await?;
        check(next_event(&mut sub).await? == Event::GroupMessage(live.into()), "then live, as groupMessage")
    }

    pub async fn read_positions_move_forward_and_the_others_hear_of_it(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _)) = (user(&app, "Ada").await?, user(&app, "Bob").await?);
        let group = app.create_group(ada, group_of("Readers", Visibility::Public)).await?.id;
        let other = app.create_group(ada, group_of("Elsewhere", Visibility::Public)).await?.id;
        app.join_group(bob, group).await?;
        let (first, second) = (post(&app, ada, group, "one").await?, post(&app, ada, group, "two").await?);
        let mut ada_events = app.subscribe(ada).await?;
        let mut bob_events = app.subscribe(bob).await?;
        check(app.mark_group_read(bob, group, second.id).await?, "moved")?;
        match next_event(&mut ada_events).await? {
            Event::GroupRead(r) => check(r.user_id == bob && r.up_to == second.id && r.group_id == group, "told")?,
            other => return Err(Error::internal(format!("expected groupRead, got {other:?}"))),
        }
        assert_quiet(&mut bob_events).await?;
        check(!app.mark_group_read(bob, group, first.id).await?, "never back")?;
        check(!app.mark_group_read(bob, group, second.id).await?, "nor twice")?;
        assert_quiet(&mut ada_events).await?;
        let elsewhere = post(&app, ada, other, "elsewhere").await?;
        expect_code(app.mark_group_read(bob, group, elsewhere.id).await, "validation", "another group's message")?;
        expect_code(app.mark_group_read(bob, group, MessageId::new()).await, "validation", "an unknown message")
    }

    pub async fn members_get_group_messages_and_typing_live(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _), (cy, _)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Cy").await?);
        let group = app.create_group(ada, group_of("Live", Visibility::Public)).await?.id;
        app.join_group(bob, group).await?;
        let (mut ada_events, mut bob_events, mut cy_events) =
            (app.subscribe(ada).await?, app.subscribe(bob).await?, app.subscribe(cy).await?);
        let sent = post(&app, ada, group, "to all").await?;
        check(next_group_message(&mut ada_events).await? == sent, "the sender's other devices")?;
        check(next_group_message(&mut bob_events).await? == sent, "the members")?;
        app.group_typing(bob, group, true).await?;
        match next_event(&mut ada_events).await? {
            Event::GroupTyping(t) => check(t.user_id == bob && t.typing && t.group_id == group, "typing")?,
            other => return Err(Error::internal(format!("expected groupTyping, got {other:?}"))),
        }
        assert_quiet(&mut bob_events).await?;
        app.set_group_role(ada, group, bob, GroupRole::Admin).await?;
        let _updated = next_event(&mut bob_events).await?;
        let change = next_group_message(&mut bob_events).await?.change;
        check(change == Some(GroupChange::RoleChanged { user_id: bob, role: GroupRole::Admin }), "a role change")?;
        assert_quiet(&mut cy_events).await
    }

    pub async fn the_conversation_list_mixes_people_and_groups_by_their_latest_message(
        store: Arc<dyn Store>,
    ) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _), (cy, _), (dee, _)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Cy").await?, user(&app, "Dee").await?);
        connect(&app, ada, bob).await?;
        connect(&app, ada, cy).await?;
        connect(&app, ada, dee).await?;
        let group = app.create_group(ada, group_of("Rust", Visibility::Public)).await?.id;
        let left = app.create_group(ada, group_of("Gone", Visibility::Public)).await?.id;
        app.join_group(bob, group).await?;
        say(&app, ada, bob, "one").await?;
        let two = post(&app, bob, group, "two").await?;
        post(&app, bob, group, "three").await?;
        say(&app, cy, ada, "four").await?;
        app.join_group(bob, left).await?;
        app.leave_group(ada, left).await?;
        let list = app.conversations(ada).await?;
        let shape: Vec<(String, Option<String>, u64)> = list
            .iter()
            .map(|c| match c {
                Conversation::Direct(d) => {
                    (d.user.first_name.clone(), d.last_message.as_ref().map(|m| m.text.clone()), d.unread_count)
                }
                Conversation::Group(g) => {
                    (g.group.name.clone(), g.last_message.as_ref().map(|m| m.text.clone()), g.unread_count)
                }
            })
            .collect();
        let expected = [
            ("Cy".to_owned(), Some("four".to_owned()), 1),
            ("Rust".to_owned(), Some("three".to_owned()), 2),
            ("Bob".to_owned(), Some("one".to_owned()), 0),
            ("Dee".to_owned(), None, 0),
        ];
        check(shape == expected, &format!("latest first, system messages not unread, groups left out: {shape:?}"))?;
        app.mark_group_read(ada, group, two.id).await?;
        let unread = app.conversations(ada).await?.iter().find_map(|c| match c {
            Conversation::Group(g) => Some(g.unread_count),
            Conversation::Direct(_) => None,
        });
        check(unread == Some(1), "unread after the read position")?;
        let bobs = app.conversations(bob).await?;
        check(bobs.len() == 3, "Bob: Ada, and both groups he is in")
    }

    pub async fn unread_counts_stop_at_the_cap(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, bob, group) = connections_in_a_group(&app, "Busy").await?;
        let cap = crate::chat::MAX_UNREAD_COUNT;
        let counts = |app: DevConnect| async move {
            let list = app.conversations(ada).await?;
            let counts: Vec<u64> = list
                .iter()
                .map(|c| match c {
                    Conversation::Direct(d) => d.unread_count,
                    Conversation::Group(g) => g.unread_count,
                })
                .collect();
            Ok::<_, Error>((counts, app.chat_partners(ada).await?[0].unread_count))
        };
        for i in 1..cap {
            say(&app, bob, ada, &format!("direct {i}")).await?;
            post(&app, bob, group, &format!("group {i}")).await?;
        }
        check(counts(app.clone()).await? == (vec![cap - 1, cap - 1], cap - 1), "below the cap, exact")?;
        for i in cap..cap + 2 {
            say(&app, bob, ada, &format!("direct {i}")).await?;
            post(&app, bob, group, &format!("group {i}")).await?;
        }
        check(counts(app.clone()).await? == (vec![cap, cap], cap), "beyond it, the cap")?;
        app.mark_read(ada, bob).await?;
        check(counts(app).await? == (vec![cap, 0], 0), "read: none")
    }
];
