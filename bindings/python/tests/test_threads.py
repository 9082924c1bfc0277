"""Many Python threads on one service: calls release the GIL and stay consistent."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from conftest import PASSWORD, User, is_event, wait_for

import devconnect


def test_concurrent_signups_and_logins(app: devconnect.DevConnect) -> None:
    def signup_and_login(i: int) -> str:
        email = f"dev{i}@example.com"
        created = app.signup(f"Dev{i}", email, PASSWORD)["user"]["_id"]
        assert app.login(email, PASSWORD)["user"]["_id"] == created
        return created

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = list(pool.map(signup_and_login, range(12)))
    assert len(set(ids)) == 12
    assert len(app.feed(ids[0], limit=50)["profiles"]) == 11


def test_concurrent_senders_lose_no_message(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    hub = make_user("Hub")
    senders = [make_user(f"S{i}") for i in range(4)]
    for sender in senders:
        connect(sender, hub)
    per_sender = 20
    barrier = threading.Barrier(len(senders))

    def send_all(sender: User) -> list[str]:
        barrier.wait(10)
        return [app.send_message(sender.id, hub.id, f"{sender.id}:{n}")["_id"] for n in range(per_sender)]

    with ThreadPoolExecutor(max_workers=len(senders)) as pool:
        sent = [mid for ids in pool.map(send_all, senders) for mid in ids]
    synced = app.sync(hub.id, limit=500)["messages"]
    assert sorted(m["_id"] for m in synced) == sorted(sent)
    for sender in senders:
        texts = [m["text"] for m in app.history(hub.id, sender.id, limit=200)]
        assert texts == [f"{sender.id}:{n}" for n in range(per_sender)], "each sender's order is kept"


def test_a_blocked_reader_does_not_block_other_threads(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    connect(ada, bob)
    received: list[devconnect.Event] = []
    ready = threading.Event()

    def read() -> None:
        with app.subscribe(ada.id, timeout=20) as events:
            ready.set()
            received.append(wait_for(events, is_event("newMessage"), timeout=20))

    reader = threading.Thread(target=read)
    reader.start()
    assert ready.wait(10)
    # If waiting held the GIL, this thread could not run until the reader timed out.
    sent = app.send_message(bob.id, ada.id, "while you wait")
    reader.join(20)
    assert not reader.is_alive()
    assert received and received[0]["data"] == sent


def test_many_threads_share_one_subscription_safely(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    connect(ada, bob)
    events = app.subscribe(ada.id, timeout=0.2)
    total = 30
    got: list[str] = []
    lock = threading.Lock()

    def drain() -> None:
        misses = 0
        while misses < 10:
            event = events.next_event()
            if event is None:
                misses += 1
                continue
            if event["event"] == "newMessage":
                with lock:
                    got.append(event["data"]["text"])
                    if len(got) == total:
                        return

    readers = [threading.Thread(target=drain) for _ in range(3)]
    for reader in readers:
        reader.start()
    for n in range(total):
        app.send_message(bob.id, ada.id, f"m{n}")
    for reader in readers:
        reader.join(30)
    events.close()
    assert sorted(got, key=lambda t: int(t[1:])) == [f"m{n}" for n in range(total)]
    assert len(got) == total, "each event is delivered to exactly one reader"
    assert isinstance(app, devconnect.DevConnect)
