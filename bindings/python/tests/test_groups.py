"""Groups: creation, who sees what, membership within the cap, roles, leaving."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from conftest import User, is_event, wait_for

import devconnect

GROUP_KEYS = {
    "_id", "name", "description", "visibility", "tags", "ownerId", "memberCount", "archived", "createdAt", "updatedAt",
}


def test_a_private_group_grows_by_connections_and_is_hidden_from_outsiders(
    app: devconnect.DevConnect, make_user: Callable[..., User], connect: Callable[[User, User], None]
) -> None:
    ada, bob, cy = make_user("Ada"), make_user("Bob"), make_user("Cy")
    connect(ada, bob)
    group = app.create_group(ada.id, "  Core team ", tags=["Rust", "rust"])
    assert set(group) == GROUP_KEYS
    assert group["name"] == "Core team" and group["visibility"] == "private" and group["tags"] == ["Rust"]
    assert group["ownerId"] == ada.id and group["memberCount"] == 1 and isinstance(group["createdAt"], datetime)
    with pytest.raises(devconnect.NotFoundError):
        app.group(bob.id, group["_id"])
    with pytest.raises(devconnect.ForbiddenError):
        app.add_group_member(ada.id, group["_id"], cy.id)
    member = app.add_group_member(ada.id, group["_id"], bob.id)
    assert member["userId"] == bob.id and member["role"] == "member" and isinstance(member["joinedAt"], datetime)
    assert [(g["_id"], g["role"]) for g in app.my_groups(bob.id)] == [(group["_id"], "member")]
    assert [m["role"] for m in app.group_members(bob.id, group["_id"])] == ["owner", "member"]
    with pytest.raises(devconnect.ValidationError) as bad:
        app.group(ada.id, "not an id")
    assert bad.value.code == "validation"
    with pytest.raises(devconnect.ValidationError):
        app.create_group(ada.id, "x", visibility="secret")  # type: ignore[arg-type]


def test_roles_hand_over_and_the_last_member_archives_a_public_group(
    app: devconnect.DevConnect, make_user: Callable[..., User]
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    group = app.create_group(ada.id, "Open source", visibility="public")
    app.join_group(bob.id, group["_id"])
    with pytest.raises(devconnect.ConflictError):
        app.join_group(bob.id, group["_id"])
    with pytest.raises(devconnect.ForbiddenError):
        app.set_group_role(bob.id, group["_id"], bob.id, "admin")
    assert app.set_group_role(ada.id, group["_id"], bob.id, "admin")["role"] == "admin"
    app.transfer_group(ada.id, group["_id"], bob.id)
    assert app.group(ada.id, group["_id"])["ownerId"] == bob.id
    app.remove_group_member(bob.id, group["_id"], ada.id)
    app.leave_group(bob.id, group["_id"])
    closed = app.group(ada.id, group["_id"])
    assert closed["archived"] and closed["memberCount"] == 0
    with pytest.raises(devconnect.NotFoundError):
        app.join_group(ada.id, group["_id"])


def test_members_hear_of_joins_and_departures(app: devconnect.DevConnect, make_user: Callable[..., User]) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    group = app.create_group(ada.id, "Live", visibility="public")
    with app.subscribe(ada.id, timeout=10) as events:
        app.join_group(bob.id, group["_id"])
        added = wait_for(events, is_event("groupMemberAdded", groupId=group["_id"]))
        assert added["data"]["member"]["userId"] == bob.id and added["data"]["member"]["role"] == "member"
        app.leave_group(bob.id, group["_id"])
        wait_for(events, is_event("groupMemberRemoved", groupId=group["_id"], userId=bob.id))
