//! Push notifications, end to end through the push service stand-in: who gets one and
//! who does not, what it says, coalescing, the settings, gone and throttled
//! subscriptions, and the rules of registering.

use std::sync::Arc;
use std::time::Duration;

use super::behaviours;
use super::fixtures::{check, connect, expect_code, say, service_with_push, user};
use super::push_service::{Answer, Delivered, PushService};
use crate::auth::{PasswordChange, Peer};
use crate::chat::NewMessage;
use crate::connection::SendStatus;
use crate::groups::{NewGroup, Visibility};
use crate::{DevConnect, PushConfig, PushKind, PushSettingsPatch, PushSubscription, Result, Store};

/// How long a test waits for a notification that should come.
const WAIT: Duration = Duration::from_secs(10);

/// A push-enabled service over `store`, its notifications waiting `coalesce`, and a
/// stand-in push service; the directory holds the VAPID key.
async fn push_app(store: Arc<dyn Store>, coalesce: Duration) -> Result<(DevConnect, PushService, tempfile::TempDir)> {
    let dir = tempfile::tempdir().map_err(crate::Error::internal)?;
    let config = PushConfig {
        vapid_key_file: Some(dir.path().join("vapid.pk8")),
        allow_loopback_http: true,
        coalesce,
        poll: Duration::from_millis(50),
        ..PushConfig::new("mailto:ops@devconnect.test")
    };
    let app = service_with_push(store, config)?;
    let service = PushService::start().await.map_err(crate::Error::internal)?;
    Ok((app, service, dir))
}

/// Registers a new browser subscription of the user with `token`.
async fn subscribe(app: &DevConnect, service: &PushService, token: &str) -> Result<PushSubscription> {
    let subscription = service.subscribe(&app.vapid_public_key()?);
    app.add_push_subscription(&app.authenticate(token).await?, &subscription).await?;
    Ok(subscription)
}

/// Waits for the `n`th notification and checks nothing was refused.
async fn delivered(service: &PushService, n: usize) -> Result<Vec<Delivered>> {
    let got = service.wait_for(n, WAIT).await;
    check(service.problems().is_empty(), &format!("the push service refused: {:?}", service.problems()))?;
    check(got.len() == n, &format!("expected {n} notifications, got {}: {got:?}", got.len()))?;
    Ok(got)
}

