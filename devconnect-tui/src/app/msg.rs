//! What comes into [`App::update`](super::App::update): a [`Msg`] is a key, a clock
//! tick, a server [`Reply`] or a [`LiveEvent`]. A failed call arrives as a [`Failure`],
//! already worded for the user, so no screen looks inside a client error.

use std::time::{Duration, Instant};

use devconnect_client::realtime::ServerEvent;
use devconnect_client::{ClientError, LoggedIn, UserSearch};
use devconnect_types::search::SearchPage;
use devconnect_types::{
    BlockedUser, ChatPartner, ConnectionRequest, FeedPage, Group, GroupId, GroupMember, GroupMessage, Me, Message,
    MessageId, MyGroup, Profile, PushSettings, Report, RequestId, ReviewStatus, SendStatus, UserId,
};
use ratatui::crossterm::event::KeyEvent;

/// A failed call, as the user should read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The server's stable code, or `transport` / `decode` / `url` / `closed` / `file`
    /// (a file to upload could not be read) locally.
    pub code: String,
    /// Readable text.
    pub message: String,
}

impl Failure {
    /// A failure with this code and text.
    #[must_use]
    pub fn new(code: &str, message: &str) -> Self {
        Self { code: code.to_owned(), message: message.to_owned() }
    }

    pub(super) fn unauthorized(&self) -> bool {
        self.code == "unauthorized"
    }

    pub(super) fn unreachable(&self) -> bool {
        self.code == "transport"
    }
}

impl From<ClientError> for Failure {
    fn from(err: ClientError) -> Self {
        match err {
            ClientError::Api { code, message, .. } => Self { code, message },
            ClientError::Transport(e) => {
                let detail = if e.is_timeout() {
                    "timed out"
                } else if e.is_connect() {
                    "connection refused"
                } else {
                    "connection failed"
                };
                Self::new("transport", &format!("cannot reach the server ({detail})"))
            }
            ClientError::Decode(_) => Self::new("decode", "the server sent an answer this client does not understand"),
            other => Self::new(other.code(), &other.to_string()),
        }
    }
}

/// The result of a [`Command`](super::Command) that called the server.
#[derive(Debug)]
pub enum Reply {
    /// `CheckHealth`.
    Health(Result<(), Failure>),
    /// `Login` or `Signup`.
    LoggedIn(Result<LoggedIn, Failure>),
    /// `LoadMe`.
    Me(Result<Me, Failure>),
    /// `LoadPartners`.
    Partners(Result<Vec<ChatPartner>, Failure>),
    /// `LoadHistory`.
    History {
        /// The conversation.
        with: UserId,
        /// The cursor asked for.
        before: Option<MessageId>,
        /// Messages, oldest first.
        result: Result<Vec<Message>, Failure>,
    },
    /// `SendMessage`.
    Sent {
        /// To whom.
        to: UserId,
        /// The idempotency key.
        client_msg_id: String,
        /// The stored message.
        result: Result<Message, Failure>,
    },
    /// `MarkRead` (only failures matter).
    MarkedRead(Result<(), Failure>),
    /// `LoadFeed`.
    Feed(Result<FeedPage, Failure>),
    /// `SendRequest`.
    RequestSent {
        /// The profile acted on.
        to: UserId,
        /// `interested` or `ignored`.
        status: SendStatus,
        /// The outcome.
        result: Result<ConnectionRequest, Failure>,
    },
    /// `Review`.
    Reviewed {
        /// The request.
        id: RequestId,
        /// `accepted` or `rejected`.
        status: ReviewStatus,
        /// The outcome.
        result: Result<ConnectionRequest, Failure>,
    },
    /// `LoadReceived`.
    Received(Result<Vec<ConnectionRequest<Profile, UserId>>, Failure>),
    /// `LoadSent`.
    SentRequests(Result<Vec<ConnectionRequest<UserId, Profile>>, Failure>),
    /// `EditProfile`.
    ProfileSaved(Result<Me, Failure>),
    /// `LoadMyGroups`.
    MyGroups(Result<Vec<MyGroup>, Failure>),
    /// `LoadGroupMembers`.
    GroupMembers {
        /// The group.
        id: GroupId,
        /// Its members, longest-standing first.
        result: Result<Vec<GroupMember>, Failure>,
    },
    /// `CreateGroup`.
    GroupCreated(Result<Group, Failure>),
    /// `JoinGroup`.
    GroupJoined(Result<GroupMember, Failure>),
    /// `LeaveGroup`.
    GroupLeft {
        /// The group.
        id: GroupId,
        /// The outcome.
        result: Result<(), Failure>,
    },
    /// `EditGroup`.
    GroupEdited {
        /// The group.
        id: GroupId,
        /// The group as changed.
        result: Result<Group, Failure>,
    },
    /// `LoadGroupHistory`.
    GroupHistory {
        /// The group.
        group: GroupId,
        /// The cursor asked for.
        before: Option<MessageId>,
        /// Messages, oldest first.
        result: Result<Vec<GroupMessage>, Failure>,
    },
    /// `SendGroupMessage`.
    GroupSent {
        /// The group.
        group: GroupId,
        /// The idempotency key.
        client_msg_id: String,
        /// The stored message.
        result: Result<GroupMessage, Failure>,
    },
    /// `MarkGroupRead` (only failures matter).
    GroupMarkedRead(Result<(), Failure>),
    /// `LoadProfile`.
    Profile {
        /// Whose.
        id: UserId,
        /// Their public profile.
        result: Result<Profile, Failure>,
    },
    /// `Block`.
    Blocked {
        /// Whom.
        user: UserId,
        /// The outcome.
        result: Result<(), Failure>,
    },
    /// `Unblock`.
    Unblocked {
        /// Whom.
        user: UserId,
        /// The outcome.
        result: Result<(), Failure>,
    },
    /// `LoadBlocked`: most recently blocked first.
    BlockedUsers(Result<Vec<BlockedUser>, Failure>),
    /// `Report`: the report as filed.
    Reported(Result<Report, Failure>),
    /// `Search`.
    Search {
        /// The query asked (to tell a stale reply from the current one).
        query: UserSearch,
        /// A page of results.
        result: Result<SearchPage, Failure>,
    },
    /// `LoadPushSettings`.
    PushSettings(Result<PushSettings, Failure>),
    /// `UpdatePushSettings`: the settings now in effect.
    PushSettingsSaved(Result<PushSettings, Failure>),
}

/// News from the realtime connection task.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "server events carry whole profiles; boxing them only moves the size difference into `Msg`, \
              whose `Reply` is larger still, and each event is moved a few times, not stored"
)]
pub enum LiveEvent {
    /// Trying to connect.
    Connecting {
        /// 1 for the first try.
        attempt: u32,
    },
    /// Connected (the server then replays what was missed).
    Connected,
    /// Not connected; the next try comes after `retry_in`.
    Waiting {
        /// Failed tries so far.
        attempt: u32,
        /// Until the next try.
        retry_in: Duration,
        /// Why the last try failed or the connection ended.
        reason: String,
    },
    /// The server refused the token: the session is over.
    Refused(Failure),
    /// An event from the server.
    Server(ServerEvent),
}

/// Everything that can happen to the client.
#[derive(Debug)]
pub enum Msg {
    /// A key press.
    Key(KeyEvent),
    /// Pasted text.
    Paste(String),
    /// The clock (a few times a second).
    Tick(Instant),
    /// A server reply.
    Reply(Reply),
    /// Realtime news.
    Live(LiveEvent),
    /// Time to check the server again (after it was unreachable).
    RetryStart,
}
