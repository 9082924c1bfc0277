"""The exception hierarchy: one class per stable code, each carrying `code`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import PASSWORD, SECRET, User, png

import devconnect

CLASSES = {
    devconnect.ValidationError: "validation",
    devconnect.AuthError: "unauthorized",
    devconnect.ForbiddenError: "forbidden",
    devconnect.NotFoundError: "not_found",
    devconnect.ConflictError: "conflict",
    devconnect.RateLimitedError: "rate_limited",
    devconnect.LimitExceededError: "limit_exceeded",
    devconnect.PayloadTooLargeError: "payload_too_large",
    devconnect.UnsupportedMediaTypeError: "unsupported_media_type",
    devconnect.UnavailableError: "unavailable",
    devconnect.InternalError: "internal",
}


def test_every_class_derives_from_the_root_and_names_its_code() -> None:
    assert issubclass(devconnect.DevConnectError, Exception)
    for cls, code in CLASSES.items():
        assert issubclass(cls, devconnect.DevConnectError)
        assert cls.code == code
        assert cls.__module__ == "devconnect"
        assert cls.__doc__


def test_validation_error_names_the_field(app: devconnect.DevConnect) -> None:
    with pytest.raises(devconnect.ValidationError) as err:
        app.signup("Ada", "ada@example.com", "weak")
    assert (err.value.code, err.value.field) == ("validation", "password")
    assert "password" in str(err.value)


def test_too_many_skills_are_refused_before_any_is_read(app: devconnect.DevConnect) -> None:
    with pytest.raises(devconnect.ValidationError) as err:
        app.signup("Ada", "ada@example.com", PASSWORD, skills=[f"s{i}" for i in range(7000)])
    assert err.value.field == "skills"


def test_malformed_ids_are_validation_errors_naming_the_argument(app: devconnect.DevConnect) -> None:
    with pytest.raises(devconnect.ValidationError) as err:
        app.public_profile("0123456789abcdef01234567", "nope")
    assert err.value.field == "user_id"
    with pytest.raises(devconnect.ValidationError) as err:
        app.public_profile("nope", "0123456789abcdef01234567")
    assert err.value.field == "me"
    with pytest.raises(devconnect.ValidationError) as err:
        app.history("0123456789abcdef01234567", "0123456789abcdef01234568", before="zz")
    assert err.value.field == "before"


def test_duplicate_signup_is_a_conflict(app: devconnect.DevConnect) -> None:
    app.signup("Ada", "ada@example.com", PASSWORD)
    with pytest.raises(devconnect.ConflictError) as err:
        app.signup("Ada", "ADA@example.com", PASSWORD)
    assert err.value.code == "conflict"


def test_wrong_email_and_wrong_password_look_the_same(app: devconnect.DevConnect) -> None:
    app.signup("Ada", "ada@example.com", PASSWORD)
    with pytest.raises(devconnect.AuthError) as wrong_password:
        app.login("ada@example.com", "Wr0ng!pass")
    with pytest.raises(devconnect.AuthError) as wrong_email:
        app.login("bob@example.com", PASSWORD)
    assert str(wrong_password.value) == str(wrong_email.value)
    assert wrong_password.value.code == "unauthorized"
    with pytest.raises(devconnect.AuthError):
        app.authenticate("not.a.token")


def test_unknown_users_are_not_found(app: devconnect.DevConnect) -> None:
    with pytest.raises(devconnect.NotFoundError) as err:
        app.public_profile("0123456789abcdef01234568", "0123456789abcdef01234567")
    assert err.value.code == "not_found"
    with pytest.raises(devconnect.NotFoundError):
        app.subscribe("0123456789abcdef01234567")


def test_uploads_are_checked(app: devconnect.DevConnect, make_user: Callable[..., User]) -> None:
    ada = make_user("Ada")
    with pytest.raises(devconnect.UnsupportedMediaTypeError) as kind:
        app.set_photo(ada.id, b"GIF89a" + b"\x00" * 32)
    assert kind.value.code == "unsupported_media_type"
    with pytest.raises(devconnect.PayloadTooLargeError) as size:
        app.set_photo(ada.id, png() + b"\x00" * (3 * 1024 * 1024))
    assert size.value.limit == 3 * 1024 * 1024
    assert app.profile(ada.id)["photoURL"] is None


def test_sending_too_fast_is_rate_limited(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    connect(ada, bob)
    with pytest.raises(devconnect.RateLimitedError) as err:
        for i in range(1000):
            app.send_message(ada.id, bob.id, f"spam {i}")
    assert err.value.code == "rate_limited"
    assert err.value.retry_after > 0
    assert 0 < len(app.history(ada.id, bob.id, limit=200)) < 1000


def test_live_subscriptions_per_user_are_capped(app: devconnect.DevConnect, make_user: Callable[..., User]) -> None:
    ada = make_user("Ada")
    open_ = [app.subscribe(ada.id) for _ in range(32)]
    with pytest.raises(devconnect.LimitExceededError) as err:
        app.subscribe(ada.id)
    assert err.value.code == "limit_exceeded"
    open_.pop().close()
    with app.subscribe(ada.id):
        pass
    for sub in open_:
        sub.close()


def test_internal_failures_raise_internal_error_without_details(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(devconnect.InternalError) as err:
        devconnect.DevConnect.open("sqlite::memory:", data_dir=str(blocker / "sub"), jwt_secret=SECRET)
    assert err.value.code == "internal"
    assert str(err.value) == "internal error"


def test_unsupported_database_urls_are_refused() -> None:
    with pytest.raises(devconnect.ValidationError) as err:
        devconnect.DevConnect.open("postgres://user:secret@host/db", data_dir=".", jwt_secret=SECRET)
    assert "secret" not in str(err.value)


def test_short_jwt_secrets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(devconnect.ValidationError):
        devconnect.DevConnect.open("sqlite::memory:", data_dir=str(tmp_path), jwt_secret="short")
