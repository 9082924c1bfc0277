"""DevConnect, a professional network for developers with real-time chat, in process.

Results are plain dicts and lists with the keys of the REST API's JSON (see API.md);
ids are 24-hex strings and times timezone-aware ``datetime`` objects (UTC). Errors
raise subclasses of :class:`DevConnectError`. Every call releases the GIL; one
``DevConnect`` object may be shared by many threads.
"""

from datetime import datetime
from types import TracebackType
from typing import Any, Final, Literal, NotRequired, TypedDict, final

__version__: Final[str]
__all__ = [
    "AuthError",
    "ConflictError",
    "DevConnect",
    "DevConnectError",
    "ForbiddenError",
    "InternalError",
    "LimitExceededError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "Subscription",
    "UnavailableError",
    "UnsupportedMediaTypeError",
    "ValidationError",
    "__version__",
]

class Profile(TypedDict):
    """Anyone's public profile."""

    _id: str
    firstName: str
    lastName: str
    age: int | None
    gender: Literal["male", "female", "others"] | None
    photoURL: str | None
    about: str
    skills: list[str]
    location: str | None
    experienceYears: int | None
    createdAt: datetime
    updatedAt: datetime
    deleted: bool
    """The account was deleted: this is its placeholder ("Deleted user"), which the
    messages it sent still name."""

class Me(Profile):
    """The caller's own profile: the public one plus the email."""

    emailID: str

class Authenticated(TypedDict):
    """A signup or login: the user and a fresh bearer token."""

    user: Me
    token: str

class Session(TypedDict):
    """An authenticated token."""

    userId: str
    tokenId: str
    expiresAt: datetime

GroupRole = Literal["owner", "admin", "member"]

class Group(TypedDict):
    """A group: any public one, or a private one I am a member of."""

    _id: str
    name: str
    description: str
    visibility: Literal["private", "public"]
    tags: list[str]
    photoURL: str | None
    ownerId: str
    memberCount: int
    archived: bool
    createdAt: datetime
    updatedAt: datetime

class MyGroup(Group):
    """A group I am a member of, with my role in it."""

    role: GroupRole

class GroupMember(TypedDict):
    """One member of a group."""

    userId: str
    role: GroupRole
    joinedAt: datetime

RequestStatus = Literal["interested", "ignored", "accepted", "rejected"]

class ConnectionRequest(TypedDict):
    """A connection request; parties are user ids."""

    _id: str
    fromUserId: str
    toUserId: str
    status: RequestStatus
    note: str | None
    createdAt: datetime
    updatedAt: datetime

class ReceivedRequest(TypedDict):
    """A request sent to me, with the sender's profile."""

    _id: str
    fromUserId: Profile
    toUserId: str
    status: RequestStatus
    note: str | None
    createdAt: datetime
    updatedAt: datetime

class SentRequest(TypedDict):
    """A request I sent (or that was accepted), with the receiver's profile."""

    _id: str
    fromUserId: str
    toUserId: Profile
    status: RequestStatus
    note: str | None
    createdAt: datetime
    updatedAt: datetime

class Message(TypedDict):
    """A chat message."""

    _id: str
    senderId: str
    receiverId: str
    text: str
    image: str | None
    clientMsgId: str | None
    createdAt: datetime
    readAt: datetime | None

class GroupChange(TypedDict):
    """What a system message records, made by its sender: ``userId`` is set for
    ``added``, ``removed`` and ``roleChanged``, ``role`` (the new one) for ``roleChanged``."""

    kind: Literal["created", "joined", "added", "left", "edited", "removed", "roleChanged"]
    userId: NotRequired[str]
    role: NotRequired[GroupRole]

class GroupMessage(TypedDict):
    """A message in a group, or a system message recording a change of the group
    (``change`` present, ``text`` empty)."""

    _id: str
    groupId: str
    senderId: str
    text: str
    image: str | None
    clientMsgId: str | None
    createdAt: datetime
    change: NotRequired[GroupChange]

class ChatPartner(Profile):
    """Someone I chat with."""

    online: bool
    lastMessage: Message | None
    unreadCount: int  # stops at 100 (show "99+")

