"""Realtime: subscriptions, presence and live events."""

from __future__ import annotations

import _thread
import signal
import threading
from collections.abc import Callable

import pytest
from conftest import User, is_event, wait_for, wait_for_all

import devconnect


def test_two_users_connect_chat_and_see_each_others_presence(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    with app.subscribe(ada.id, timeout=10) as ada_events:
        assert app.is_online(ada.id) and not app.is_online(bob.id)
        assert app.online_connections(ada.id) == [ada.id]

        with app.subscribe(bob.id, timeout=10) as bob_events:
            # Bob asks; Ada is told, with Bob's profile.
            request = app.send_request(bob.id, ada.id, "interested", "let's connect")
            got = wait_for(ada_events, is_event("connectionRequest"))
            assert got["data"]["_id"] == request["_id"]
            assert got["data"]["fromUserId"]["firstName"] == "Bob"
            assert got["data"]["note"] == "let's connect"

            # Ada accepts; Bob is told, and both now see each other online.
            app.review_request(ada.id, request["_id"], "accepted")
            accepted, _ = wait_for_all(
                bob_events, is_event("connectionAccepted"), is_event("presence", userId=ada.id, online=True)
            )
            assert accepted["data"]["toUserId"]["_id"] == ada.id
            wait_for(ada_events, is_event("presence", userId=bob.id, online=True))
            assert app.online_connections(ada.id) == [ada.id, bob.id]

            # Chat: typing, a message to both sides, read receipts.
            app.typing(bob.id, ada.id, True)
            wait_for(ada_events, is_event("typing", userId=bob.id, typing=True))
            sent = app.send_message(bob.id, ada.id, "hi Ada")
            for events in (ada_events, bob_events):
                message = wait_for(events, is_event("newMessage", _id=sent["_id"]))
                assert message["data"] == sent
            app.mark_read(ada.id, bob.id)
            read = wait_for(bob_events, is_event("messagesRead", userId=ada.id))
            assert read["data"]["upTo"] == sent["_id"]
            assert app.chat_partners(ada.id)[0]["online"] is True

        # Bob's subscription closed: he is offline and Ada is told.
        assert bob_events.closed and bob_events.end_reason == "closed"
        wait_for(ada_events, is_event("presence", userId=bob.id, online=False))
        assert not app.is_online(bob.id)
        assert app.online_connections(ada.id) == [ada.id]
    assert not app.is_online(ada.id)


def test_presence_counts_every_open_subscription(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    connect(ada, bob)
    watcher = app.subscribe(ada.id)
    tab1, tab2 = app.subscribe(bob.id), app.subscribe(bob.id)
    wait_for(watcher, is_event("presence", userId=bob.id, online=True))
    tab1.close()
    assert app.is_online(bob.id), "one tab is still open"
    tab2.close()
    wait_for(watcher, is_event("presence", userId=bob.id, online=False))
    watcher.close()


def test_waiting_times_out_without_events(app: devconnect.DevConnect, make_user: Callable[..., User]) -> None:
    ada = make_user("Ada")
    with app.subscribe(ada.id, timeout=0.05) as events:
        assert events.timeout == pytest.approx(0.05)
        assert events.user_id == ada.id
        assert events.next_event() is None
        assert events.next_event(timeout=0) is None
        with pytest.raises(TimeoutError):
            next(events)
        assert not events.closed and events.end_reason is None
        assert "live" in repr(events)
        with pytest.raises(ValueError):
            events.next_event(timeout=-1)


def test_iteration_stops_once_closed(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    connect(ada, bob)
    events = app.subscribe(ada.id, timeout=10)
    app.send_message(bob.id, ada.id, "one")
    app.send_message(bob.id, ada.id, "two")
    texts = []
    for event in events:
        if event["event"] == "newMessage":
            texts.append(event["data"]["text"])
            if len(texts) == 2:
                events.close()
    assert texts == ["one", "two"]
    assert list(events) == [] and events.next_event() is None
    events.close()  # idempotent
    assert "closed" in repr(events)


def test_close_from_another_thread_wakes_a_waiting_reader(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada = make_user("Ada")
    events = app.subscribe(ada.id)  # no timeout: waits forever unless closed
    result: list[object] = []
    started = threading.Event()

    def read() -> None:
        started.set()
        result.append(list(events))

    reader = threading.Thread(target=read)
    reader.start()
    started.wait(5)
    events.close()
    reader.join(10)
    assert not reader.is_alive()
    assert result == [[]]
    assert not app.is_online(ada.id)


def test_a_session_subscription_ends_when_its_token_is_logged_out(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada = make_user("Ada")
    events = app.subscribe_session(ada.token, timeout=10)
    assert app.is_online(ada.id)
    app.logout(ada.token)
    assert list(events) == []
    assert events.end_reason == "token_revoked"
    assert not app.is_online(ada.id)
    with pytest.raises(devconnect.AuthError):
        app.subscribe_session(ada.token)


def test_dropping_a_subscription_makes_the_user_offline(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada = make_user("Ada")
    events = app.subscribe(ada.id)
    assert app.is_online(ada.id)
    del events
    assert not app.is_online(ada.id)


def test_ctrl_c_interrupts_a_wait_without_timeout(app: devconnect.DevConnect, make_user: Callable[..., User]) -> None:
    ada = make_user("Ada")
    # A process started in the background by a shell (`scripts/test.sh &`, nohup) has
    # SIGINT ignored, and interrupt_main() then does nothing: the test installs Python's
    # own Ctrl-C handler for its duration, as a program that wants Ctrl-C would.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with app.subscribe(ada.id) as events:
            # The timer only decides when the interrupt comes; the test passes whenever it does.
            timer = threading.Timer(0.1, _thread.interrupt_main)
            with pytest.raises(KeyboardInterrupt):
                timer.start()
                events.next_event()
            timer.join()
            assert not events.closed, "an interrupted wait leaves the subscription usable"
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def test_a_session_resumed_after_a_message_yields_what_was_missed_then_live_events(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    connect(bob, ada)
    seen = app.send_message(bob.id, ada.id, "seen before going away")
    missed = [app.send_message(bob.id, ada.id, f"missed {i}") for i in range(3)]
    with app.subscribe_session(ada.token, last_message_id=seen["_id"], timeout=10) as events:
        after_opening = app.send_message(bob.id, ada.id, "sent while catching up")
        got = [next(events) for _ in range(4)]
        assert [e["event"] for e in got] == ["newMessage"] * 4
        assert [e["data"] for e in got] == [*missed, after_opening]
        live = app.send_message(ada.id, bob.id, "live")
        assert next(events)["data"] == live
        # Each message came once: nothing else is pending.
        assert events.next_event(timeout=0.1) is None


def test_a_resume_point_that_is_not_the_users_is_refused(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob, cy = make_user("Ada"), make_user("Bob"), make_user("Cy")
    connect(bob, cy)
    theirs = app.send_message(bob.id, cy.id, "not for Ada")
    with pytest.raises(devconnect.ValidationError):
        app.subscribe_session(ada.token, last_message_id=theirs["_id"])
    with pytest.raises(devconnect.ValidationError):
        app.subscribe_session(ada.token, last_message_id="not an id")
    assert not app.is_online(ada.id)


def test_online_lists_the_user_first_then_online_connections_and_follows_presence(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    connect(ada, bob)
    with app.subscribe_session(bob.token, timeout=10):
        with app.subscribe_session(ada.token, timeout=10) as events:
            assert events.online == [ada.id, bob.id]
        with app.subscribe(ada.id, timeout=10) as events:
            assert events.online == [ada.id, bob.id]
    with app.subscribe(ada.id, timeout=10) as events:
        assert events.online == [ada.id]
        with app.subscribe(bob.id):
            wait_for(events, is_event("presence", userId=bob.id, online=True))
            assert events.online == [ada.id, bob.id]
        wait_for(events, is_event("presence", userId=bob.id, online=False))
        assert events.online == [ada.id]
