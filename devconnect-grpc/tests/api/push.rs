use devconnect_grpc::pb;
use tonic::Code;

use crate::helpers::{Options, User, assert_error, spawn_app, spawn_with};

/// RFC 8291's example subscription keys: a real P-256 point and a 16-byte secret.
const P256DH: &str = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
/// A push service's URL: accepted without `--push-allow-loopback`, and nothing is sent
/// to it unless its user is offline when something happens to them.
const ENDPOINT: &str = "https://push.example.com/send/abc";

fn subscription(endpoint: &str, p256dh: &str, auth: &str) -> pb::AddPushSubscriptionRequest {
    let keys = pb::PushKeys { p256dh: p256dh.to_owned(), auth: auth.to_owned() };
    pb::AddPushSubscriptionRequest { endpoint: endpoint.to_owned(), keys: Some(keys) }
}

fn remove(endpoint: &str) -> pb::RemovePushSubscriptionRequest {
    pb::RemovePushSubscriptionRequest { endpoint: endpoint.to_owned() }
}

async fn settings(user: &mut User) -> pb::PushSettings {
    user.client.get_push_settings(user.req(pb::GetPushSettingsRequest {})).await.unwrap().into_inner()
}

#[tokio::test]
async fn the_vapid_key_is_an_uncompressed_p256_point_and_stays_the_same() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let key = ada.client.get_vapid_public_key(ada.req(pb::GetVapidPublicKeyRequest {})).await.unwrap().into_inner();
    // 65 bytes in base64url without padding; the leading 0x04 of an uncompressed point reads as `B`.
    assert_eq!(key.public_key.len(), 87, "{}", key.public_key);
    assert!(key.public_key.starts_with('B'), "{}", key.public_key);
    assert!(key.public_key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let again = ada.client.get_vapid_public_key(ada.req(pb::GetVapidPublicKeyRequest {})).await.unwrap().into_inner();
    assert_eq!(again.public_key, key.public_key);
    let anonymous = ada.client.get_vapid_public_key(pb::GetVapidPublicKeyRequest {}).await;
    assert_error(anonymous, Code::Unauthenticated, "unauthorized");
}

#[tokio::test]
async fn a_subscription_with_valid_keys_is_registered_and_removed_once() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    ada.client.add_push_subscription(ada.req(subscription(ENDPOINT, P256DH, AUTH))).await.unwrap();
    // Registering the same endpoint again replaces it.
    let padded = format!("{AUTH}==");
    ada.client.add_push_subscription(ada.req(subscription(ENDPOINT, P256DH, &padded))).await.unwrap();
    ada.client.remove_push_subscription(ada.req(remove(ENDPOINT))).await.unwrap();
    assert_error(ada.client.remove_push_subscription(ada.req(remove(ENDPOINT))).await, Code::NotFound, "not_found");
}

#[tokio::test]
async fn only_the_owner_removes_a_subscription() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let mut bob = app.user("Bob").await;
    ada.client.add_push_subscription(ada.req(subscription(ENDPOINT, P256DH, AUTH))).await.unwrap();
    assert_error(bob.client.remove_push_subscription(bob.req(remove(ENDPOINT))).await, Code::NotFound, "not_found");
    ada.client.remove_push_subscription(ada.req(remove(ENDPOINT))).await.unwrap();
}

#[tokio::test]
async fn logging_out_removes_the_subscriptions_of_that_token() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    ada.client.add_push_subscription(ada.req(subscription(ENDPOINT, P256DH, AUTH))).await.unwrap();
    ada.client.logout(ada.req(pb::LogoutRequest {})).await.unwrap();
    let login = pb::LoginRequest { email_id: "Ada@example.com".to_owned(), password: "Str0ng!pass".to_owned() };
    ada.token = ada.client.login(login).await.unwrap().into_inner().token;
    assert_error(ada.client.remove_push_subscription(ada.req(remove(ENDPOINT))).await, Code::NotFound, "not_found");
}