class FeedPage(TypedDict):
    """One page of the discovery feed."""

    profiles: list[Profile]
    page: int
    limit: int
    hasMore: bool

Relation = Literal["connected", "pending", "none"]
"""How a found developer relates to me: connected, a request pending (either way), or neither."""

class SearchResult(Profile):
    """A developer found by ``search_users``: the public profile plus ``relation``."""

    relation: Relation

class SearchPage(TypedDict):
    """One page of developer search results, best match first."""

    results: list[SearchResult]
    page: int
    limit: int
    hasMore: bool
    asOf: str
    """Pass it as ``as_of`` with the next pages: accounts created meanwhile are left
    out, so the pages neither overlap nor skip."""

class GroupPage(TypedDict):
    """One page of public groups, most recently active first."""

    groups: list[Group]
    page: int
    limit: int
    hasMore: bool

class DirectConversation(TypedDict):
    """A 1:1 conversation in my conversation list."""

    kind: Literal["direct"]
    user: Profile
    online: bool
    lastMessage: Message | None
    unreadCount: int  # stops at 100 (show "99+")

class GroupConversation(TypedDict):
    """A group I am a member of in my conversation list; ``lastMessage`` may be a
    system message."""

    kind: Literal["group"]
    group: Group
    lastMessage: GroupMessage | None
    unreadCount: int  # stops at 100 (show "99+")

Conversation = DirectConversation | GroupConversation

class SyncPage(TypedDict):
    """A page of catch-up messages: 1:1 ones and, with ``groupId``, group ones."""

    messages: list[Message | GroupMessage]
    hasMore: bool

class BlockedUser(TypedDict):
    """Someone I blocked, and since when."""

    user: Profile
    blockedAt: datetime

ReportKind = Literal["user", "message", "group"]
ReportReason = Literal["spam", "harassment", "impersonation", "inappropriate_content", "other"]
ReportStatus = Literal["open", "resolved", "dismissed"]

class ReportedUser(TypedDict):
    """The snapshot of a reported user: their public profile."""

    kind: Literal["user"]
    user: Profile

class ReportedMessage(TypedDict):
    """The snapshot of a reported message, 1:1 or in a group."""

    kind: Literal["message"]
    message: Message | GroupMessage

class ReportedGroup(TypedDict):
    """The snapshot of a reported group."""

    kind: Literal["group"]
    group: Group

Reported = ReportedUser | ReportedMessage | ReportedGroup

class Resolution(TypedDict):
    """An operator's decision on a report."""

    by: str
    note: str
    at: datetime

class Report(TypedDict):
    """A report I filed; ``snapshot`` is the target as it was when reported, and
    ``resolution`` is present once an operator decided."""

    _id: str
    reporterId: str
    kind: ReportKind
    targetId: str
    reason: ReportReason
    details: str
    snapshot: Reported
    status: ReportStatus
    createdAt: datetime
    resolution: NotRequired[Resolution]

AuditAction = Literal["resolve_report", "dismiss_report", "suspend", "unsuspend", "delete_user", "delete_account"]

class AuditEntry(TypedDict):
    """One moderation action: who (``actor``: the operator, or for ``delete_account``
    the user's id), what, on what (a report's or user's id), when."""

    _id: str
    actor: str
    action: AuditAction
    targetId: str
    note: str
    at: datetime

class AccountExport(TypedDict):
    """Everything held about one user (``export_account``); ``messages`` are those they sent."""

    exportedAt: datetime
    profile: Me
    connections: list[Profile]
    sentRequests: list[SentRequest]
    receivedRequests: list[ReceivedRequest]
    messages: list[Message | GroupMessage]
    groups: list[MyGroup]
    blocked: list[BlockedUser]
    reports: list[Report]

class PushKeys(TypedDict):
    """A push subscription's keys, base64url as browsers give them."""

    p256dh: str
    """The browser's P-256 public key, uncompressed (65 bytes)."""
    auth: str
    """The authentication secret (16 bytes)."""

