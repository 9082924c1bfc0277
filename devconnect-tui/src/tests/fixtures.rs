use std::time::Instant;

use chrono::Utc;
use devconnect_client::LoggedIn;
use devconnect_types::{
    BlockedUser, ChatPartner, ConnectionRequest, Group, GroupChange, GroupId, GroupMember, GroupMessage, GroupRole, Me,
    Message, MessageId, MyGroup, Profile, Report, ReportId, ReportKind, ReportReason, ReportStatus, Reported,
    RequestId, RequestStatus, UserId, Visibility,
};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::{App, Command, Msg, Reply};

pub fn profile(first: &str, last: &str) -> Profile {
    Profile {
        id: UserId::new(),
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        age: Some(30),
        gender: None,
        photo_url: None,
        location: None,
        experience_years: None,
        about: String::new(),
        skills: vec!["rust".to_owned()],
        created_at: Utc::now(),
        updated_at: Utc::now(),
        deleted: false,
    }
}

pub fn me(first: &str) -> Me {
    Me { profile: profile(first, "Me"), email: format!("{}@example.com", first.to_lowercase()) }
}

pub fn message(from: UserId, to: UserId, text: &str) -> Message {
    Message {
        id: MessageId::new(),
        sender_id: from,
        receiver_id: to,
        text: text.to_owned(),
        image: None,
        client_msg_id: None,
        created_at: Utc::now(),
        read_at: None,
        seq: 0,
    }
}

pub fn partner(profile: &Profile, unread: u64) -> ChatPartner {
    ChatPartner { profile: profile.clone(), online: false, last_message: None, unread_count: unread }
}

pub fn received(from: &Profile, to: UserId, note: Option<&str>) -> ConnectionRequest<Profile, UserId> {
    ConnectionRequest {
        id: RequestId::new(),
        from_user_id: from.clone(),
        to_user_id: to,
        status: RequestStatus::Interested,
        note: note.map(str::to_owned),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

pub fn sent(from: UserId, to: &Profile) -> ConnectionRequest<UserId, Profile> {
    ConnectionRequest {
        id: RequestId::new(),
        from_user_id: from,
        to_user_id: to.clone(),
        status: RequestStatus::Interested,
        note: None,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

pub fn group(name: &str, visibility: Visibility, owner: UserId, member_count: u32) -> Group {
    Group {
        id: GroupId::new(),
        name: name.to_owned(),
        description: String::new(),
        visibility,
        tags: Vec::new(),
        photo_url: None,
        owner_id: owner,
        member_count,
        archived: false,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

pub fn my_group(group: &Group, role: GroupRole) -> MyGroup {
    MyGroup { group: group.clone(), role }
}

pub fn member(user_id: UserId, role: GroupRole) -> GroupMember {
    GroupMember { user_id, role, joined_at: Utc::now() }
}

pub fn group_message(group: GroupId, from: UserId, text: &str) -> GroupMessage {
    GroupMessage {
        id: MessageId::new(),
        group_id: group,
        sender_id: from,
        text: text.to_owned(),
        image: None,
        client_msg_id: None,
        created_at: Utc::now(),
        change: None,
        seq: 0,
    }
}

/// A system message: `by` made `change`.
pub fn group_change(group: GroupId, by: UserId, change: GroupChange) -> GroupMessage {
    GroupMessage { change: Some(change), ..group_message(group, by, "") }
}

pub fn blocked(user: &Profile) -> BlockedUser {
    BlockedUser { user: user.clone(), blocked_at: Utc::now() }
}

/// A report as the server files it (the snapshot is not what the client reads).
pub fn filed(by: UserId, kind: ReportKind, target_id: &str, reason: ReportReason, about: &Profile) -> Report {
    Report {
        id: ReportId::new(),
        reporter_id: by,
        kind,
        target_id: target_id.to_owned(),
        reason,
        details: String::new(),
        snapshot: Reported::User { user: about.clone() },
        status: ReportStatus::Open,
        created_at: Utc::now(),
        resolution: None,
    }
}

pub fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

pub fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub fn type_text(app: &mut App, text: &str) -> Vec<Command> {
    text.chars().flat_map(|c| app.update(ch(c))).collect()
}

pub const SERVER: &str = "http://127.0.0.1:3000";

/// A client logged in as `me`, with a clock.
pub fn logged_in(me: &Me) -> App {
    let (mut app, _) = App::new(SERVER, false, "test");
    app.update(Msg::Tick(Instant::now()));
    app.update(Msg::Reply(Reply::Health(Ok(()))));
    app.update(Msg::Reply(Reply::LoggedIn(Ok(LoggedIn { user: me.clone(), token: "tok".to_owned() }))));
    app.notice = None;
    app
}

/// A logged-in client with one chat partner, connected.
pub fn with_partner(me: &Me, other: &Profile) -> App {
    let mut app = logged_in(me);
    app.update(Msg::Reply(Reply::Partners(Ok(vec![partner(other, 0)]))));
    app.update(Msg::Live(crate::app::LiveEvent::Connected));
    app
}
