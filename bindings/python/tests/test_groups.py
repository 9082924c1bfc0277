"""Groups: creation, who sees what, membership within the cap, roles, editing, leaving, chat."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from conftest import User, is_event, media_name, png, wait_for

import devconnect

GROUP_KEYS = {
    "_id", "name", "description", "visibility", "tags", "photoURL", "ownerId", "memberCount", "archived", "createdAt",
    "updatedAt",
}
GROUP_MESSAGE_KEYS = {"_id", "groupId", "senderId", "text", "image", "clientMsgId", "createdAt"}


def test_a_private_group_grows_by_connections_and_is_hidden_from_outsiders(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob, cy = make_user("Ada"), make_user("Bob"), make_user("Cy")
    connect(ada, bob)
    group = app.create_group(ada.id, "  Core team ", tags=["Rust", "rust"])
    assert set(group) == GROUP_KEYS
    assert group["name"] == "Core team" and group["visibility"] == "private" and group["tags"] == ["Rust"]
    assert group["ownerId"] == ada.id and group["memberCount"] == 1 and isinstance(group["createdAt"], datetime)
    with pytest.raises(devconnect.NotFoundError):
        app.group(bob.id, group["_id"])
    with pytest.raises(devconnect.ForbiddenError):
        app.add_group_member(ada.id, group["_id"], cy.id)
    member = app.add_group_member(ada.id, group["_id"], bob.id)
    assert member["userId"] == bob.id and member["role"] == "member" and isinstance(member["joinedAt"], datetime)
    assert [(g["_id"], g["role"]) for g in app.my_groups(bob.id)] == [(group["_id"], "member")]
    assert [m["role"] for m in app.group_members(bob.id, group["_id"])] == ["owner", "member"]
    with pytest.raises(devconnect.ValidationError) as bad:
        app.group(ada.id, "not an id")
    assert bad.value.code == "validation"
    with pytest.raises(devconnect.ValidationError):
        app.create_group(ada.id, "x", visibility="secret")  # type: ignore[arg-type]


def test_roles_hand_over_and_the_last_member_archives_a_public_group(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    group = app.create_group(ada.id, "Open source", visibility="public")
    app.join_group(bob.id, group["_id"])
    with pytest.raises(devconnect.ConflictError):
        app.join_group(bob.id, group["_id"])
    with pytest.raises(devconnect.ForbiddenError):
        app.set_group_role(bob.id, group["_id"], bob.id, "admin")
    assert app.set_group_role(ada.id, group["_id"], bob.id, "admin")["role"] == "admin"
    app.transfer_group(ada.id, group["_id"], bob.id)
    assert app.group(ada.id, group["_id"])["ownerId"] == bob.id
    app.remove_group_member(bob.id, group["_id"], ada.id)
    app.leave_group(bob.id, group["_id"])
    closed = app.group(ada.id, group["_id"])
    assert closed["archived"] and closed["memberCount"] == 0
    with pytest.raises(devconnect.NotFoundError):
        app.join_group(ada.id, group["_id"])


def test_members_hear_of_joins_and_departures(app: devconnect.DevConnect, make_user: Callable[..., User]) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    group = app.create_group(ada.id, "Live", visibility="public")
    with app.subscribe(ada.id, timeout=10) as events:
        app.join_group(bob.id, group["_id"])
        added = wait_for(events, is_event("groupMemberAdded", groupId=group["_id"]))
        assert added["data"]["member"]["userId"] == bob.id and added["data"]["member"]["role"] == "member"
        app.leave_group(bob.id, group["_id"])
        wait_for(events, is_event("groupMemberRemoved", groupId=group["_id"], userId=bob.id))


def public_group_of_two(app: devconnect.DevConnect, ada: User, bob: User) -> devconnect.Group:
    """Ada's public group, which Bob joined."""
    group = app.create_group(ada.id, "Rustaceans", visibility="public")
    app.join_group(bob.id, group["_id"])
    return group