#[tokio::test]
async fn malformed_subscriptions_are_invalid_arguments() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let off_curve = format!("BA{}", "A".repeat(85));
    let cases = [
        subscription("http://push.example.com/x", P256DH, AUTH),
        subscription("https://10.0.0.8/x", P256DH, AUTH),
        subscription("http://127.0.0.1:9/x", P256DH, AUTH),
        subscription("not a url", P256DH, AUTH),
        subscription(ENDPOINT, &P256DH[..80], AUTH),
        subscription(ENDPOINT, &format!("{P256DH}AAAA"), AUTH),
        subscription(ENDPOINT, &off_curve, AUTH),
        subscription(ENDPOINT, P256DH, "BTBZMqHH6r4Tts7J"),
        subscription(ENDPOINT, P256DH, &"A".repeat(10_000)),
        subscription(ENDPOINT, P256DH, "BTBZMqHH6r4Tts7J+aSIgg"),
        pb::AddPushSubscriptionRequest { endpoint: ENDPOINT.to_owned(), keys: None },
    ];
    for case in cases {
        let shown = format!("{case:?}");
        let status = ada.client.add_push_subscription(ada.req(case)).await.expect_err(&shown);
        assert_eq!(status.code(), Code::InvalidArgument, "{shown}: {status:?}");
        assert!(status.message().starts_with("validation: "), "{shown}: {status:?}");
    }
    let anonymous = ada.client.add_push_subscription(subscription(ENDPOINT, P256DH, AUTH)).await;
    assert_error(anonymous, Code::Unauthenticated, "unauthorized");
}

#[tokio::test]
async fn push_settings_start_all_on_and_change_only_where_asked() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let defaults = settings(&mut ada).await;
    assert_eq!((defaults.messages, defaults.requests, defaults.groups, defaults.previews), (true, true, true, true));
    assert!(defaults.muted_group_ids.is_empty());

    let group =
        ada.client.create_group(ada.req(pb::CreateGroupRequest { name: "Rustaceans".into(), ..Default::default() }));
    let group = group.await.unwrap().into_inner().id;
    let change = pb::UpdatePushSettingsRequest {
        previews: Some(false),
        muted_groups: Some(pb::GroupIdList { group_ids: vec![group.clone(), group.clone()] }),
        ..Default::default()
    };
    let changed = ada.client.update_push_settings(ada.req(change)).await.unwrap().into_inner();
    assert_eq!((changed.messages, changed.previews), (true, false));
    assert_eq!(changed.muted_group_ids, std::slice::from_ref(&group), "a group muted twice is muted once");
    assert_eq!(settings(&mut ada).await, changed, "the change is kept");

    let messages_off = pb::UpdatePushSettingsRequest { messages: Some(false), ..Default::default() };
    let now = ada.client.update_push_settings(ada.req(messages_off)).await.unwrap().into_inner();
    assert_eq!((now.messages, now.requests, now.previews), (false, true, false));
    assert_eq!(now.muted_group_ids, [group]);

    let unmute = pb::UpdatePushSettingsRequest { muted_groups: Some(pb::GroupIdList::default()), ..Default::default() };
    assert!(ada.client.update_push_settings(ada.req(unmute)).await.unwrap().into_inner().muted_group_ids.is_empty());

    // Another user's settings are their own.
    let mut bob = app.user("Bob").await;
    assert!(settings(&mut bob).await.messages);
}

#[tokio::test]
async fn a_malformed_or_oversized_settings_change_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let bad = pb::UpdatePushSettingsRequest {
        messages: Some(false),
        muted_groups: Some(pb::GroupIdList { group_ids: vec!["nope".into()] }),
        ..Default::default()
    };
    assert_error(ada.client.update_push_settings(ada.req(bad)).await, Code::InvalidArgument, "validation");
    let many: Vec<String> = (0..1001).map(|i| format!("{i:024x}")).collect();
    let too_many = pb::UpdatePushSettingsRequest {
        messages: Some(false),
        muted_groups: Some(pb::GroupIdList { group_ids: many }),
        ..Default::default()
    };
    assert_error(ada.client.update_push_settings(ada.req(too_many)).await, Code::InvalidArgument, "validation");
    assert!(settings(&mut ada).await.messages);
    let anonymous = ada.client.get_push_settings(pb::GetPushSettingsRequest {}).await;
    assert_error(anonymous, Code::Unauthenticated, "unauthorized");
}

#[tokio::test]
async fn with_push_turned_off_every_push_call_is_unavailable() {
    let app = spawn_with(Options { disable_push: true, ..Options::default() }).await;
    let mut ada = app.user("Ada").await;
    let key = ada.client.get_vapid_public_key(ada.req(pb::GetVapidPublicKeyRequest {})).await;
    assert_error(key, Code::Unavailable, "unavailable");
    let add = ada.client.add_push_subscription(ada.req(subscription(ENDPOINT, P256DH, AUTH))).await;
    assert_error(add, Code::Unavailable, "unavailable");
    assert_error(
        ada.client.remove_push_subscription(ada.req(remove(ENDPOINT))).await,
        Code::Unavailable,
        "unavailable",
    );
    let get = ada.client.get_push_settings(ada.req(pb::GetPushSettingsRequest {})).await;
    assert_error(get, Code::Unavailable, "unavailable");
    let update = ada.client.update_push_settings(ada.req(pb::UpdatePushSettingsRequest::default())).await;
    assert_error(update, Code::Unavailable, "unavailable");
}
