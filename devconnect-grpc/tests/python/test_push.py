"""Push notification management over gRPC: the VAPID key, subscriptions, settings.

The subscription keys are RFC 8291's example (a real P-256 point and a 16-byte
secret): the suite installs no cryptography library to make fresh ones. Endpoints are
https URLs of a push service, which the server accepts without --push-allow-loopback;
nothing is sent to them unless their user is offline when something happens to them.
"""

import base64
import uuid

import grpc
import pytest

from conftest import error_code
from devconnect.v1 import devconnect_pb2 as pb

P256DH = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
AUTH = "BTBZMqHH6r4Tts7J_aSIgg"


def endpoint():
    """A push service URL of its own per test: an endpoint is registered once, by anyone."""
    return f"https://push.example.com/send/{uuid.uuid4().hex}"


def subscription(url, p256dh=P256DH, auth=AUTH):
    return pb.AddPushSubscriptionRequest(endpoint=url, keys=pb.PushKeys(p256dh=p256dh, auth=auth))


def fails(user, method, request, code, stable):
    with pytest.raises(grpc.RpcError) as err:
        user.call(method, request)
    assert err.value.code() == code, err.value
    assert error_code(err.value) == stable
    assert err.value.details().startswith(f"{stable}: ")
    return err.value


def test_the_vapid_key_decodes_to_an_uncompressed_p256_point(new_user):
    ada = new_user("Ada")
    key = ada.call("GetVapidPublicKey", pb.GetVapidPublicKeyRequest()).public_key
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65 and raw[0] == 4
    assert "=" not in key
    assert ada.call("GetVapidPublicKey", pb.GetVapidPublicKeyRequest()).public_key == key


def test_a_subscription_with_valid_keys_is_registered_and_removed_once(new_user):
    ada = new_user("Ada")
    url = endpoint()
    ada.call("AddPushSubscription", subscription(url))
    ada.call("RemovePushSubscription", pb.RemovePushSubscriptionRequest(endpoint=url))
    fails(ada, "RemovePushSubscription", pb.RemovePushSubscriptionRequest(endpoint=url), grpc.StatusCode.NOT_FOUND, "not_found")


def test_a_non_https_endpoint_is_an_invalid_argument(new_user):
    ada = new_user("Ada")
    for url in ["http://push.example.com/x", "ftp://push.example.com/x", "https://10.0.0.8/x", "http://127.0.0.1:9/x"]:
        err = fails(ada, "AddPushSubscription", subscription(url), grpc.StatusCode.INVALID_ARGUMENT, "validation")
        assert "endpoint" in err.details(), url


def test_keys_of_the_wrong_length_are_invalid_arguments(new_user):
    ada = new_user("Ada")
    url = endpoint()
    short_point = base64.urlsafe_b64encode(b"\x04" + b"\x01" * 32).rstrip(b"=").decode()
    long_auth = base64.urlsafe_b64encode(b"\x00" * 17).rstrip(b"=").decode()
    for request, field in [
        (subscription(url, p256dh=short_point), "keys.p256dh"),
        (subscription(url, auth=long_auth), "keys.auth"),
        (subscription(url, auth=AUTH[:10]), "keys.auth"),
        (pb.AddPushSubscriptionRequest(endpoint=url), "keys.p256dh"),
    ]:
        err = fails(ada, "AddPushSubscription", request, grpc.StatusCode.INVALID_ARGUMENT, "validation")
        assert field in err.details()
    # None of them was registered.
    fails(ada, "RemovePushSubscription", pb.RemovePushSubscriptionRequest(endpoint=url), grpc.StatusCode.NOT_FOUND, "not_found")


def test_push_settings_round_trip(new_user):
    ada = new_user("Ada")
    defaults = ada.call("GetPushSettings", pb.GetPushSettingsRequest())
    assert (defaults.messages, defaults.requests, defaults.groups, defaults.previews) == (True, True, True, True)
    assert list(defaults.muted_group_ids) == []

    group = ada.call("CreateGroup", pb.CreateGroupRequest(name="Pythonistas"))
    changed = ada.call(
        "UpdatePushSettings",
        pb.UpdatePushSettingsRequest(requests=False, previews=False, muted_groups=pb.GroupIdList(group_ids=[group.id])),
    )
    assert (changed.messages, changed.requests, changed.groups, changed.previews) == (True, False, True, False)
    assert list(changed.muted_group_ids) == [group.id]
    assert ada.call("GetPushSettings", pb.GetPushSettingsRequest()) == changed

    # An empty request changes nothing; an empty list unmutes every group.
    assert ada.call("UpdatePushSettings", pb.UpdatePushSettingsRequest()) == changed
    cleared = ada.call("UpdatePushSettings", pb.UpdatePushSettingsRequest(muted_groups=pb.GroupIdList()))
    assert list(cleared.muted_group_ids) == [] and not cleared.previews

    fails(
        ada,
        "UpdatePushSettings",
        pb.UpdatePushSettingsRequest(muted_groups=pb.GroupIdList(group_ids=["nope"])),
        grpc.StatusCode.INVALID_ARGUMENT,
        "validation",
    )


def test_push_calls_need_a_token(stub):
    with pytest.raises(grpc.RpcError) as err:
        stub.GetPushSettings(pb.GetPushSettingsRequest(), timeout=10)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
