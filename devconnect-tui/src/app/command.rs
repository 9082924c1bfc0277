//! What [`App::update`](super::App::update) asks the runtime to do: every network
//! call, timer and file write is a [`Command`], so the state logic stays free of I/O and
//! tests compare the commands it returns.

use std::path::PathBuf;
use std::time::Duration;

use devconnect_client::{NewAccount, ProfileChanges, UserSearch};
use devconnect_types::{
    GroupId, MessageId, PushSettingsPatch, ReportKind, ReportReason, RequestId, ReviewStatus, SendStatus, UserId,
    Visibility,
};

/// What the runtime should do.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// `GET /healthz`.
    CheckHealth,
    /// Log in.
    Login {
        /// Email.
        email: String,
        /// Password.
        password: String,
    },
    /// Sign up.
    Signup(Box<NewAccountEq>),
    /// Log out on the server (best effort).
    Logout,
    /// Keep the token for the next start.
    SaveToken(String),
    /// Forget the saved token.
    ForgetToken,
    /// Load my profile (validates a saved token).
    LoadMe,
    /// Load chat partners.
    LoadPartners,
    /// Load a page of history.
    LoadHistory {
        /// With whom.
        with: UserId,
        /// Older than this message; the newest page when `None`.
        before: Option<MessageId>,
    },
    /// Send a message.
    SendMessage {
        /// To whom.
        to: UserId,
        /// The text.
        text: String,
        /// Idempotency key.
        client_msg_id: String,
    },
    /// Mark a partner's messages as read.
    MarkRead(UserId),
    /// Load a feed page.
    LoadFeed {
        /// 1-based.
        page: u32,
    },
    /// Send a connection request.
    SendRequest {
        /// `interested` or `ignored`.
        status: SendStatus,
        /// To whom.
        to: UserId,
        /// A line for them to read with it.
        note: Option<String>,
    },
    /// Search developers (`Reply::Search` carries the same query back).
    Search(UserSearch),
    /// Review a received request.
    Review {
        /// The request.
        id: RequestId,
        /// `accepted` or `rejected`.
        status: ReviewStatus,
    },
    /// Load received requests.
    LoadReceived,
    /// Load sent requests.
    LoadSent,
    /// Save profile changes.
    EditProfile(Box<ProfileChangesEq>),
    /// Load my groups.
    LoadMyGroups,
    /// Load a group's members.
    LoadGroupMembers(GroupId),
    /// Create a group (no description, no tags), which I own.
    CreateGroup {
        /// Its name.
        name: String,
        /// Public or private.
        visibility: Visibility,
    },
    /// Join a public group.
    JoinGroup(GroupId),
    /// Leave a group.
    LeaveGroup(GroupId),
    /// Change a group's details (and upload a new photo, read from a file).
    EditGroup {
        /// The group.
        group: GroupId,
        /// The changed fields as the API names them (a JSON object).
        changes: serde_json::Value,
        /// A new photo's file, as the user typed its path.
        photo: Option<PathBuf>,
    },
    /// Load a page of a group's messages.
    LoadGroupHistory {
        /// The group.
        group: GroupId,
        /// Older than this message; the newest page when `None`.
        before: Option<MessageId>,
    },
    /// Send a message to a group.
    SendGroupMessage {
        /// The group.
        group: GroupId,
        /// The text.
        text: String,
        /// Idempotency key.
        client_msg_id: String,
    },
    /// Move my read position in a group.
    MarkGroupRead {
        /// The group.
        group: GroupId,
        /// The newest message read.
        up_to: MessageId,
    },
    /// Load someone's public profile (a group member's name).
    LoadProfile(UserId),
    /// Block someone (both ways; removes our connection and pending requests).
    Block(UserId),
    /// Lift my block of someone.
    Unblock(UserId),
    /// Load the people I blocked.
    LoadBlocked,
    /// Report a user, a message or a group to the operators.
    Report {
        /// What kind of thing.
        kind: ReportKind,
        /// Its id, as the server writes it.
        target_id: String,
        /// Why.
        reason: ReportReason,
        /// My words; may be empty.
        details: String,
    },
    /// Load my push notification settings.
    LoadPushSettings,
    /// Change my push notification settings.
    UpdatePushSettings(PushSettingsPatch),
    /// Start (or restart) the realtime connection with the current token.
    StartLive,
    /// Stop the realtime connection.
    StopLive,
    /// Tell a partner I am (not) typing.
    Typing {
        /// To whom.
        to: UserId,
        /// Typing or stopped.
        typing: bool,
    },
    /// Tell a group's members I am (not) typing.
    GroupTyping {
        /// The group.
        group: GroupId,
        /// Typing or stopped.
        typing: bool,
    },
    /// Deliver `Msg::RetryStart` after a delay.
    RetryLater(Duration),
    /// Leave the program.
    Quit,
}

/// [`NewAccount`] with equality (for tests of the commands).
#[derive(Debug)]
pub struct NewAccountEq(pub NewAccount);

impl PartialEq for NewAccountEq {
    fn eq(&self, other: &Self) -> bool {
        serde_json::to_value(&self.0).ok() == serde_json::to_value(&other.0).ok()
    }
}

/// [`ProfileChanges`] with equality (for tests of the commands).
#[derive(Debug)]
pub struct ProfileChangesEq(pub ProfileChanges);

impl PartialEq for ProfileChangesEq {
    fn eq(&self, other: &Self) -> bool {
        serde_json::to_value(&self.0).ok() == serde_json::to_value(&other.0).ok()
    }
}
