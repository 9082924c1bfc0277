"""The same API on the MongoDB store (the suite runs it against a local test server).

`DEVCONNECT_TEST_MONGODB_URL` names the server (scripts/with-jongodb.sh starts one and
sets it); without it this test fails rather than being skipped silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PASSWORD, SECRET, is_event, wait_for

import devconnect


@pytest.fixture
def mongo_app(tmp_path: Path) -> Iterator[devconnect.DevConnect]:
    base = os.environ.get("DEVCONNECT_TEST_MONGODB_URL")
    if not base:
        pytest.fail("DEVCONNECT_TEST_MONGODB_URL is not set: run through scripts/with-jongodb.sh")
    url = f"{base.rstrip('/')}/devconnect_py_{uuid.uuid4().hex[:12]}"
    app = devconnect.DevConnect.open(url, data_dir=str(tmp_path), jwt_secret=SECRET)
    yield app
    app.close()


def test_the_whole_flow_works_on_mongodb(mongo_app: devconnect.DevConnect) -> None:
    app = mongo_app
    app.health()
    ada = app.signup("Ada", "ada@example.com", PASSWORD, skills=["Rust"])
    bob = app.signup("Bob", "bob@example.com", PASSWORD)
    a, b = ada["user"]["_id"], bob["user"]["_id"]
    with pytest.raises(devconnect.ConflictError):
        app.signup("Ada", "ada@example.com", PASSWORD)
    assert app.login("ada@example.com", PASSWORD)["user"] == ada["user"]
    assert [p["_id"] for p in app.feed(b)["profiles"]] == [a]

    with app.subscribe(a, timeout=10) as events:
        request = app.send_request(b, a, "interested", "hello")
        wait_for(events, is_event("connectionRequest"))
        app.review_request(a, request["_id"], "accepted")
        assert [p["_id"] for p in app.connections(b)] == [a]
        sent = app.send_message(b, a, "hi from mongo")
        got = wait_for(events, is_event("newMessage", _id=sent["_id"]))
        assert got["data"] == sent
    assert app.history(a, b) == [sent]
    assert app.mark_read(a, b) == sent["_id"]
    assert app.sync(b)["messages"][0].get("readAt") is not None
