"""Messages: sending, history, catch-up, partners and read state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from conftest import User, media_name, png

import devconnect

MESSAGE_KEYS = {"_id", "senderId", "receiverId", "text", "image", "clientMsgId", "createdAt", "readAt"}


@pytest.fixture
def pair(make_user: Callable[..., User], connect: Callable[[User, User], None]) -> tuple[User, User]:
    ada, bob = make_user("Ada"), make_user("Bob")
    connect(ada, bob)
    return ada, bob


def test_send_message_and_read_history(app: devconnect.DevConnect, pair: tuple[User, User]) -> None:
    ada, bob = pair
    sent = app.send_message(ada.id, bob.id, "hello Bob")
    assert set(sent) == MESSAGE_KEYS
    assert (sent["senderId"], sent["receiverId"], sent["text"]) == (ada.id, bob.id, "hello Bob")
    assert sent["image"] is None and sent["clientMsgId"] is None and sent["readAt"] is None
    assert isinstance(sent["createdAt"], datetime)
    reply = app.send_message(bob.id, ada.id, "hi Ada")
    assert [m["text"] for m in app.history(ada.id, bob.id)] == ["hello Bob", "hi Ada"]
    assert app.history(bob.id, ada.id) == app.history(ada.id, bob.id)
    assert [m["_id"] for m in app.history(ada.id, bob.id, before=reply["_id"])] == [sent["_id"]]
    assert [m["_id"] for m in app.history(ada.id, bob.id, limit=1)] == [reply["_id"]]


def test_client_msg_id_makes_sends_idempotent(app: devconnect.DevConnect, pair: tuple[User, User]) -> None:
    ada, bob = pair
    first = app.send_message(ada.id, bob.id, "once", client_msg_id="c-1")
    again = app.send_message(ada.id, bob.id, "once", client_msg_id="c-1")
    assert again == first and first["clientMsgId"] == "c-1"
    assert len(app.history(ada.id, bob.id)) == 1


def test_image_messages(app: devconnect.DevConnect, pair: tuple[User, User]) -> None:
    ada, bob = pair
    sent = app.send_message(ada.id, bob.id, image=png())
    assert sent["text"] == "" and media_name(sent["image"])


def test_only_connections_can_chat(app: devconnect.DevConnect, make_user: Callable[..., User]) -> None:
    ada, eve = make_user("Ada"), make_user("Eve")
    with pytest.raises(devconnect.ForbiddenError) as err:
        app.send_message(ada.id, eve.id, "hi")
    assert err.value.code == "forbidden"
    with pytest.raises(devconnect.ForbiddenError):
        app.typing(ada.id, eve.id)


def test_empty_messages_are_refused(app: devconnect.DevConnect, pair: tuple[User, User]) -> None:
    ada, bob = pair
    with pytest.raises(devconnect.ValidationError) as err:
        app.send_message(ada.id, bob.id, "   ")
    assert err.value.field == "text"


def test_sync_returns_everything_after_a_cursor(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob, cat = make_user("Ada"), make_user("Bob"), make_user("Cat")
    connect(ada, bob)
    connect(cat, ada)
    m1 = app.send_message(ada.id, bob.id, "1")
    m2 = app.send_message(cat.id, ada.id, "2")
    m3 = app.send_message(bob.id, ada.id, "3")
    page = app.sync(ada.id)
    assert set(page) == {"messages", "hasMore"}
    assert [m["_id"] for m in page["messages"]] == [m1["_id"], m2["_id"], m3["_id"]]
    assert page["hasMore"] is False
    after = app.sync(ada.id, after=m1["_id"], limit=1)
    assert [m["_id"] for m in after["messages"]] == [m2["_id"]] and after["hasMore"] is True


def test_mark_read_and_chat_partners(app: devconnect.DevConnect, pair: tuple[User, User]) -> None:
    ada, bob = pair
    app.send_message(bob.id, ada.id, "one")
    last = app.send_message(bob.id, ada.id, "two")
    [partner] = app.chat_partners(ada.id)
    assert partner["_id"] == bob.id and partner["unreadCount"] == 2 and partner["online"] is False
    assert partner["lastMessage"] is not None and partner["lastMessage"]["_id"] == last["_id"]
    assert "emailID" not in partner
    assert app.mark_read(ada.id, bob.id) == last["_id"]
    assert app.mark_read(ada.id, bob.id) is None
    assert app.chat_partners(ada.id)[0]["unreadCount"] == 0
    assert all(isinstance(m["readAt"], datetime) for m in app.history(ada.id, bob.id))


def test_conversations_stay_readable_after_removal(app: devconnect.DevConnect, pair: tuple[User, User]) -> None:
    ada, bob = pair
    app.send_message(ada.id, bob.id, "before")
    app.remove_connection(ada.id, bob.id)
    assert [m["text"] for m in app.history(bob.id, ada.id)] == ["before"]
    with pytest.raises(devconnect.ForbiddenError):
        app.send_message(ada.id, bob.id, "after")