class PushSubscription(TypedDict):
    """A browser's ``PushSubscription``, as ``subscription.toJSON()`` gives it (other keys,
    such as ``expirationTime``, are ignored)."""

    endpoint: str
    keys: PushKeys

class PushSettings(TypedDict):
    """Which push notifications I get while offline."""

    messages: bool
    requests: bool
    groups: bool
    previews: bool
    """Whether a notification shows the start of the text; without, only who sent it."""
    mutedGroups: list[str]

class Event(TypedDict):
    """A realtime event: ``event`` is one of ``newMessage``, ``presence``,
    ``connectionRequest``, ``connectionAccepted``, ``typing``, ``messagesRead``,
    ``groupMemberAdded``, ``groupMemberRemoved``, ``groupUpdated``, ``groupMessage``,
    ``groupTyping``, ``groupRead``; ``data`` is its payload (a Message, ``{userId, online}``,
    a ReceivedRequest, a SentRequest, ``{userId, typing}``, ``{userId, upTo}``,
    ``{groupId, member}``, ``{groupId, userId}``, a Group, a GroupMessage,
    ``{groupId, userId, typing}``, ``{groupId, userId, upTo}``)."""

    event: str
    data: dict[str, Any]

class DevConnectError(Exception):
    """Root of every DevConnect error; ``code`` is the stable machine-readable code."""

    code: str

class ValidationError(DevConnectError):
    """Bad input (code ``validation``); ``field`` names the input at fault."""

    field: str

class AuthError(DevConnectError):
    """Missing, invalid, expired or revoked credentials, or a failed login."""

class ForbiddenError(DevConnectError):
    """Not allowed to do this (code ``forbidden``)."""

class NotFoundError(DevConnectError):
    """The thing does not exist (code ``not_found``)."""

class ConflictError(DevConnectError):
    """The call conflicts with existing state (code ``conflict``)."""

class RateLimitedError(DevConnectError):
    """Too many calls; retry after ``retry_after`` seconds."""

    retry_after: float

class LimitExceededError(DevConnectError):
    """A cap on how many of something one may hold at once is reached, e.g. live
    subscriptions per user (code ``limit_exceeded``)."""

class PayloadTooLargeError(DevConnectError):
    """An upload is larger than ``limit`` bytes."""

    limit: int

class UnsupportedMediaTypeError(DevConnectError):
    """An upload is not a JPEG, PNG or WebP image."""

class UnavailableError(DevConnectError):
    """The database cannot be reached right now; retrying later can succeed."""

class InternalError(DevConnectError):
    """Something failed inside DevConnect; details are logged, never shown."""

@final
class Subscription:
    """A live stream of realtime events for one user, who is online while it is open.

    Iterating yields :class:`Event` dicts: when resuming after a message, the messages
    missed since (as ``newMessage`` or ``groupMessage``, in order), then live events. Each wait lasts at most
    ``timeout`` seconds (then ``TimeoutError``) and iteration stops once the subscription
    has ended. Use it as a context manager, or call :meth:`close`, to go offline promptly.
    """

    @property
    def user_id(self) -> str:
        """The user this subscription is for."""
    @property
    def timeout(self) -> float | None:
        """The default wait per event in seconds (``None``: forever)."""
    @property
    def online(self) -> list[str]:
        """The user (first) and their online connections, as of the last event read."""
    @property
    def end_reason(self) -> str | None:
        """``None`` while live; once ended, why: ``"closed"``, ``"token_revoked"``,
        ``"token_expired"``, ``"lagged"``, or the code of the error raised when reading
        what was missed failed."""
    @property
    def closed(self) -> bool:
        """Whether the subscription has ended."""
    def next_event(self, timeout: float | None = None) -> Event | None:
        """The next event, waiting at most ``timeout`` seconds (default: the
        subscription's timeout); ``None`` on timeout or once ended."""
    def close(self) -> None:
        """Ends the subscription now (idempotent); wakes a thread waiting on it."""
    def __iter__(self) -> Subscription:
        """Returns itself."""
    def __next__(self) -> Event:
        """The next event; ``TimeoutError`` if none arrives within ``timeout``; stops when ended."""
    def __enter__(self) -> Subscription:
        """Returns itself, to be closed on exit."""
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        """Closes; exceptions propagate."""

