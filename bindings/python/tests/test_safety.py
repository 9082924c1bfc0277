"""Trust and safety: blocking people, and reporting users, messages and groups."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import PASSWORD, User

import devconnect

UNKNOWN = "0123456789abcdef01234567"
REPORT_KEYS = {"_id", "reporterId", "kind", "targetId", "reason", "details", "snapshot", "status", "createdAt"}


def test_a_block_hides_the_blockers_profile_from_the_blocked_until_lifted(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    assert app.public_profile(bob.id, ada.id)["firstName"] == "Ada"
    assert app.block(ada.id, bob.id) is True
    assert app.block(ada.id, bob.id) is False, "blocking again changes nothing"

    # Bob is told what he would be told of nobody; Ada still sees him.
    with pytest.raises(devconnect.NotFoundError) as hidden:
        app.public_profile(bob.id, ada.id)
    with pytest.raises(devconnect.NotFoundError) as nobody:
        app.public_profile(bob.id, UNKNOWN)
    assert str(hidden.value) == str(nobody.value), "a block is not revealed"
    assert app.public_profile(ada.id, bob.id)["_id"] == bob.id
    assert app.blocked_users(bob.id) == []

    app.unblock(ada.id, bob.id)
    assert app.public_profile(bob.id, ada.id)["_id"] == ada.id
    assert app.blocked_users(ada.id) == []
    with pytest.raises(devconnect.NotFoundError):
        app.unblock(ada.id, bob.id)


def test_blocked_users_are_listed_newest_first_with_profiles_and_times(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada, bob, eve = make_user("Ada"), make_user("Bob"), make_user("Eve")
    app.block(ada.id, bob.id)
    app.block(ada.id, eve.id)
    listed = app.blocked_users(ada.id)
    assert [(b["user"]["_id"], b["user"]["firstName"]) for b in listed] == [(eve.id, "Eve"), (bob.id, "Bob")]
    assert set(listed[0]) == {"user", "blockedAt"} and "emailID" not in listed[0]["user"]
    assert listed[0]["blockedAt"] >= listed[1]["blockedAt"]
    assert listed[0]["blockedAt"].tzinfo is not None


def test_a_block_ends_the_connection_and_closes_chat_both_ways(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    connect(ada, bob)
    app.block(ada.id, bob.id)
    assert app.connections(ada.id) == [] and app.connections(bob.id) == []
    with pytest.raises(devconnect.ForbiddenError):
        app.send_message(bob.id, ada.id, "still there?")
    with pytest.raises(devconnect.NotFoundError):
        app.send_request(bob.id, ada.id)


def test_blocking_oneself_an_unknown_user_or_a_malformed_id_is_refused(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada = make_user("Ada")
    with pytest.raises(devconnect.ValidationError) as myself:
        app.block(ada.id, ada.id)
    assert (myself.value.code, myself.value.field) == ("validation", "userId")
    with pytest.raises(devconnect.NotFoundError):
        app.block(ada.id, UNKNOWN)
    with pytest.raises(devconnect.ValidationError) as malformed:
        app.block(ada.id, "nope")
    assert malformed.value.field == "user_id"
    with pytest.raises(devconnect.ValidationError) as malformed:
        app.unblock("nope", ada.id)
    assert malformed.value.field == "me"
    assert app.blocked_users(ada.id) == []


def test_a_report_of_a_message_keeps_its_text_and_a_second_open_one_is_a_conflict(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    connect(ada, bob)
    message = app.send_message(bob.id, ada.id, "buy my course")
    filed = app.report(ada.id, "message", message["_id"], "spam", " third time today ")
    assert set(filed) == REPORT_KEYS, "no resolution while open"
    assert (filed["kind"], filed["reason"], filed["status"]) == ("message", "spam", "open")
    assert (filed["reporterId"], filed["targetId"], filed["details"]) == (ada.id, message["_id"], "third time today")
    snapshot = filed["snapshot"]
    assert snapshot["kind"] == "message"
    assert snapshot["message"]["text"] == "buy my course" and snapshot["message"]["_id"] == message["_id"]

    with pytest.raises(devconnect.ConflictError) as again:
        app.report(ada.id, "message", message["_id"], "harassment")
    assert again.value.code == "conflict"

    of_bob = app.report(ada.id, "user", bob.id, "impersonation")
    assert of_bob["snapshot"]["kind"] == "user" and of_bob["details"] == ""
    assert app.my_reports(ada.id) == [of_bob, filed], "newest first"
    assert app.my_reports(bob.id) == []


def test_reports_of_a_group_and_its_messages_snapshot_each_kind(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    group = app.create_group(bob.id, "Deals", visibility="public")
    app.join_group(ada.id, group["_id"])
    posted = app.send_group_message(bob.id, group["_id"], "cheap watches")
    of_message = app.report(ada.id, "message", posted["_id"], "spam")
    snapshot = of_message["snapshot"]
    assert snapshot["kind"] == "message" and snapshot["message"] == posted, "with its groupId"
    of_group = app.report(ada.id, "group", group["_id"], "inappropriate_content", details="scam\nsecond line")
    group_snapshot = of_group["snapshot"]
    assert group_snapshot["kind"] == "group" and group_snapshot["group"]["_id"] == group["_id"]
    assert of_group["details"] == "scam\nsecond line"


def test_bad_report_input_is_refused_and_nothing_is_filed(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob, eve = make_user("Ada"), make_user("Bob"), make_user("Eve")
    connect(ada, bob)
    mine = app.send_message(ada.id, bob.id, "hello")
    for kind, target, reason, details, field in [
        ("post", bob.id, "spam", "", "kind"),
        ("user", bob.id, "rude", "", "reason"),
        ("user", "nope", "spam", "", "targetId"),
        ("user", ada.id, "spam", "", "targetId"),
        ("message", mine["_id"], "spam", "", "targetId"),
        ("user", bob.id, "other", "x" * 1001, "details"),
        ("user", bob.id, "other", "bell\x07", "details"),
    ]:
        with pytest.raises(devconnect.ValidationError) as bad:
            app.report(ada.id, kind, target, reason, details)  # type: ignore[arg-type]
        assert bad.value.field == field, (kind, target, reason)
    for kind in ("user", "message", "group"):
        with pytest.raises(devconnect.NotFoundError):
            app.report(ada.id, kind, UNKNOWN, "spam")  # type: ignore[arg-type]
    # Someone else's message and a user who blocked the caller are not there for the caller.
    with pytest.raises(devconnect.NotFoundError):
        app.report(eve.id, "message", mine["_id"], "spam")
    app.block(bob.id, ada.id)
    with pytest.raises(devconnect.NotFoundError):
        app.report(ada.id, "user", bob.id, "spam")
    assert app.my_reports(ada.id) == [] and app.my_reports(eve.id) == []


def test_reports_are_rate_limited_per_reporter(app: devconnect.DevConnect, make_user: Callable[..., User]) -> None:
    ada = make_user("Ada")
    targets = [make_user(name) for name in ("Bob", "Cy", "Dan", "Eve", "Fay", "Gus")]
    for target in targets[:5]:
        app.report(ada.id, "user", target.id, "spam")
    with pytest.raises(devconnect.RateLimitedError) as limited:
        app.report(ada.id, "user", targets[5].id, "spam")
    assert limited.value.code == "rate_limited" and limited.value.retry_after > 0
    assert len(app.my_reports(ada.id)) == 5
    assert app.report(targets[0].id, "user", ada.id, "other")["reporterId"] == targets[0].id, "per reporter"


def test_an_export_holds_my_data_and_only_the_messages_i_sent(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    connect(ada, bob)
    mine = app.send_message(ada.id, bob.id, "from Ada")
    app.send_message(bob.id, ada.id, "from Bob")
    export = app.export_account(ada.id)
    assert export["profile"]["_id"] == ada.id and "emailID" in export["profile"]
    assert [p["_id"] for p in export["connections"]] == [bob.id]
    assert [m["_id"] for m in export["messages"]] == [mine["_id"]]
    assert export["blocked"] == [] and export["reports"] == []
    with pytest.raises(devconnect.ValidationError):
        app.export_account("nope")



def test_deleting_my_account_ends_my_sessions_and_leaves_my_messages_to_others(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    connect(ada, bob)
    app.send_message(ada.id, bob.id, "bye for now")
    events = app.subscribe_session(ada.token, timeout=10)
    with pytest.raises(devconnect.ValidationError):
        app.delete_account(ada.token, "Wr0ng!pass")
    app.delete_account(ada.token, PASSWORD)

    assert list(events) == []
    assert events.end_reason == "account_deleted"
    with pytest.raises(devconnect.AuthError):
        app.subscribe_session(ada.token)
    with pytest.raises(devconnect.NotFoundError):
        app.public_profile(bob.id, ada.id)
    assert [m["text"] for m in app.history(bob.id, ada.id)] == ["bye for now"]
    gone = next(p for p in app.chat_partners(bob.id) if p["_id"] == ada.id)
    assert gone["deleted"] is True and gone["firstName"] == "Deleted user" and gone["skills"] == []
    assert app.public_profile(ada.id, bob.id)["deleted"] is False


def test_operators_review_reports_suspend_and_delete_with_an_audit_trail(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada, bob, cy = make_user("Ada"), make_user("Bob"), make_user("Cy")
    report = app.report(ada.id, "user", bob.id, "spam", "sells courses")
    assert [r["_id"] for r in app.reports("open")] == [report["_id"]]
    snapshot = app.report_by_id(report["_id"])["snapshot"]
    assert snapshot["kind"] == "user" and snapshot["user"]["_id"] == bob.id

    events = app.subscribe_session(bob.token, timeout=10)
    app.suspend("ops-py", bob.id, "spam")
    assert list(events) == [] and events.end_reason == "suspended"
    with pytest.raises(devconnect.ConflictError):
        app.suspend("ops-py", bob.id)
    closed = app.close_report("ops-py", report["_id"], "resolved", "suspended")
    assert closed["status"] == "resolved" and closed["resolution"]["by"] == "ops-py"
    assert app.reports("open") == []
    with pytest.raises(devconnect.ValidationError):
        app.reports("pending")  # type: ignore[arg-type]
    app.unsuspend("ops-py", bob.id)

    app.delete_user("ops-py", cy.id, "fraud")
    with pytest.raises(devconnect.ConflictError):
        app.delete_user("ops-py", cy.id)
    with pytest.raises(devconnect.NotFoundError):
        app.suspend("ops-py", UNKNOWN)
    entries = app.audit()
    assert [(e["actor"], e["action"], e["targetId"]) for e in entries] == [
        ("ops-py", "suspend", bob.id),
        ("ops-py", "resolve_report", report["_id"]),
        ("ops-py", "unsuspend", bob.id),
        ("ops-py", "delete_user", cy.id),
    ]
    assert app.audit(after=entries[1]["_id"], limit=1) == [entries[2]]
