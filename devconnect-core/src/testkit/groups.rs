//! Groups: creation, who sees what, adding and joining within the cap, roles, leaving.

use super::behaviours;
use super::fixtures::{
    MEDIA_BASE, SECRET, assert_quiet, check, connect, expect_code, next_event, png, service, service_with, user,
};
use crate::groups::{GroupChange, GroupEdit, GroupPage, GroupQuery, GroupRole, NewGroup, Visibility};
use crate::model::{Event, GroupMemberAdded, GroupMemberRemoved};
use crate::{Error, Result, Settings};

fn new_group(name: &str, visibility: Visibility) -> NewGroup {
    NewGroup {
        name: name.to_owned(),
        description: "Rustaceans in Berlin".to_owned(),
        visibility,
        tags: vec!["Rust".to_owned(), "rust".to_owned(), " Berlin ".to_owned()],
    }
}

/// Expects the system message recording `change` next on `events`.
async fn expect_change(events: &mut crate::Subscription, change: GroupChange) -> Result<()> {
    match next_event(events).await? {
        Event::GroupMessage(m) => check(m.change == Some(change), &format!("expected {change:?}, got {m:?}")),
        other => Err(Error::internal(format!("expected the system message {change:?}, got {other:?}"))),
    }
}

behaviours![
    pub async fn a_group_is_created_with_its_creator_as_owner_and_checked_input(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let group = app.create_group(ada, new_group("  Rust Berlin  ", Visibility::Private)).await?;
        check(group.name == "Rust Berlin" && group.owner_id == ada && group.member_count == 1, "fields")?;
        check(group.tags == ["Rust", "Berlin"], "tags trimmed and de-duplicated")?;
        check(app.group(ada, group.id).await? == group, "read back as created")?;
        let members = app.group_members(ada, group.id).await?;
        check(members.len() == 1 && members[0].user_id == ada && members[0].role == GroupRole::Owner, "owner")?;
        let mine = app.my_groups(ada).await?;
        check(mine.len() == 1 && mine[0].group.id == group.id && mine[0].role == GroupRole::Owner, "my groups")?;
        for (bad, field) in [("", "empty"), (&"n".repeat(101), "long"), ("a\u{7}b", "control")] {
            expect_code(app.create_group(ada, new_group(bad, Visibility::Public)).await, "validation", field)?;
        }
        let mut long = new_group("ok", Visibility::Public);
        long.description = "d".repeat(1001);
        expect_code(app.create_group(ada, long).await, "validation", "description")?;
        let mut tags = new_group("ok", Visibility::Public);
        tags.tags = vec!["t".repeat(crate::profile::MAX_SKILL_CHARS + 1)];
        expect_code(app.create_group(ada, tags).await, "validation", "tag")?;
        expect_code(app.group(ada, crate::GroupId::new()).await, "not_found", "unknown group")
    }

    pub async fn a_private_group_is_hidden_from_outsiders_and_grows_only_by_connections(
        store: Arc<dyn Store>,
    ) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _), (cy, _)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Cy").await?);
        connect(&app, ada, bob).await?;
        let group = app.create_group(ada, new_group("Core team", Visibility::Private)).await?;
        expect_code(app.group(bob, group.id).await, "not_found", "hidden from outsiders")?;
        expect_code(app.group_members(cy, group.id).await, "not_found", "members hidden")?;
        expect_code(app.join_group(bob, group.id).await, "not_found", "no joining a private group")?;
        expect_code(app.add_group_member(ada, group.id, cy).await, "forbidden", "not a connection")?;
        expect_code(app.add_group_member(ada, group.id, crate::UserId::new()).await, "not_found", "unknown user")?;
        let added = app.add_group_member(ada, group.id, bob).await?;
        check(added.user_id == bob && added.role == GroupRole::Member, "added as member")?;
        expect_code(app.add_group_member(ada, group.id, bob).await, "conflict", "twice")?;
        check(app.group(bob, group.id).await?.member_count == 2, "visible to the new member, counted")?;
        connect(&app, bob, cy).await?;
        expect_code(app.add_group_member(bob, group.id, cy).await, "forbidden", "members do not add")?;
        app.set_group_role(ada, group.id, bob, GroupRole::Admin).await?;
        app.add_group_member(bob, group.id, cy).await?;
        let roles: Vec<_> = app.group_members(cy, group.id).await?.iter().map(|m| (m.user_id, m.role)).collect();
        check(roles == [(ada, GroupRole::Owner), (bob, GroupRole::Admin), (cy, GroupRole::Member)], "seniority order")
    }

    pub async fn anyone_joins_a_public_group_and_the_cap_holds_under_concurrent_joins(
        store: Arc<dyn Store>,
    ) -> Result<()> {
        let app = service_with(store, Settings { group_member_cap: 5, ..Settings::default() })?;
        let (ada, _) = user(&app, "Ada").await?;
        let group = app.create_group(ada, new_group("Open source", Visibility::Public)).await?;
        let mut people = Vec::new();
        for i in 0..12 {
            people.push(user(&app, &format!("Dev{i}")).await?.0);
        }
        check(app.group(people[0], group.id).await?.name == "Open source", "public: visible to anyone")?;
        let mut racing = tokio::task::JoinSet::new();
        for p in people.clone() {
            let app = app.clone();
            racing.spawn(async move { app.join_group(p, group.id).await });
        }
        let joins = racing.join_all().await;
        let joined = joins.iter().filter(|r| r.is_ok()).count();
        let full = joins.iter().filter(|r| r.as_ref().err().map(Error::code) == Some("limit_exceeded")).count();
        check(joined == 4 && full == 8, &format!("exactly the cap: {joined} joined, {full} refused"))?;
        check(app.group_members(ada, group.id).await?.len() == 5, "five members")?;
        check(app.group(ada, group.id).await?.member_count == 5, "counted")?;
        let member = joins.iter().find_map(|r| r.as_ref().ok()).map(|m| m.user_id);
        let member = member.ok_or_else(|| Error::internal("nobody joined"))?;
        expect_code(app.join_group(member, group.id).await, "conflict", "joined twice")?;
        app.leave_group(member, group.id).await?;
        let outsider = people.iter().copied().find(|p| *p != member).ok_or_else(|| Error::internal("nobody"))?;
        let retry = app.join_group(outsider, group.id).await;
        let seat = match retry {
            Ok(_) => true,
            Err(e) if e.code() == "conflict" => {
                // Already a member: any of the others takes the freed seat.
                let mut taken = false;
                for p in &people {
                    if app.join_group(*p, group.id).await.is_ok() {
                        taken = true;
                        break;
                    }
                }
                taken
            }
            Err(e) => return Err(e),
        };
        check(seat && app.group(ada, group.id).await?.member_count == 5, "a seat freed by leaving is taken again")
    }

    pub async fn roles_change_by_the_owner_only_and_nobody_removes_the_owner(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _), (cy, _), (dee, _)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Cy").await?, user(&app, "Dee").await?);
        let group = app.create_group(ada, new_group("Maintainers", Visibility::Public)).await?;
        for p in [bob, cy, dee] {
            app.join_group(p, group.id).await?;
        }
        expect_code(app.set_group_role(bob, group.id, cy, GroupRole::Admin).await, "forbidden", "a member promotes")?;
        expect_code(app.set_group_role(ada, group.id, bob, GroupRole::Owner).await, "validation", "owner by role")?;
        expect_code(app.set_group_role(ada, group.id, ada, GroupRole::Member).await, "validation", "own role")?;
        app.set_group_role(ada, group.id, bob, GroupRole::Admin).await?;
        app.set_group_role(ada, group.id, cy, GroupRole::Admin).await?;
        expect_code(app.remove_group_member(bob, group.id, ada).await, "forbidden", "removing the owner")?;
        expect_code(app.remove_group_member(bob, group.id, cy).await, "forbidden", "an admin removes an admin")?;
        expect_code(app.remove_group_member(dee, group.id, bob).await, "forbidden", "a member removes")?;
        expect_code(app.remove_group_member(bob, group.id, bob).await, "validation", "removing oneself")?;
        app.remove_group_member(bob, group.id, dee).await?;
        expect_code(app.remove_group_member(bob, group.id, dee).await, "not_found", "removed twice")?;
        check(app.my_groups(dee).await?.is_empty(), "the removed member's list")?;
        app.set_group_role(ada, group.id, cy, GroupRole::Member).await?;
        app.remove_group_member(ada, group.id, cy).await?;
        app.transfer_group(ada, group.id, bob).await?;
        let roles: Vec<_> = app.group_members(ada, group.id).await?.iter().map(|m| (m.user_id, m.role)).collect();
        check(roles == [(ada, GroupRole::Admin), (bob, GroupRole::Owner)], "handed on; the old owner is an admin")?;
        check(app.group(ada, group.id).await?.owner_id == bob, "the group names its new owner")?;
        expect_code(app.transfer_group(ada, group.id, ada).await, "forbidden", "no longer the owner")
    }

    pub async fn an_owner_leaving_hands_the_group_on_and_the_last_member_archives_it(
        store: Arc<dyn Store>,
    ) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _), (cy, _)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Cy").await?);
        let group = app.create_group(ada, new_group("Meetup", Visibility::Public)).await?;
        app.join_group(bob, group.id).await?;
        app.join_group(cy, group.id).await?;
        app.set_group_role(ada, group.id, cy, GroupRole::Admin).await?;
        app.leave_group(ada, group.id).await?;
        check(app.group(bob, group.id).await?.owner_id == cy, "the admin before the older member")?;
        app.leave_group(cy, group.id).await?;
        check(app.group(bob, group.id).await?.owner_id == bob, "then the longest-standing member")?;
        expect_code(app.leave_group(cy, group.id).await, "not_found", "left twice")?;
        app.leave_group(bob, group.id).await?;
        let archived = app.group(ada, group.id).await?;
        check(archived.archived && archived.member_count == 0, "the last one out archives it")?;
        expect_code(app.join_group(ada, group.id).await, "not_found", "nobody joins an archived group")
    }

    pub async fn members_hear_of_joins_role_changes_and_departures_live(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _), (cy, _)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Cy").await?);
        let group = app.create_group(ada, new_group("Live", Visibility::Public)).await?;
        let (mut ada_events, mut bob_events, mut cy_events) =
            (app.subscribe(ada).await?, app.subscribe(bob).await?, app.subscribe(cy).await?);
        let joined = app.join_group(bob, group.id).await?;
        let added = Event::GroupMemberAdded(Box::new(GroupMemberAdded { group_id: group.id, member: joined }));
        check(next_event(&mut ada_events).await? == added, "the owner hears of the join")?;
        check(next_event(&mut bob_events).await? == added, "so does the new member")?;
        for events in [&mut ada_events, &mut bob_events] {
            expect_change(events, GroupChange::Joined).await?;
        }
        app.set_group_role(ada, group.id, bob, GroupRole::Admin).await?;
        for events in [&mut ada_events, &mut bob_events] {
            match next_event(events).await? {
                Event::GroupUpdated(g) => check(g.id == group.id, "the group")?,
                other => return Err(Error::internal(format!("expected groupUpdated, got {other:?}"))),
            }
            expect_change(events, GroupChange::RoleChanged { user_id: bob, role: GroupRole::Admin }).await?;
        }
        app.leave_group(bob, group.id).await?;
        let gone = Event::GroupMemberRemoved(Box::new(GroupMemberRemoved { group_id: group.id, user_id: bob }));
        check(next_event(&mut ada_events).await? == gone, "the owner hears who left")?;
        check(next_event(&mut bob_events).await? == gone, "the one who left hears it too")?;
        expect_change(&mut ada_events, GroupChange::Left).await?;
        assert_quiet(&mut cy_events).await?;
        assert_quiet(&mut bob_events).await
    }

    pub async fn public_groups_are_found_by_name_words_and_tags_most_active_first(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let make = |name: &str, tags: &[&str], visibility| NewGroup {
            name: name.to_owned(),
            description: String::new(),
            visibility,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        };
        let berlin = app.create_group(ada, make("Rust Berlin", &["Rust", "meetup"], Visibility::Public)).await?;
        let paris = app.create_group(ada, make("Rust Paris", &["rust"], Visibility::Public)).await?;
        let go = app.create_group(ada, make("Go Berlin", &["go"], Visibility::Public)).await?;
        app.create_group(ada, make("Secret Rust", &["rust"], Visibility::Private)).await?;
        let old = app.create_group(ada, make("Old Rust", &["rust"], Visibility::Public)).await?;
        app.leave_group(ada, old.id).await?;
        let hello = crate::chat::NewMessage { text: "hello".to_owned(), ..crate::chat::NewMessage::default() };
        app.send_group_message(ada, paris.id, hello).await?;
        let find = |q: &str, tags: &[&str], page: u32, limit: u32| GroupQuery {
            q: Some(q.to_owned()),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            page: Some(page),
            limit: Some(limit),
        };
        let names = |page: &GroupPage| page.groups.iter().map(|g| g.name.clone()).collect::<Vec<_>>();
        let all = app.discover_groups(&GroupQuery::default()).await?;
        check(names(&all) == ["Rust Paris", "Go Berlin", "Rust Berlin"], "public, open, most active first")?;
        let rust = app.discover_groups(&find("RUST", &[], 1, 10)).await?;
        check(names(&rust) == ["Rust Paris", "Rust Berlin"], "a name word, any case")?;
        let typed = app.discover_groups(&find("ber", &[], 1, 10)).await?;
        check(names(&typed) == ["Go Berlin", "Rust Berlin"], "the last word as a prefix")?;
        check(names(&app.discover_groups(&find("rust ber", &[], 1, 10)).await?) == ["Rust Berlin"], "all words")?;
        check(
            app.discover_groups(&find("ru berlin", &[], 1, 10)).await?.groups.is_empty(),
            "only the last is a prefix",
        )?;
        let tagged = app.discover_groups(&find("", &["RUST ", "Meetup"], 1, 10)).await?;
        check(names(&tagged) == ["Rust Berlin"], "every tag, any case")?;
        let first = app.discover_groups(&find(" ", &[], 1, 2)).await?;
        let second = app.discover_groups(&find(" ", &[], 2, 2)).await?;
        check(first.has_more && !second.has_more && names(&second) == ["Rust Berlin"], "paged")?;
        check(go.id != berlin.id, "distinct groups")?;
        expect_code(app.discover_groups(&find(&"x".repeat(101), &[], 1, 10)).await, "validation", "long q")?;
        expect_code(app.discover_groups(&find("a b c d e f", &[], 1, 10)).await, "validation", "many words")?;
        expect_code(app.discover_groups(&find("", &[], 0, 10)).await, "validation", "page 0")?;
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        let many = GroupQuery { tags: many, ..GroupQuery::default() };
        expect_code(app.discover_groups(&many).await, "validation", "too many tags")
    }

    pub async fn owners_and_admins_edit_a_group_and_a_new_photo_replaces_the_old(store: Arc<dyn Store>) -> Result<()> {
        let dir = tempfile::tempdir().map_err(Error::internal)?;
        let media = std::sync::Arc::new(crate::LocalMedia::new(dir.path(), MEDIA_BASE)?);
        let settings = Settings { message_rate: crate::RateLimit::per_minute(0), ..Settings::default() };
        let secret = secrecy::SecretString::from(SECRET.to_owned());
        let app = crate::DevConnect::new(store, media, &secret, settings)?;
        let file = |url: &str| dir.path().join(url.trim_start_matches(&format!("{MEDIA_BASE}/")));
        let ((ada, _), (bob, _), (cy, _)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Cy").await?);
        let group = app.create_group(ada, new_group("Rust", Visibility::Public)).await?;
        app.join_group(bob, group.id).await?;
        let mut bob_events = app.subscribe(bob).await?;
        let before = app.group(ada, group.id).await?;
        // Nor tells anyone: the next event Bob gets is the real edit's.
        check(app.edit_group(ada, group.id, GroupEdit::default()).await? == before, "an empty edit changes nothing")?;
        let rename = || GroupEdit { name: Some("Rust Berlin".to_owned()), ..GroupEdit::default() };
        expect_code(app.edit_group(bob, group.id, rename()).await, "forbidden", "a member edits")?;
        expect_code(app.edit_group(cy, group.id, rename()).await, "forbidden", "an outsider edits")?;
        expect_code(app.edit_group(ada, crate::GroupId::new(), rename()).await, "not_found", "an unknown group")?;
        let bad = GroupEdit { name: Some(" ".to_owned()), photo: Some(png(4, 4)), ..GroupEdit::default() };
        expect_code(app.edit_group(ada, group.id, bad).await, "validation", "a blank name")?;
        check(std::fs::read_dir(dir.path()).map_err(Error::internal)?.next().is_none(), "nothing stored on error")?;

        let edit = GroupEdit {
            name: Some("Rust Berlin".to_owned()),
            tags: Some(vec!["meetup".to_owned()]),
            visibility: Some(Visibility::Private),
            photo: Some(png(8, 8)),
            ..GroupEdit::default()
        };
        let edited = app.edit_group(ada, group.id, edit).await?;
        let first = edited.photo_url.clone().unwrap_or_default();
        check(first.starts_with(&format!("{MEDIA_BASE}/")) && file(&first).exists(), "the photo stored")?;
        check(
            edited.name == "Rust Berlin" && edited.tags == ["meetup"] && edited.description == group.description,
            "fields",
        )?;
        check(app.group(bob, group.id).await? == edited, "read back as edited")?;
        match next_event(&mut bob_events).await? {
            Event::GroupUpdated(g) => check(*g == edited, "members hear of the edit")?,
            other => return Err(Error::internal(format!("expected groupUpdated, got {other:?}"))),
        }
        expect_change(&mut bob_events, GroupChange::Edited).await?;
        expect_code(app.group(cy, group.id).await, "not_found", "private now")?;
        app.edit_group(ada, group.id, GroupEdit { visibility: Some(Visibility::Public), ..GroupEdit::default() })
            .await?;
        let by_tag = GroupQuery { tags: vec!["meetup".to_owned()], ..GroupQuery::default() };
        check(app.discover_groups(&by_tag).await?.groups.len() == 1, "found by its new tag")?;
        let old_tag =
            GroupQuery { q: Some("rust berlin".to_owned()), tags: vec!["rust".to_owned()], ..GroupQuery::default() };
        check(app.discover_groups(&old_tag).await?.groups.is_empty(), "no longer by its old tag")?;

        app.set_group_role(ada, group.id, bob, GroupRole::Admin).await?;
        let photo = GroupEdit { photo: Some(png(4, 4)), ..GroupEdit::default() };
        let second = app.edit_group(bob, group.id, photo).await?.photo_url.unwrap_or_default();
        check(second != first && file(&second).exists() && !file(&first).exists(), "an admin replaces the photo")?;
        let not_an_image = GroupEdit { photo: Some(crate::Upload(b"%PDF-1.4".to_vec())), ..GroupEdit::default() };
        expect_code(app.edit_group(ada, group.id, not_an_image).await, "unsupported_media_type", "not an image")?;
        check(app.group(ada, group.id).await?.photo_url == Some(second), "the photo unchanged on error")
    }

    pub async fn a_thousand_concurrent_joins_fill_a_public_group_exactly_to_its_cap(
        store: Arc<dyn Store>,
    ) -> Result<()> {
        let app =
            service_with(std::sync::Arc::clone(&store), Settings { group_member_cap: 500, ..Settings::default() })?;
        let (ada, _) = user(&app, "Ada").await?;
        let group = app.create_group(ada, new_group("Crowded", Visibility::Public)).await?;
        // Stored directly: a thousand signups would spend the time on password hashing.
        let mut people = Vec::with_capacity(1000);
        for i in 0..1000 {
            let record = super::fixtures::user_record(&format!("joiner{i}@example.com"));
            people.push(record.me.profile.id);
            store.insert_user(&record).await?;
        }
        let mut racing = tokio::task::JoinSet::new();
        for person in people {
            let app = app.clone();
            racing.spawn(async move { app.join_group(person, group.id).await });
        }
        let joins = racing.join_all().await;
        let joined = joins.iter().filter(|r| r.is_ok()).count();
        let full = joins.iter().filter(|r| r.as_ref().err().map(Error::code) == Some("limit_exceeded")).count();
        check(joined == 499 && full == 501, &format!("exactly the cap: {joined} joined, {full} refused"))?;
        check(app.group_members(ada, group.id).await?.len() == 500, "500 members listed")?;
        check(app.group(ada, group.id).await?.member_count == 500, "500 counted")
    }
];