@final
class DevConnect:
    """The DevConnect service. Methods acting for a user take that user's id as ``me``."""

    @staticmethod
    def open(
        url: str = "sqlite://devconnect.db",
        *,
        data_dir: str | None = None,
        media_dir: str | None = None,
        jwt_secret: str | None = None,
        public_url: str | None = None,
        push: bool = False,
        push_subject: str | None = None,
        vapid_key_file: str | None = None,
        push_allow_loopback: bool = False,
    ) -> DevConnect:
        """Opens (creating if needed) a service on ``sqlite://PATH``, ``sqlite::memory:`` or
        ``mongodb://HOST/DATABASE``. Files (the generated JWT secret, local media) go to
        ``data_dir``, by default the database file's directory or the current directory.
        Image URLs are absolute: under ``public_url`` (a REST server serving the media
        directory at ``{public_url}/media/``), by default the media directory's ``file://`` URL.
        ``push=True`` turns on Web Push for people who are offline, with the VAPID key in
        ``vapid_key_file`` (default ``{data_dir}/vapid.pk8``, generated on first use), the
        contact ``push_subject``, and, with ``push_allow_loopback``, ``http://`` loopback endpoints."""
    def health(self) -> None:
        """Checks that the store is reachable; raises if not."""
    def close(self) -> None:
        """Closes the store."""
    def __enter__(self) -> DevConnect:
        """Returns itself, to be closed on exit."""
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        """Closes; exceptions propagate."""
    def signup(
        self,
        first_name: str,
        email: str,
        password: str,
        *,
        last_name: str = ...,
        age: int | None = None,
        gender: str | None = None,
        about: str | None = None,
        skills: list[str] = ...,
        photo: bytes | None = None,
    ) -> Authenticated:
        """Creates an account; returns the user and a token."""
    def login(self, email: str, password: str) -> Authenticated:
        """Logs in; returns the user and a fresh token."""
    def authenticate(self, token: str) -> Session:
        """Checks a token; raises ``AuthError`` if invalid, expired or revoked."""
    def logout(self, token: str) -> None:
        """Revokes this token."""
    def change_password(self, token: str, old_password: str, new_password: str, confirm_password: str) -> str:
        """Changes the password; older tokens stop working; returns the new token."""
    def reports(
        self, status: ReportStatus | None = None, *, after: str | None = None, limit: int | None = None
    ) -> list[Report]:
        """Operators: reports with ``status`` (all with ``None``), oldest first, after the report ``after``."""
    def report_by_id(self, report_id: str) -> Report:
        """Operators: one report, with its snapshot."""
    def close_report(
        self, actor: str, report_id: str, outcome: Literal["resolved", "dismissed"], note: str = ...
    ) -> Report:
        """Operators: closes an open report (``ConflictError`` if closed already), recorded under ``actor``."""
    def suspend(self, actor: str, user_id: str, note: str = ...) -> None:
        """Operators: suspends a user: no login, their subscriptions end (``"suspended"``),
        hidden from feeds and member lists (``ConflictError`` if suspended already)."""
    def unsuspend(self, actor: str, user_id: str, note: str = ...) -> None:
        """Operators: lifts a suspension (``ConflictError`` if not suspended)."""
    def delete_user(self, actor: str, user_id: str, note: str = ...) -> None:
        """Operators: deletes a user's account and photo as ``delete_account`` does,
        without the password (``ConflictError`` if deleted already)."""
    def audit(self, *, after: str | None = None, limit: int | None = None) -> list[AuditEntry]:
        """Operators: the moderation actions, oldest first, after the entry ``after``."""
    def delete_account(self, token: str, password: str) -> None:
        """Deletes the token's user's account, confirmed by the password
        (``ValidationError`` if it is not theirs): profile, photo, requests,
        connections, blocks and group memberships go; messages they sent stay, from a
        placeholder profile with ``deleted``. Every token and subscription of theirs
        ends (``end_reason`` ``"account_deleted"``)."""
    def profile(self, me: str) -> Me:
        """The caller's own profile."""
    def public_profile(self, me: str, user_id: str) -> Profile:
        """Anyone's public profile as the caller may see it (``NotFoundError`` if they blocked the caller)."""
    def edit_profile(
        self,
        me: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        age: int | None = None,
        gender: str | None = None,
        about: str | None = None,
        skills: list[str] | None = None,
        location: str | None = None,
        experience_years: int | None = None,
        photo: bytes | None = None,
    ) -> Me:
        """Edits the given fields of the caller's profile (an empty ``location`` clears it)."""
    def set_photo(self, me: str, photo: bytes) -> Me:
        """Replaces the caller's photo."""
    def send_request(
        self, me: str, to: str, status: Literal["interested", "ignored"] = "interested", note: str | None = None
    ) -> ConnectionRequest:
        """Sends a connection request."""
    def review_request(self, me: str, request_id: str, status: Literal["accepted", "rejected"]) -> ConnectionRequest:
        """Reviews a request sent to the caller."""
    def received_requests(self, me: str) -> list[ReceivedRequest]:
        """Pending requests to the caller."""
    def sent_requests(self, me: str) -> list[SentRequest]:
        """Requests the caller sent."""
    def connections(self, me: str) -> list[Profile]:
        """The caller's connections."""
    def remove_connection(self, me: str, other: str) -> None:
        """Removes a connection."""
    def create_group(
        self,
        me: str,
        name: str,
        *,
        description: str = "",
        visibility: Literal["private", "public"] = "private",
        tags: list[str] = ...,
    ) -> Group:
        """Creates a group the caller owns."""
    def group(self, me: str, group_id: str) -> Group:
        """A group the caller may see (any public one; a private one as a member)."""
    def edit_group(
        self,
        me: str,
        group_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        visibility: Literal["private", "public"] | None = None,
        tags: list[str] | None = None,
        photo: bytes | None = None,
    ) -> Group:
        """Edits the given fields of a group the caller owns or administers; members get ``groupUpdated``."""
    def group_members(self, me: str, group_id: str) -> list[GroupMember]:
        """A group's members, longest-standing first."""
    def my_groups(self, me: str) -> list[MyGroup]:
        """The caller's groups, each with the caller's role."""
    def add_group_member(self, me: str, group_id: str, user: str) -> GroupMember:
        """Adds one of the caller's connections to a group the caller owns or administers."""
    def set_group_role(self, me: str, group_id: str, user: str, role: Literal["admin", "member"]) -> GroupMember:
        """Makes a member an admin or an admin a member (the owner only)."""
    def remove_group_member(self, me: str, group_id: str, user: str) -> None:
        """Removes a member (admins remove members, the owner also admins)."""
    def join_group(self, me: str, group_id: str) -> GroupMember:
        """Joins a public group."""
    def leave_group(self, me: str, group_id: str) -> None:
        """Leaves a group; an owner hands it on first, the last member archives it."""
    def transfer_group(self, me: str, group_id: str, to: str) -> None:
        """Hands a group the caller owns to another member."""
    def discover_groups(
        self,
        q: str | None = None,
        *,
        tags: list[str] | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> GroupPage:
        """Public groups, most recently active first, by name words (the last may be a prefix) and tags."""
    def send_group_message(
        self, me: str, group_id: str, text: str = ..., *, client_msg_id: str | None = None, image: bytes | None = None
    ) -> GroupMessage:
        """Sends a message to a group the caller is a member of; every member gets ``groupMessage``."""
    def group_history(
        self, me: str, group_id: str, *, before: str | None = None, limit: int | None = None
    ) -> list[GroupMessage]:
        """A group's messages the caller may read (from their join; after leaving, up to then), oldest first."""
    def mark_group_read(self, me: str, group_id: str, up_to: str) -> bool:
        """Moves the caller's read position in a group up to ``up_to``; returns whether it moved."""
    def group_typing(self, me: str, group_id: str, typing: bool = True) -> None:
        """Tells the other members of a group that the caller is (or stopped) typing."""
    def block(self, me: str, user_id: str) -> bool:
        """Blocks a user (both ways, not revealed to them); ``False`` if already blocked."""
    def unblock(self, me: str, user_id: str) -> None:
        """Lifts the caller's block of a user; nothing it removed comes back."""
    def blocked_users(self, me: str) -> list[BlockedUser]:
        """Everyone the caller blocked, most recently blocked first."""
    def report(self, me: str, kind: ReportKind, target_id: str, reason: ReportReason, details: str = ...) -> Report:
        """Reports a user, message or group the caller can see to the operators, with a snapshot of it."""
    def my_reports(self, me: str) -> list[Report]:
        """The reports the caller filed, newest first."""
    def vapid_public_key(self) -> str:
        """The VAPID public key (base64url), browsers' ``applicationServerKey``;
        ``UnavailableError`` unless opened with ``push=True``, as every push method."""
    def add_push_subscription(self, token: str, subscription: PushSubscription) -> None:
        """Registers a browser's push subscription for the token's user, bound to that
        token (``ValidationError`` for a non-https endpoint or keys of the wrong length)."""
    def remove_push_subscription(self, me: str, endpoint: str) -> None:
        """Removes the caller's subscription at ``endpoint`` (``NotFoundError`` if none)."""
    def push_settings(self, me: str) -> PushSettings:
        """Which notifications the caller gets while offline."""
    def update_push_settings(
        self,
        me: str,
        *,
        messages: bool | None = None,
        requests: bool | None = None,
        groups: bool | None = None,
        previews: bool | None = None,
        muted_groups: list[str] | None = None,
    ) -> PushSettings:
        """Changes the given settings (``muted_groups`` replaces the list); returns them all."""
    def export_account(self, me: str) -> AccountExport:
        """Everything held about the caller: profile (with email), connections, requests,
        the messages they sent, groups, blocks and reports."""
    def feed(self, me: str, *, page: int | None = None, limit: int | None = None, skills: list[str] = ...) -> FeedPage:
        """A page of developers the caller has no request or connection with."""
    def search_users(
        self,
        me: str,
        *,
        q: str | None = None,
        skills: list[str] = ...,
        location: str | None = None,
        min_experience: int | None = None,
        max_experience: int | None = None,
        page: int | None = None,
        limit: int | None = None,
        as_of: str | None = None,
    ) -> SearchPage:
        """Developers by words of names, skills and about (the last word may be a prefix), skills,
        location and experience, best match first; each with its ``relation`` to the caller."""
    def chat_partners(self, me: str) -> list[ChatPartner]:
        """Connections and anyone the caller has history with."""
    def conversations(self, me: str) -> list[Conversation]:
        """1:1 conversations and groups together, most recent first, with unread counts."""
    def history(self, me: str, other: str, *, before: str | None = None, limit: int | None = None) -> list[Message]:
        """Messages between the caller and ``other``, oldest first."""
    def send_message(
        self, me: str, to: str, text: str = ..., *, client_msg_id: str | None = None, image: bytes | None = None
    ) -> Message:
        """Sends a message to a connection."""
    def sync(self, me: str, *, after: str | None = None, limit: int | None = None) -> SyncPage:
        """Everything to or from the caller after message ``after``, group messages included."""
    def mark_read(self, me: str, other: str) -> str | None:
        """Marks messages from ``other`` as read; returns the newest id marked."""
    def typing(self, me: str, to: str, typing: bool = True) -> None:
        """Tells connection ``to`` that the caller is (or stopped) typing."""
    def online_connections(self, me: str) -> list[str]:
        """The caller (if online) and their online connections."""
    def is_online(self, user_id: str) -> bool:
        """Whether the user has any open subscription."""
    def subscribe(self, user_id: str, *, timeout: float | None = None) -> Subscription:
        """Opens a realtime event stream for a user."""
    def subscribe_session(
        self, token: str, *, last_message_id: str | None = None, timeout: float | None = None
    ) -> Subscription:
        """Opens a realtime event stream for a token's user; ends with the token. With
        ``last_message_id``, the messages missed since come first, in order, once."""
