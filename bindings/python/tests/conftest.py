"""Shared fixtures: a fresh DevConnect per test, users, connections, images, event waits."""

from __future__ import annotations

import itertools
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import devconnect

PASSWORD = "Str0ng!pass"
SECRET = "test-secret-" + "x" * 40
_counter = itertools.count()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[devconnect.DevConnect]:
    """A service on a fresh SQLite file in a temporary directory."""
    service = devconnect.DevConnect.open(f"sqlite://{tmp_path / 'devconnect.db'}", jwt_secret=SECRET)
    yield service
    service.close()


class User:
    """A signed-up user: id, token, email."""

    def __init__(self, auth: devconnect.Authenticated, email: str) -> None:
        self.id: str = auth["user"]["_id"]
        self.token: str = auth["token"]
        self.email = email
        self.me = auth["user"]


@pytest.fixture
def make_user(app: devconnect.DevConnect) -> Callable[..., User]:
    """Signs up a new user with a unique email."""

    def make(first_name: str = "Ada", **fields: Any) -> User:
        email = f"{first_name.lower()}{next(_counter)}@example.com"
        return User(app.signup(first_name, email, PASSWORD, **fields), email)

    return make


@pytest.fixture
def connect(app: devconnect.DevConnect) -> Callable[[User, User], None]:
    """Makes two users connections (a asks, b accepts)."""

    def connect(a: User, b: User) -> None:
        request = app.send_request(a.id, b.id, "interested")
        app.review_request(b.id, request["_id"], "accepted")

    return connect


def media_name(url: str | None) -> str:
    """The file name of an image URL, which is absolute: by default a `file://` URL."""
    assert url is not None and url.startswith("file:///"), url
    return url.rsplit("/", 1)[1]


def png(width: int = 4, height: int = 3) -> bytes:
    """A small valid RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def wait_for(
    sub: devconnect.Subscription, predicate: Callable[[devconnect.Event], bool], timeout: float = 10.0
) -> devconnect.Event:
    """The first event matching `predicate`, skipping others; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    seen = []
    while (left := deadline - time.monotonic()) > 0:
        event = sub.next_event(timeout=left)
        if event is None:
            break
        if predicate(event):
            return event
        seen.append(event)
    raise AssertionError(f"no matching event within {timeout} s; saw {seen}")


def wait_for_all(
    sub: devconnect.Subscription, *predicates: Callable[[devconnect.Event], bool], timeout: float = 10.0
) -> list[devconnect.Event]:
    """One event per predicate, arriving in any order; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    found: list[devconnect.Event | None] = [None] * len(predicates)
    seen = []
    while None in found and (left := deadline - time.monotonic()) > 0:
        event = sub.next_event(timeout=left)
        if event is None:
            break
        seen.append(event)
        for i, predicate in enumerate(predicates):
            if found[i] is None and predicate(event):
                found[i] = event
                break
    if None in found:
        raise AssertionError(f"not every expected event arrived within {timeout} s; saw {seen}")
    return [e for e in found if e is not None]


def is_event(name: str, **data: Any) -> Callable[[devconnect.Event], bool]:
    """A predicate: event `name` whose data has these items."""
    return lambda e: e["event"] == name and all(e["data"].get(k) == v for k, v in data.items())