def test_the_owner_and_admins_edit_a_group_and_members_may_not(
    app: devconnect.DevConnect, make_user: Callable[..., User], tmp_path: Path
) -> None:
    ada, bob, cy, eve = make_user("Ada"), make_user("Bob"), make_user("Cy"), make_user("Eve")
    group = public_group_of_two(app, ada, bob)
    app.join_group(cy.id, group["_id"])
    edited = app.edit_group(ada.id, group["_id"], name=" Rust team ", visibility="private", tags=["Rust", "wasm"])
    assert set(edited) == GROUP_KEYS
    assert (edited["name"], edited["visibility"], edited["tags"]) == ("Rust team", "private", ["Rust", "wasm"])
    assert (edited["description"], edited["photoURL"]) == ("", None), "fields not given stay as they are"
    assert app.group(cy.id, group["_id"]) == edited

    first = app.edit_group(ada.id, group["_id"], photo=png())["photoURL"]
    assert (tmp_path / "media" / media_name(first)).is_file()
    app.set_group_role(ada.id, group["_id"], bob.id, "admin")
    by_admin = app.edit_group(bob.id, group["_id"], photo=png(8, 8), tags=[])
    second = by_admin["photoURL"]
    assert media_name(second) != media_name(first) and (tmp_path / "media" / media_name(second)).is_file()
    assert not (tmp_path / "media" / media_name(first)).exists(), "the old photo is deleted"
    assert (by_admin["name"], by_admin["tags"], by_admin["visibility"]) == ("Rust team", [], "private")

    with pytest.raises(devconnect.ForbiddenError) as forbidden:
        app.edit_group(cy.id, group["_id"], name="Mine now")
    assert forbidden.value.code == "forbidden"
    for outsider, hidden in ((eve.id, group["_id"]), (ada.id, "f" * 24)):
        with pytest.raises(devconnect.NotFoundError):
            app.edit_group(outsider, hidden, name="Mine now")
    assert app.group(ada.id, group["_id"]) == by_admin


def test_bad_group_edits_raise_and_change_nothing(app: devconnect.DevConnect, make_user: Callable[..., User]) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    group_id = public_group_of_two(app, ada, bob)["_id"]
    before = app.group(ada.id, group_id)
    cases: list[tuple[str, Callable[[], object]]] = [
        ("name", lambda: app.edit_group(ada.id, group_id, name="   ")),
        ("name", lambda: app.edit_group(ada.id, group_id, name="x" * 101)),
        ("description", lambda: app.edit_group(ada.id, group_id, description="x" * 1001)),
        ("tags", lambda: app.edit_group(ada.id, group_id, tags=[f"t{i}" for i in range(21)])),
        ("visibility", lambda: app.edit_group(ada.id, group_id, visibility="secret")),  # type: ignore[arg-type]
        ("group_id", lambda: app.edit_group(ada.id, "nope", name="Renamed")),
    ]
    for field, bad in cases:
        with pytest.raises(devconnect.ValidationError) as err:
            bad()
        assert err.value.field == field
    with pytest.raises(devconnect.UnsupportedMediaTypeError):
        app.edit_group(ada.id, group_id, name="Renamed", photo=b"GIF89a" + b"\x00" * 32)
    with pytest.raises(devconnect.PayloadTooLargeError):
        app.edit_group(ada.id, group_id, photo=png() + b"\x00" * (3 * 1024 * 1024))
    assert app.group(ada.id, group_id) == before


