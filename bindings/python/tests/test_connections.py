"""Connection requests, connections and the feed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import User

import devconnect

REQUEST_KEYS = {"_id", "fromUserId", "toUserId", "status", "note", "createdAt", "updatedAt"}


def test_request_review_and_connections(app: devconnect.DevConnect, make_user: Callable[..., User]) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    request = app.send_request(ada.id, bob.id, "interested", "  Hi Bob  ")
    assert set(request) == REQUEST_KEYS
    assert (request["fromUserId"], request["toUserId"], request["status"]) == (ada.id, bob.id, "interested")
    assert request["note"] == "Hi Bob"

    received = app.received_requests(bob.id)
    assert [r["_id"] for r in received] == [request["_id"]]
    assert received[0]["fromUserId"]["_id"] == ada.id and "emailID" not in received[0]["fromUserId"]
    assert received[0]["toUserId"] == bob.id
    sent = app.sent_requests(ada.id)
    assert [r["toUserId"]["firstName"] for r in sent] == ["Bob"]

    reviewed = app.review_request(bob.id, request["_id"], "accepted")
    assert reviewed["status"] == "accepted"
    assert app.received_requests(bob.id) == []
    assert [p["_id"] for p in app.connections(ada.id)] == [bob.id]
    assert [p["_id"] for p in app.connections(bob.id)] == [ada.id]


def test_only_the_receiver_reviews_once(app: devconnect.DevConnect, make_user: Callable[..., User]) -> None:
    ada, bob, eve = make_user("Ada"), make_user("Bob"), make_user("Eve")
    request = app.send_request(ada.id, bob.id)
    with pytest.raises(devconnect.ForbiddenError):
        app.review_request(ada.id, request["_id"], "accepted")
    with pytest.raises(devconnect.NotFoundError):
        app.review_request(eve.id, request["_id"], "accepted")
    app.review_request(bob.id, request["_id"], "rejected")
    with pytest.raises(devconnect.ConflictError):
        app.review_request(bob.id, request["_id"], "accepted")
    assert app.connections(ada.id) == []


def test_bad_requests_are_refused(app: devconnect.DevConnect, make_user: Callable[..., User]) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    with pytest.raises(devconnect.ValidationError) as to_self:
        app.send_request(ada.id, ada.id)
    assert to_self.value.field == "toUserId"
    with pytest.raises(devconnect.ValidationError) as status:
        app.send_request(ada.id, bob.id, "accepted")  # type: ignore[arg-type]
    assert status.value.field == "status"
    with pytest.raises(devconnect.NotFoundError):
        app.send_request(ada.id, "0123456789abcdef01234567")
    app.send_request(ada.id, bob.id, "ignored")
    with pytest.raises(devconnect.ConflictError):
        app.send_request(bob.id, ada.id)
    with pytest.raises(devconnect.ValidationError):
        app.review_request(bob.id, "not-an-id", "accepted")


def test_remove_connection(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    connect(ada, bob)
    app.remove_connection(bob.id, ada.id)
    assert app.connections(ada.id) == [] and app.connections(bob.id) == []
    with pytest.raises(devconnect.NotFoundError):
        app.remove_connection(ada.id, bob.id)
    assert app.send_request(ada.id, bob.id)["status"] == "interested", "a new request is possible again"


def test_feed_pages_neither_overlap_nor_skip(app: devconnect.DevConnect, make_user: Callable[..., User]) -> None:
    me = make_user("Me")
    others = [make_user(f"Dev{i}") for i in range(7)]
    first = app.feed(me.id, page=1, limit=3)
    assert set(first) == {"profiles", "page", "limit", "hasMore"}
    assert (first["page"], first["limit"], first["hasMore"]) == (1, 3, True)
    pages = [first] + [app.feed(me.id, page=p, limit=3) for p in (2, 3)]
    ids = [p["_id"] for page in pages for p in page["profiles"]]
    assert sorted(ids) == sorted(o.id for o in others)
    assert pages[-1]["hasMore"] is False
    assert app.feed(me.id)["limit"] == 10
    assert app.feed(me.id, limit=500)["limit"] == 50


def test_feed_excludes_requests_and_filters_by_skill(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    me = make_user("Me")
    rustacean = make_user("Rusty", skills=["Rust"])
    gopher = make_user("Gopher", skills=["Go"])
    assert [p["_id"] for p in app.feed(me.id, skills=["rust"])["profiles"]] == [rustacean.id]
    app.send_request(me.id, gopher.id, "ignored")
    assert [p["_id"] for p in app.feed(me.id)["profiles"]] == [rustacean.id]


def test_feed_rejects_bad_pages(app: devconnect.DevConnect, make_user: Callable[..., User]) -> None:
    me = make_user("Me")
    for bad in ({"page": 0}, {"page": -1}, {"limit": 0}, {"page": 10**12}):
        with pytest.raises(devconnect.ValidationError):
            app.feed(me.id, **bad)  # type: ignore[arg-type]
