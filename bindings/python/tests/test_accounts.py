"""Opening the service, accounts, tokens and profiles."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import PASSWORD, SECRET, media_name, png

import devconnect

PROFILE_KEYS = {
    "_id",
    "firstName",
    "lastName",
    "age",
    "gender",
    "photoURL",
    "about",
    "skills",
    "location",
    "experienceYears",
    "createdAt",
    "updatedAt",
    "deleted",
}


def test_open_in_memory_is_healthy_and_closes_as_a_context_manager() -> None:
    with devconnect.DevConnect.open("sqlite::memory:", jwt_secret=SECRET) as app:
        app.health()
        assert repr(app) == "<devconnect.DevConnect>"


def test_data_survives_reopening_the_same_file(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'dc.db'}"
    with devconnect.DevConnect.open(url) as app:
        token = app.signup("Ada", "ada@example.com", PASSWORD)["token"]
    assert (tmp_path / "jwt-secret").exists(), "the generated secret lives beside the database"
    with devconnect.DevConnect.open(url) as app:
        assert app.login("ada@example.com", PASSWORD)["user"]["firstName"] == "Ada"
        assert app.authenticate(token)["userId"], "tokens stay valid with the kept secret"


def test_signup_returns_me_with_api_keys_and_datetimes(app: devconnect.DevConnect) -> None:
    auth = app.signup(
        "  Ada ",
        " Ada@Example.COM ",
        PASSWORD,
        last_name="Lovelace",
        age=36,
        gender="Female",
        about="Analyst",
        skills=["Rust", "rust", "Go"],
    )
    me = auth["user"]
    assert set(me) == PROFILE_KEYS | {"emailID"}
    assert me["firstName"] == "Ada" and me["lastName"] == "Lovelace"
    assert me["emailID"] == "ada@example.com"
    assert me["age"] == 36 and me["gender"] == "female"
    assert me["skills"] == ["Rust", "Go"]
    assert me["photoURL"] is None
    assert len(me["_id"]) == 24 and int(me["_id"], 16) >= 0
    assert isinstance(me["createdAt"], datetime) and me["createdAt"].tzinfo is not None
    assert me["createdAt"].utcoffset() == timezone.utc.utcoffset(None)
    assert isinstance(auth["token"], str) and auth["token"].count(".") == 2


def test_signup_with_a_photo_stores_it_under_media(app: devconnect.DevConnect, tmp_path: Path) -> None:
    me = app.signup("Ada", "ada@example.com", PASSWORD, photo=png())["user"]
    # An absolute URL that opens the file itself.
    assert me["photoURL"] == (tmp_path / "media" / media_name(me["photoURL"])).as_uri()
    assert (tmp_path / "media" / media_name(me["photoURL"])).is_file()


def test_image_urls_follow_the_public_url_also_for_existing_records(tmp_path: Path) -> None:
    db = f"sqlite://{tmp_path / 'dc.db'}"
    with devconnect.DevConnect.open(db, jwt_secret=SECRET, public_url="https://one.example/") as app:
        me = app.signup("Ada", "ada@example.com", PASSWORD, photo=png())["user"]
    url = me["photoURL"]
    assert url is not None and url.startswith("https://one.example/media/"), url
    with devconnect.DevConnect.open(db, jwt_secret=SECRET, public_url="https://two.example") as app:
        moved = app.profile(me["_id"])["photoURL"]
    assert moved == url.replace("https://one.example/", "https://two.example/")
    with pytest.raises(devconnect.ValidationError) as err:
        devconnect.DevConnect.open(db, jwt_secret=SECRET, public_url="not a url")
    assert err.value.field == "publicUrl"


def test_login_authenticate_logout(app: devconnect.DevConnect) -> None:
    user = app.signup("Ada", "ada@example.com", PASSWORD)["user"]
    auth = app.login("ADA@example.com", PASSWORD)
    assert auth["user"] == user
    session = app.authenticate(auth["token"])
    assert set(session) == {"userId", "tokenId", "expiresAt"}
    assert session["userId"] == user["_id"]
    assert session["expiresAt"] > datetime.now(timezone.utc)
    app.logout(auth["token"])
    with pytest.raises(devconnect.AuthError):
        app.authenticate(auth["token"])
    with pytest.raises(devconnect.AuthError):
        app.logout(auth["token"])


def test_change_password_revokes_old_tokens(app: devconnect.DevConnect) -> None:
    old = app.signup("Ada", "ada@example.com", PASSWORD)["token"]
    other = app.login("ada@example.com", PASSWORD)["token"]
    new = app.change_password(old, PASSWORD, "N3w!password", "N3w!password")
    for token in (old, other):
        with pytest.raises(devconnect.AuthError):
            app.authenticate(token)
    assert app.authenticate(new)["userId"]
    with pytest.raises(devconnect.AuthError):
        app.login("ada@example.com", PASSWORD)
    assert app.login("ada@example.com", "N3w!password")["token"]


def test_change_password_checks_the_old_one_and_the_confirmation(app: devconnect.DevConnect) -> None:
    token = app.signup("Ada", "ada@example.com", PASSWORD)["token"]
    with pytest.raises(devconnect.ValidationError) as wrong:
        app.change_password(token, "Wr0ng!pass", "N3w!password", "N3w!password")
    assert wrong.value.field == "oldPassword"
    with pytest.raises(devconnect.ValidationError) as mismatch:
        app.change_password(token, PASSWORD, "N3w!password", "N3w!passwordX")
    assert mismatch.value.field == "confirmPassword"
    assert app.authenticate(token)["userId"], "a failed change leaves the token working"


def test_profile_and_public_profile(app: devconnect.DevConnect) -> None:
    me = app.signup("Ada", "ada@example.com", PASSWORD, skills=["Rust"])["user"]
    assert app.profile(me["_id"]) == me
    public = app.public_profile(me["_id"], me["_id"])
    assert set(public) == PROFILE_KEYS, "no email in a public profile"
    assert public["skills"] == ["Rust"]


def test_edit_profile_changes_only_given_fields(app: devconnect.DevConnect) -> None:
    me = app.signup("Ada", "ada@example.com", PASSWORD, about="before", skills=["Rust"])["user"]
    edited = app.edit_profile(me["_id"], about="after", age=40, skills=["Go", "Zig"])
    assert edited["about"] == "after" and edited["age"] == 40 and edited["skills"] == ["Go", "Zig"]
    assert edited["firstName"] == "Ada" and edited["emailID"] == "ada@example.com"
    assert edited["updatedAt"] >= me["updatedAt"]
    assert app.profile(me["_id"]) == edited


def test_an_invalid_edit_changes_nothing(app: devconnect.DevConnect) -> None:
    me = app.signup("Ada", "ada@example.com", PASSWORD, about="kept")["user"]
    with pytest.raises(devconnect.ValidationError) as err:
        app.edit_profile(me["_id"], about="new", age=12)
    assert err.value.field == "age"
    assert app.profile(me["_id"])["about"] == "kept"
    with pytest.raises(TypeError):
        app.edit_profile(me["_id"], emailID="x@example.com")  # type: ignore[call-arg]


def test_set_photo_replaces_the_photo_and_deletes_the_old_file(app: devconnect.DevConnect, tmp_path: Path) -> None:
    me = app.signup("Ada", "ada@example.com", PASSWORD)["user"]
    first = app.set_photo(me["_id"], png())["photoURL"]
    second = app.set_photo(me["_id"], png(8, 8))["photoURL"]
    assert first != second
    media = tmp_path / "media"
    assert (media / media_name(second)).is_file()
    assert not (media / media_name(first)).exists()


def test_media_dir_can_be_chosen(tmp_path: Path) -> None:
    media = tmp_path / "pictures"
    with devconnect.DevConnect.open(f"sqlite://{tmp_path / 'dc.db'}", media_dir=str(media), jwt_secret=SECRET) as app:
        me = app.signup("Ada", "ada@example.com", PASSWORD, photo=png())["user"]
    assert (media / media_name(me["photoURL"])).is_file()