behaviours![
    /// An offline connection gets an encrypted, signed push with who wrote and the
    /// start of the text; someone online gets none; requests and acceptances too.
    pub async fn offline_people_are_pushed_and_online_people_are_not(store: Arc<dyn Store>) -> Result<()> {
        let (app, service, _dir) = push_app(store, Duration::from_millis(100)).await?;
        let ((ada, _), (bob, bob_token), (cy, cy_token)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Cy").await?);
        let bob_browser = subscribe(&app, &service, &bob_token).await?;
        subscribe(&app, &service, &cy_token).await?;

        // A request to Bob while he is offline.
        let request = app.send_request(ada, bob, SendStatus::Interested, Some("Loved your talk on borrowck")).await?;
        let got = delivered(&service, 1).await?;
        let n = &got[0].notification;
        check(got[0].endpoint == bob_browser.endpoint, "to Bob's browser")?;
        check(n.kind == PushKind::Request && n.request_id == Some(request.id), "a request")?;
        check(n.sender_id == ada && n.sender_name == "Ada Tester", "from Ada, by name")?;
        check(n.preview.as_deref() == Some("Loved your talk on borrowck"), "the note as preview")?;
        check(got[0].topic.as_deref() == Some(format!("r{ada}").as_str()) && got[0].ttl > 0, "topic and TTL")?;

        // Bob accepts while Ada is offline without a subscription: nothing to send.
        app.review_request(bob, request.id, crate::ReviewStatus::Accepted).await?;
        // A message to Bob while offline: pushed with a preview cut to 100 characters.
        let long = format!("{} tail", "x".repeat(120));
        let message = say(&app, ada, bob, &long).await?;
        let got = delivered(&service, 2).await?;
        let n = &got[1].notification;
        check(n.kind == PushKind::Message && n.message_id == Some(message.id) && n.count == 1, "the message")?;
        check(n.preview.as_ref().is_some_and(|p| p.chars().count() == 100), "a preview of 100 characters")?;
        check(got[1].urgency.as_deref() == Some("high"), "messages are urgent")?;

        // Online: seen live, never pushed. Cy's acceptance of Ada then shows the queue
        // moved on past Bob's message.
        let live = app.subscribe(bob).await?;
        say(&app, ada, bob, "are you there?").await?;
        let to_cy = app.send_request(cy, ada, SendStatus::Interested, None).await?;
        subscribe(&app, &service, &app.login("ada@example.com", super::PASSWORD, Peer::Local).await?.token).await?;
        app.review_request(ada, to_cy.id, crate::ReviewStatus::Accepted).await?;
        let got = delivered(&service, 3).await?;
        check(got[2].notification.kind == PushKind::Accepted, "Cy hears Ada accepted")?;
        check(got[2].notification.sender_id == ada && got[2].endpoint != bob_browser.endpoint, "to Cy")?;
        drop(live);
        Ok(())
    }

    /// A burst from one conversation is one notification counting the burst; group
    /// messages are pushed to offline members but the sender.
    pub async fn a_burst_is_one_notification_and_groups_push_their_members(store: Arc<dyn Store>) -> Result<()> {
        let (app, service, _dir) = push_app(store, Duration::from_millis(1500)).await?;
        let ((ada, ada_token), (bob, bob_token)) = (user(&app, "Ada").await?, user(&app, "Bob").await?);
        connect(&app, ada, bob).await?;
        subscribe(&app, &service, &bob_token).await?;
        subscribe(&app, &service, &ada_token).await?;
        for i in 0..20 {
            say(&app, ada, bob, &format!("line {i}")).await?;
        }
        let got = delivered(&service, 1).await?;
        let n = &got[0].notification;
        check(
            n.count == 20 && n.preview.as_deref() == Some("line 19"),
            &format!("one for the burst, the newest: {n:?}"),
        )?;

        let group = app
            .create_group(
                ada,
                NewGroup {
                    name: "Rustaceans".to_owned(),
                    description: String::new(),
                    visibility: Visibility::Public,
                    tags: Vec::new(),
                },
            )
            .await?;
        app.join_group(bob, group.id).await?;
        let text = NewMessage { text: "meetup tonight".to_owned(), ..NewMessage::default() };
        app.send_group_message(ada, group.id, text).await?;
        let got = delivered(&service, 2).await?;
        let n = &got[1].notification;
        check(n.kind == PushKind::GroupMessage && n.group_id == Some(group.id), "a group message")?;
        check(n.sender_id == ada && got[1].topic.as_deref() == Some(format!("g{}", group.id).as_str()), "per group")?;
        Ok(())
    }

    /// Kinds turned off, previews off, and muted groups.
    pub async fn settings_choose_what_is_pushed(store: Arc<dyn Store>) -> Result<()> {
        let (app, service, _dir) = push_app(store, Duration::from_millis(100)).await?;
        let ((ada, _), (bob, bob_token), (cy, _)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Cy").await?);
        connect(&app, ada, bob).await?;
        subscribe(&app, &service, &bob_token).await?;
        let defaults = app.push_settings(bob).await?;
        check(defaults.messages && defaults.requests && defaults.groups && defaults.previews, "all on at first")?;

        let group = app
            .create_group(
                ada,
                NewGroup {
                    name: "Muted".to_owned(),
                    description: String::new(),
                    visibility: Visibility::Public,
                    tags: Vec::new(),
                },
            )
            .await?;
        app.join_group(bob, group.id).await?;
        let patch = PushSettingsPatch {
            messages: Some(false),
            previews: Some(false),
            muted_groups: Some(vec![group.id, group.id]),
            ..PushSettingsPatch::default()
        };
        let settings = app.update_push_settings(bob, patch).await?;
        check(!settings.messages && settings.requests && !settings.previews, "what was changed")?;
        check(settings.muted_groups == vec![group.id], "muted once")?;
        check(app.push_settings(bob).await? == settings, "kept")?;
        let too_many = PushSettingsPatch {
            muted_groups: Some((0..=crate::push::MAX_MUTED_GROUPS).map(|_| crate::GroupId::new()).collect()),
            ..PushSettingsPatch::default()
        };
        expect_code(app.update_push_settings(bob, too_many).await, "validation", "too many muted groups")?;

        say(&app, ada, bob, "not pushed: messages are off").await?;
        let text = NewMessage { text: "not pushed: muted".to_owned(), ..NewMessage::default() };
        app.send_group_message(ada, group.id, text).await?;
        // Requests are still on, without previews; it comes after the two above.
        app.send_request(cy, bob, SendStatus::Interested, Some("a secret note")).await?;
        let got = delivered(&service, 1).await?;
        let n = &got[0].notification;
        check(n.kind == PushKind::Request && n.sender_id == cy && n.preview.is_none(), &format!("{n:?}"))?;
        Ok(())
    }

    /// 410 removes a subscription; 429 with Retry-After is tried again after it.
    pub async fn gone_subscriptions_go_and_throttled_pushes_are_retried(store: Arc<dyn Store>) -> Result<()> {
        let (app, service, _dir) = push_app(store, Duration::from_millis(50)).await?;
        let ((ada, _), (bob, bob_token), (cy, cy_token)) =
            (user(&app, "Ada").await?, user(&app, "Bob").await?, user(&app, "Cy").await?);
        let gone = subscribe(&app, &service, &bob_token).await?;
        service.script(&gone, [Answer { status: 410, retry_after: None }]);
        let throttled = subscribe(&app, &service, &cy_token).await?;
        service.script(&throttled, [Answer { status: 429, retry_after: Some("1".to_owned()) }]);

        app.send_request(ada, bob, SendStatus::Interested, None).await?;
        app.send_request(ada, cy, SendStatus::Interested, None).await?;
        let got = delivered(&service, 1).await?;
        check(got[0].endpoint == throttled.endpoint, "Cy's push arrived on the retry")?;
        let answers: Vec<u16> = service.answered().iter().map(|(_, status)| *status).collect();
        check(answers.contains(&410) && answers.contains(&429), &format!("{answers:?}"))?;
        check(app.store_push_subscriptions(bob).await?.is_empty(), "Bob's gone subscription was removed")?;
        check(app.store_push_subscriptions(cy).await?.len() == 1, "Cy's stays")?;
        Ok(())
    }

    /// Registering: validation, at most ten per user (the oldest go), an endpoint
    /// moving to whoever registers it last, and removal by logout, password change and
    /// on request.
    pub async fn subscriptions_are_validated_capped_and_removed(store: Arc<dyn Store>) -> Result<()> {
        let (app, service, _dir) = push_app(store, Duration::from_millis(100)).await?;
        let ((ada, ada_token), (bob, bob_token)) = (user(&app, "Ada").await?, user(&app, "Bob").await?);
        let session = app.authenticate(&ada_token).await?;
        let good = service.subscribe(&app.vapid_public_key()?);
        let with = |endpoint: &str, p256dh: &str, auth: &str| {
            let mut s = good.clone();
            s.endpoint = endpoint.to_owned();
            s.keys.p256dh = p256dh.to_owned();
            s.keys.auth = auth.to_owned();
            s
        };
        let (p, a) = (good.keys.p256dh.clone(), good.keys.auth.clone());
        // The same x with another y: not on the curve (the other valid y is p - y).
        let off_curve = {
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let mut point = b64.decode(&p).map_err(crate::Error::internal)?;
            if let Some(last) = point.last_mut() {
                *last ^= 1;
            }
            b64.encode(point)
        };
        for (bad, what) in [
            (with("ftp://push.example.com/x", &p, &a), "not http(s)"),
            (with("http://push.example.com/x", &p, &a), "plain http off loopback"),
            (with("https://10.1.2.3/x", &p, &a), "an address literal"),
            (with(&format!("https://push.example.com/{}", "x".repeat(3000)), &p, &a), "an oversized endpoint"),
            (with(&good.endpoint, &p[..40], &a), "a short key"),
            (with(&good.endpoint, &"A".repeat(100_000), &a), "an oversized key"),
            (with(&good.endpoint, &p, "AAAA"), "a short auth secret"),
            (with(&good.endpoint, &off_curve, &a), "a point off the curve"),
        ] {
            expect_code(app.add_push_subscription(&session, &bad).await, "validation", what)?;
        }
        let mut mine = Vec::new();
        for _ in 0..11 {
            mine.push(subscribe(&app, &service, &ada_token).await?);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let kept: Vec<String> = app.store_push_subscriptions(ada).await?.into_iter().map(|s| s.endpoint).collect();
        let expected: Vec<String> = mine[1..].iter().map(|s| s.endpoint.clone()).collect();
        check(kept == expected, "the ten newest are kept")?;

        // Bob registers a browser Ada used: it is his now.
        app.add_push_subscription(&app.authenticate(&bob_token).await?, &mine[10]).await?;
        check(app.store_push_subscriptions(ada).await?.len() == 9, "gone from Ada")?;
        check(app.store_push_subscriptions(bob).await?.len() == 1, "Bob's")?;
        expect_code(app.remove_push_subscription(ada, &mine[10].endpoint).await, "not_found", "not Ada's")?;
        app.remove_push_subscription(ada, &mine[9].endpoint).await?;
        check(app.store_push_subscriptions(ada).await?.len() == 8, "removed on request")?;

        // Logging out a token removes what it registered; a password change, all.
        let other = app.login("ada@example.com", super::PASSWORD, Peer::Local).await?.token;
        subscribe(&app, &service, &other).await?;
        app.logout(&app.authenticate(&other).await?).await?;
        check(app.store_push_subscriptions(ada).await?.len() == 8, "logout removed its own")?;
        let change = PasswordChange {
            old_password: super::PASSWORD.to_owned(),
            new_password: "N3w!password".to_owned(),
            confirm_password: "N3w!password".to_owned(),
        };
        app.change_password(&session, change).await?;
        check(app.store_push_subscriptions(ada).await?.is_empty(), "a password change removed all")?;
        Ok(())
    }
];

impl DevConnect {
    /// The store's subscriptions of `user` (tests look behind the service).
    async fn store_push_subscriptions(&self, user: crate::UserId) -> Result<Vec<crate::model::PushSubscriptionRecord>> {
        self.inner.store.push_subscriptions(user).await
    }
}
