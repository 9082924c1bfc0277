"""Push notifications: the VAPID key, a browser's subscriptions and one's settings.

The subscription keys are RFC 8291's example (a real P-256 point and a 16-byte
secret). Endpoints are https URLs of a push service; nothing is sent to them unless
their user is offline when something happens to them, which no test here causes.
"""

from __future__ import annotations

import base64
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD, SECRET, User

import devconnect

P256DH = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
ENDPOINT = "https://push.example.com/send/abc"


def subscription(endpoint: str = ENDPOINT, p256dh: str = P256DH, auth: str = AUTH) -> devconnect.PushSubscription:
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture
def push_app(tmp_path: Path) -> Iterator[devconnect.DevConnect]:
    """A service with push notifications on."""
    service = devconnect.DevConnect.open(f"sqlite://{tmp_path / 'devconnect.db'}", jwt_secret=SECRET, push=True)
    yield service
    service.close()


@pytest.fixture
def push_user(push_app: devconnect.DevConnect) -> Callable[[str], User]:
    def make(first_name: str) -> User:
        email = f"{first_name.lower()}@example.com"
        return User(push_app.signup(first_name, email, PASSWORD), email)

    return make


def test_the_vapid_key_is_an_uncompressed_p256_point_kept_in_the_data_directory(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'devconnect.db'}"
    with devconnect.DevConnect.open(url, jwt_secret=SECRET, push=True) as app:
        key = app.vapid_public_key()
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65 and raw[0] == 4 and "=" not in key
    assert stat.S_IMODE((tmp_path / "vapid.pk8").stat().st_mode) == 0o600
    with devconnect.DevConnect.open(url, jwt_secret=SECRET, push=True) as again:
        assert again.vapid_public_key() == key, "the key is generated once"


def test_services_given_one_vapid_key_file_share_the_key(tmp_path: Path) -> None:
    key_file = str(tmp_path / "shared.pk8")
    keys = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        url = f"sqlite://{tmp_path / name / 'devconnect.db'}"
        with devconnect.DevConnect.open(url, jwt_secret=SECRET, push=True, vapid_key_file=key_file) as app:
            keys.append(app.vapid_public_key())
    assert keys[0] == keys[1]
    assert not (tmp_path / "a" / "vapid.pk8").exists()


def test_a_subscription_with_valid_keys_is_registered_and_removed_once(
    push_app: devconnect.DevConnect, push_user: Callable[[str], User]
) -> None:
    ada = push_user("Ada")
    # What a browser's toJSON() gives, extra keys and padding included.
    browser = {"endpoint": ENDPOINT, "expirationTime": None, "keys": {"p256dh": P256DH, "auth": AUTH + "=="}}
    push_app.add_push_subscription(ada.token, browser)  # type: ignore[arg-type]
    push_app.remove_push_subscription(ada.id, ENDPOINT)
    with pytest.raises(devconnect.NotFoundError):
        push_app.remove_push_subscription(ada.id, ENDPOINT)


def test_only_the_owner_removes_a_subscription_and_logging_out_removes_it(
    push_app: devconnect.DevConnect, push_user: Callable[[str], User]
) -> None:
    ada, bob = push_user("Ada"), push_user("Bob")
    push_app.add_push_subscription(ada.token, subscription())
    with pytest.raises(devconnect.NotFoundError):
        push_app.remove_push_subscription(bob.id, ENDPOINT)
    push_app.logout(ada.token)
    with pytest.raises(devconnect.NotFoundError):
        push_app.remove_push_subscription(ada.id, ENDPOINT)
    with pytest.raises(devconnect.AuthError):
        push_app.add_push_subscription(ada.token, subscription())


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (subscription(endpoint="http://push.example.com/x"), "endpoint"),
        (subscription(endpoint="https://10.0.0.8/x"), "endpoint"),
        (subscription(endpoint="http://127.0.0.1:9/x"), "endpoint"),
        (subscription(p256dh=b64(b"\x04" + b"\x01" * 32)), "keys.p256dh"),
        (subscription(p256dh=b64(b"\x04" + b"\x00" * 64)), "keys.p256dh"),
        (subscription(auth=b64(b"\x00" * 17)), "keys.auth"),
        (subscription(auth="A" * 10_000), "keys.auth"),
        ({"endpoint": ENDPOINT}, "keys"),
        ({"endpoint": ENDPOINT, "keys": {"p256dh": P256DH}}, "keys.auth"),
        ({"endpoint": 42, "keys": {"p256dh": P256DH, "auth": AUTH}}, "endpoint"),
        ("https://push.example.com/x", "keys"),
    ],
)
def test_a_malformed_subscription_is_a_validation_error_naming_the_field(
    push_app: devconnect.DevConnect, push_user: Callable[[str], User], bad: object, field: str
) -> None:
    ada = push_user("Ada")
    with pytest.raises(devconnect.ValidationError) as err:
        push_app.add_push_subscription(ada.token, bad)  # type: ignore[arg-type]
    assert err.value.field == field


