"""Developer search: matching, relations, validation and paging."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import User

import devconnect


def dev(
    app: devconnect.DevConnect,
    make_user: Callable[..., User],
    name: str,
    skills: list[str],
    location: str | None = None,
    years: int | None = None,
) -> User:
    """A user with the searchable fields set, as a client sets them: by signup and an edit."""
    user = make_user(name, skills=skills)
    app.edit_profile(user.id, location=location, experience_years=years)
    return user


def found(app: devconnect.DevConnect, me: User, **query: Any) -> list[str]:
    """The first names found, in order."""
    return [r["firstName"] for r in app.search_users(me.id, **query)["results"]]


def test_search_matches_names_skills_location_and_experience(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada = make_user("Ada")
    dev(app, make_user, "Bob", ["Rust", "Go"], "Berlin, Germany", 8)
    dev(app, make_user, "Cara", ["Go"], "Paris", 2)
    dev(app, make_user, "José", ["Python"], "Berlin", 1)

    page = app.search_users(ada.id)
    assert set(page) == {"results", "page", "limit", "hasMore", "asOf"}
    assert (page["page"], page["limit"], page["hasMore"]) == (1, 20, False)
    assert [r["firstName"] for r in page["results"]] == ["José", "Cara", "Bob"], "newest first, never me"
    bob = page["results"][2]
    assert set(bob) == set(app.public_profile(ada.id, bob["_id"])) | {"relation"}, "the public profile plus relation"
    assert (bob["location"], bob["experienceYears"]) == ("Berlin, Germany", 8)

    assert found(app, ada, q="jose") == ["José"], "accents are ignored"
    assert found(app, ada, q="BO") == ["Bob"], "the last word as a prefix, any case"
    assert found(app, ada, q="go") == ["Cara", "Bob"]
    assert found(app, ada, skills=["go", "RUST"]) == ["Bob"], "every skill is required"
    assert found(app, ada, location="berlin") == ["José", "Bob"]
    assert found(app, ada, location="berlin", min_experience=2) == ["Bob"]
    assert found(app, ada, max_experience=2) == ["José", "Cara"]
    assert found(app, ada, q="nobody") == []


def test_each_result_says_how_it_relates_to_me(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob, cara, dan, eve = (make_user(n) for n in ("Ada", "Bob", "Cara", "Dan", "Eve"))
    connect(ada, bob)
    app.send_request(cara.id, ada.id, "interested")
    app.send_request(ada.id, dan.id, "ignored")
    relations = {r["firstName"]: r["relation"] for r in app.search_users(ada.id)["results"]}
    assert relations == {"Bob": "connected", "Cara": "pending", "Dan": "none", "Eve": "none"}
    app.block(ada.id, eve.id)
    assert "Eve" not in found(app, ada), "nobody in a block with me"
    assert "Ada" not in found(app, eve)


def test_bad_search_input_raises_validation_error(app: devconnect.DevConnect, make_user: Callable[..., User]) -> None:
    ada = make_user("Ada")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"q": "x" * 201}, "q"),
        ({"q": "a " * 11}, "q"),
        ({"min_experience": -1}, "minExperience"),
        ({"min_experience": 5, "max_experience": 4}, "minExperience"),
        ({"page": 0}, "page"),
        ({"as_of": "not-an-id"}, "as_of"),
    ]
    for bad, field in cases:
        with pytest.raises(devconnect.ValidationError) as err:
            app.search_users(ada.id, **bad)
        assert err.value.field == field, bad
    assert app.search_users(ada.id, limit=500)["limit"] == 50


def test_pages_with_as_of_neither_overlap_nor_show_later_signups(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    me = make_user("Me")
    others = [make_user(f"Dev{i}") for i in range(5)]
    first = app.search_users(me.id, limit=2)
    assert first["hasMore"] is True
    late = make_user("Late")
    pages = [first] + [app.search_users(me.id, page=p, limit=2, as_of=first["asOf"]) for p in (2, 3)]
    ids = [r["_id"] for page in pages for r in page["results"]]
    assert ids == [o.id for o in reversed(others)], "newest first, each once, without the late signup"
    assert pages[-1]["hasMore"] is False
    assert all(page["asOf"] == first["asOf"] for page in pages)
    assert found(app, me, limit=1) == ["Late"], "a new search sees it"
    assert late.id not in ids