def test_members_hear_of_a_group_edit_and_see_it_recorded(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    group_id = public_group_of_two(app, ada, bob)["_id"]
    with app.subscribe(bob.id, timeout=10) as events:
        edited = app.edit_group(ada.id, group_id, description="All things Rust")
        assert wait_for(events, is_event("groupUpdated", _id=group_id))["data"] == edited
        recorded = wait_for(events, is_event("groupMessage", groupId=group_id))["data"]
    assert (recorded.get("change"), recorded["senderId"], recorded["text"]) == ({"kind": "edited"}, ada.id, "")
    assert app.group_history(bob.id, group_id)[-1] == recorded


def test_members_chat_in_order_and_read_from_when_they_joined(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    group = public_group_of_two(app, ada, bob)
    hello = app.send_group_message(ada.id, group["_id"], "welcome Bob")
    assert set(hello) == GROUP_MESSAGE_KEYS
    assert (hello["groupId"], hello["senderId"], hello["text"]) == (group["_id"], ada.id, "welcome Bob")
    assert hello["image"] is None and hello["clientMsgId"] is None and isinstance(hello["createdAt"], datetime)
    reply = app.send_group_message(bob.id, group["_id"], "thanks")

    joined, *chat = app.group_history(bob.id, group["_id"])
    assert joined.get("change") == {"kind": "joined"} and (joined["senderId"], joined["text"]) == (bob.id, "")
    assert chat == [hello, reply]
    created, *rest = app.group_history(ada.id, group["_id"])
    assert created.get("change") == {"kind": "created"} and rest == [joined, hello, reply]
    assert app.group_history(bob.id, group["_id"], before=reply["_id"], limit=1) == [hello]

    assert app.mark_group_read(bob.id, group["_id"], reply["_id"]) is True
    assert app.mark_group_read(bob.id, group["_id"], hello["_id"]) is False, "a read position never moves back"


def test_a_group_resend_with_the_same_client_msg_id_returns_the_stored_message(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    group = public_group_of_two(app, ada, bob)
    first = app.send_group_message(ada.id, group["_id"], "once", client_msg_id="g-1")
    again = app.send_group_message(ada.id, group["_id"], "once", client_msg_id="g-1")
    assert again == first and first["clientMsgId"] == "g-1"
    assert [m["text"] for m in app.group_history(bob.id, group["_id"])] == ["", "once"]
    picture = app.send_group_message(ada.id, group["_id"], image=png())
    assert picture["text"] == "" and media_name(picture["image"])


def test_a_removed_member_keeps_the_history_they_saw_but_cannot_send(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    connect(ada, bob)
    group = app.create_group(ada.id, "Core team")
    app.add_group_member(ada.id, group["_id"], bob.id)
    seen = app.send_group_message(ada.id, group["_id"], "while Bob is here")
    app.remove_group_member(ada.id, group["_id"], bob.id)
    app.send_group_message(ada.id, group["_id"], "after Bob left")

    # Bob's window ends at his removal; the others see it recorded.
    kept = app.group_history(bob.id, group["_id"])
    assert [m.get("change") for m in kept] == [{"kind": "added", "userId": bob.id}, None]
    assert kept[1] == seen
    removal = {"kind": "removed", "userId": bob.id}
    assert any(m.get("change") == removal and m["senderId"] == ada.id for m in app.group_history(ada.id, group["_id"]))
    with pytest.raises(devconnect.ForbiddenError):
        app.send_group_message(bob.id, group["_id"], "still here?")
    with pytest.raises(devconnect.ForbiddenError):
        app.group_typing(bob.id, group["_id"])


def test_sync_includes_group_messages_with_their_group_id(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    connect(ada, bob)
    group = app.create_group(ada.id, "Core team")
    added = app.add_group_member(ada.id, group["_id"], bob.id)
    assert added["userId"] == bob.id
    start = app.group_history(bob.id, group["_id"])[-1]
    direct = app.send_message(ada.id, bob.id, "direct")
    in_group = app.send_group_message(ada.id, group["_id"], "in the group")
    page = app.sync(bob.id, after=start["_id"])
    assert page == {"messages": [direct, in_group], "hasMore": False}
    assert [m.get("groupId") for m in page["messages"]] == [None, group["_id"]]


def test_group_messages_typing_and_reads_arrive_on_a_session_subscription(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    group = public_group_of_two(app, ada, bob)
    last_seen = app.group_history(bob.id, group["_id"])[-1]
    missed = app.send_group_message(ada.id, group["_id"], "while Bob was away")
    with app.subscribe_session(bob.token, last_message_id=last_seen["_id"], timeout=10) as bob_events:
        caught_up = wait_for(bob_events, is_event("groupMessage"))
        assert caught_up["data"] == missed
        with app.subscribe_session(ada.token, timeout=10) as ada_events:
            sent = app.send_group_message(ada.id, group["_id"], "hello group")
            for events in (ada_events, bob_events):
                assert wait_for(events, is_event("groupMessage", _id=sent["_id"]))["data"] == sent
            app.group_typing(bob.id, group["_id"])
            wait_for(ada_events, is_event("groupTyping", groupId=group["_id"], userId=bob.id, typing=True))
            app.mark_group_read(bob.id, group["_id"], sent["_id"])
            wait_for(ada_events, is_event("groupRead", groupId=group["_id"], userId=bob.id, upTo=sent["_id"]))


def test_group_chat_refuses_outsiders_and_malformed_input(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada, bob, eve = make_user("Ada"), make_user("Bob"), make_user("Eve")
    group = public_group_of_two(app, ada, bob)
    private = app.create_group(ada.id, "Secret")
    for hidden in ("f" * 24, private["_id"]):
        with pytest.raises(devconnect.NotFoundError):
            app.send_group_message(eve.id, hidden, "hi")
        with pytest.raises(devconnect.NotFoundError):
            app.group_history(eve.id, hidden)
    with pytest.raises(devconnect.ForbiddenError) as forbidden:
        app.send_group_message(eve.id, group["_id"], "hi")
    assert forbidden.value.code == "forbidden"
    with pytest.raises(devconnect.ForbiddenError):
        app.group_history(eve.id, group["_id"])
    with pytest.raises(devconnect.ForbiddenError):
        app.group_typing(eve.id, group["_id"])

    cases: list[tuple[str, Callable[[], object]]] = [
        ("group_id", lambda: app.send_group_message(ada.id, "nope", "hi")),
        ("text", lambda: app.send_group_message(ada.id, group["_id"], "   ")),
        ("before", lambda: app.group_history(ada.id, group["_id"], before="zz")),
        ("limit", lambda: app.group_history(ada.id, group["_id"], limit=0)),
        ("up_to", lambda: app.mark_group_read(ada.id, group["_id"], "zz")),
        ("group_id", lambda: app.group_typing(ada.id, "nope")),
    ]
    for field, bad in cases:
        with pytest.raises(devconnect.ValidationError) as err:
            bad()
        assert err.value.field == field


def test_public_groups_are_discovered_by_name_words_prefix_and_tags_most_active_first(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada = make_user("Ada")
    app.create_group(ada.id, "Rust Berlin", visibility="public", tags=["Rust", "meetup"])
    paris = app.create_group(ada.id, "Rust Paris", visibility="public", tags=["rust"])
    app.create_group(ada.id, "Go Berlin", visibility="public", tags=["go"])
    app.create_group(ada.id, "Secret Rust", tags=["rust"])
    app.send_group_message(ada.id, paris["_id"], "hello")

    def names(page: devconnect.GroupPage) -> list[str]:
        return [g["name"] for g in page["groups"]]

    everything = app.discover_groups()
    assert names(everything) == ["Rust Paris", "Go Berlin", "Rust Berlin"], "public only, latest message first"
    assert set(everything) == {"groups", "page", "limit", "hasMore"}
    assert (everything["page"], everything["limit"], everything["hasMore"]) == (1, 10, False)
    assert set(everything["groups"][0]) == GROUP_KEYS
    assert names(app.discover_groups("RUST")) == ["Rust Paris", "Rust Berlin"]
    assert names(app.discover_groups("ber")) == ["Go Berlin", "Rust Berlin"], "the last word as a prefix"
    assert names(app.discover_groups("rust ber")) == ["Rust Berlin"]
    assert names(app.discover_groups("ru berlin")) == [], "only the last word is a prefix"
    assert names(app.discover_groups(tags=["RUST ", "Meetup"])) == ["Rust Berlin"], "every tag, any case"

    first, second = app.discover_groups(limit=2), app.discover_groups(page=2, limit=2)
    assert (names(first), first["hasMore"]) == (["Rust Paris", "Go Berlin"], True)
    assert (names(second), second["page"], second["limit"], second["hasMore"]) == (["Rust Berlin"], 2, 2, False)


def test_bad_discovery_queries_raise_validation_errors(app: devconnect.DevConnect) -> None:
    cases: list[tuple[str, Callable[[], object]]] = [
        ("q", lambda: app.discover_groups("x" * 101)),
        ("q", lambda: app.discover_groups("a b c d e f")),
        ("page", lambda: app.discover_groups(page=0)),
        ("page", lambda: app.discover_groups(page=-1)),
        ("page", lambda: app.discover_groups(page=10_001)),
        ("limit", lambda: app.discover_groups(limit=0)),
    ]
    for field, bad in cases:
        with pytest.raises(devconnect.ValidationError) as err:
            bad()
        assert err.value.field == field
    with pytest.raises(devconnect.ValidationError) as err:
        app.discover_groups(tags=[f"t{i}" for i in range(21)])
    assert err.value.code == "validation"


def test_conversations_list_a_busy_group_before_an_older_chat_with_unread_counts(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob, cy = make_user("Ada"), make_user("Bob"), make_user("Cy")
    connect(ada, bob)
    connect(ada, cy)
    group = public_group_of_two(app, ada, bob)
    app.send_message(ada.id, bob.id, "one")
    hi = app.send_message(bob.id, ada.id, "hi Ada")
    two = app.send_group_message(bob.id, group["_id"], "two")
    app.send_group_message(bob.id, group["_id"], "three")
    mine = app.send_group_message(ada.id, group["_id"], "mine")

    in_group, with_bob, with_cy = app.conversations(ada.id)
    assert in_group["kind"] == "group" and set(in_group) == {"kind", "group", "lastMessage", "unreadCount"}
    assert in_group["group"]["_id"] == group["_id"] and set(in_group["group"]) == GROUP_KEYS
    # Bob's join (a system message) and Ada's own "mine" are not unread.
    assert (in_group["lastMessage"], in_group["unreadCount"]) == (mine, 2)
    assert with_bob["kind"] == "direct" and set(with_bob) == {"kind", "user", "online", "lastMessage", "unreadCount"}
    assert (with_bob["user"]["_id"], with_bob["online"]) == (bob.id, False)
    assert (with_bob["lastMessage"], with_bob["unreadCount"]) == (hi, 1)
    assert with_cy["kind"] == "direct" and with_cy["user"]["_id"] == cy.id
    assert (with_cy["lastMessage"], with_cy["unreadCount"]) == (None, 0), "connections never written with come after"

    app.mark_group_read(ada.id, group["_id"], two["_id"])
    app.mark_read(ada.id, bob.id)
    assert [c["unreadCount"] for c in app.conversations(ada.id)] == [1, 0, 0]
    # Bob's side: Ada's group message and her first 1:1 message.
    assert [(c["kind"], c["unreadCount"]) for c in app.conversations(bob.id)] == [("group", 1), ("direct", 1)]
    with pytest.raises(devconnect.ValidationError) as err:
        app.conversations("not an id")
    assert err.value.field == "me"