def test_loopback_endpoints_need_push_allow_loopback(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'devconnect.db'}"
    with devconnect.DevConnect.open(url, jwt_secret=SECRET, push=True, push_allow_loopback=True) as app:
        token = app.signup("Ada", "ada@example.com", PASSWORD)["token"]
        app.add_push_subscription(token, subscription(endpoint="http://127.0.0.1:9/push"))


def test_push_settings_start_all_on_and_change_only_where_asked(
    push_app: devconnect.DevConnect, push_user: Callable[[str], User]
) -> None:
    ada = push_user("Ada")
    assert push_app.push_settings(ada.id) == {
        "messages": True,
        "requests": True,
        "groups": True,
        "previews": True,
        "mutedGroups": [],
    }
    group = push_app.create_group(ada.id, "Pythonistas")
    changed = push_app.update_push_settings(ada.id, previews=False, muted_groups=[group["_id"], group["_id"]])
    assert changed == {
        "messages": True,
        "requests": True,
        "groups": True,
        "previews": False,
        "mutedGroups": [group["_id"]],
    }
    assert push_app.push_settings(ada.id) == changed
    # A dict of changes, as a settings form would hold them.
    form: dict[str, Any] = {"messages": False, "requests": False}
    now = push_app.update_push_settings(ada.id, **form)
    assert (now["messages"], now["requests"], now["previews"], now["mutedGroups"]) == (False, False, False, [group["_id"]])
    assert push_app.update_push_settings(ada.id, muted_groups=[])["mutedGroups"] == []
    assert push_app.update_push_settings(ada.id) == push_app.push_settings(ada.id), "no change changes nothing"


def test_a_malformed_settings_change_is_refused_and_changes_nothing(
    push_app: devconnect.DevConnect, push_user: Callable[[str], User]
) -> None:
    ada = push_user("Ada")
    with pytest.raises(devconnect.ValidationError) as err:
        push_app.update_push_settings(ada.id, messages=False, muted_groups=["nope"])
    assert err.value.field == "muted_groups"
    with pytest.raises(devconnect.ValidationError) as err:
        push_app.update_push_settings(ada.id, messages=False, muted_groups=[f"{i:024x}" for i in range(1001)])
    assert err.value.field == "mutedGroups"
    assert push_app.push_settings(ada.id)["messages"] is True


def test_without_push_every_push_method_is_unavailable(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada = make_user("Ada")
    calls: list[Callable[[], object]] = [
        app.vapid_public_key,
        lambda: app.add_push_subscription(ada.token, subscription()),
        lambda: app.remove_push_subscription(ada.id, ENDPOINT),
        lambda: app.push_settings(ada.id),
        lambda: app.update_push_settings(ada.id, messages=False),
    ]
    for call in calls:
        with pytest.raises(devconnect.UnavailableError):
            call()


@pytest.mark.parametrize(
    "options",
    [{"push_subject": "mailto:ops@example.com"}, {"vapid_key_file": "k.pk8"}, {"push_allow_loopback": True}],
)
def test_push_options_without_push_are_refused(tmp_path: Path, options: dict[str, object]) -> None:
    with pytest.raises(devconnect.ValidationError) as err:
        devconnect.DevConnect.open(f"sqlite://{tmp_path / 'devconnect.db'}", jwt_secret=SECRET, **options)  # type: ignore[arg-type]
    assert err.value.field == "push"
