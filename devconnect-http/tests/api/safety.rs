//! Blocks and reports through the REST routes, as a client sees them.

use devconnect_core::{ReportKind, ReportReason, ReportStatus, Reported, SendStatus};

use crate::helpers::{PASSWORD, account, code_of, error_of, spawn_app};

#[tokio::test]
async fn a_block_closes_every_door_both_ways_until_lifted() {
    let app = spawn_app().await;
    let ((ada, ada_me), (bob, bob_me)) = app.connected_pair().await;
    let (ada_id, bob_id) = (ada_me.profile.id, bob_me.profile.id);
    bob.send_message(ada_id, "hi", None).await.unwrap();

    ada.block(bob_id).await.unwrap();
    assert!(ada.connections().await.unwrap().is_empty(), "the connection is gone");
    assert_eq!(code_of(bob.send_message(ada_id, "still there?", None).await), "forbidden");
    assert_eq!(code_of(bob.profile(ada_id).await), "not_found", "the blocked see no profile");
    assert_eq!(ada.profile(bob_id).await.unwrap().id, bob_id, "the blocker does");
    assert_eq!(code_of(bob.send_request(SendStatus::Interested, ada_id, None).await), "not_found");
    assert_eq!(code_of(ada.send_request(SendStatus::Interested, bob_id, None).await), "forbidden");
    let feed = bob.feed(1, 50, &[]).await.unwrap();
    assert!(feed.profiles.iter().all(|p| p.id != ada_id), "not in the feed");
    let blocked = ada.blocked_users().await.unwrap();
    assert_eq!(blocked.iter().map(|b| b.user.id).collect::<Vec<_>>(), [bob_id]);
    assert_eq!(code_of(ada.block(ada_id).await), "validation");

    ada.unblock(bob_id).await.unwrap();
    assert_eq!(code_of(ada.unblock(bob_id).await), "not_found");
    assert!(ada.blocked_users().await.unwrap().is_empty());
    assert_eq!(bob.profile(ada_id).await.unwrap().id, ada_id);
    bob.send_request(SendStatus::Interested, ada_id, Some("let's try again")).await.unwrap();
}

#[tokio::test]
async fn a_reported_message_keeps_its_evidence_and_is_reported_once() {
    let app = spawn_app().await;
    let ((ada, ada_me), (bob, bob_me)) = app.connected_pair().await;
    let spam = bob.send_message(ada_me.profile.id, "buy my course", None).await.unwrap().message;
    let id = spam.id.to_hex();
    let report = ada.report(ReportKind::Message, &id, ReportReason::Spam, "again").await.unwrap();
    assert_eq!(report.status, ReportStatus::Open);
    assert!(matches!(&report.snapshot, Reported::Message { message } if message.id() == spam.id));
    assert_eq!(code_of(ada.report(ReportKind::Message, &id, ReportReason::Other, "").await), "conflict");
    let user = bob_me.profile.id.to_hex();
    let profile = ada.report(ReportKind::User, &user, ReportReason::Impersonation, "").await.unwrap();
    assert_eq!(ada.my_reports().await.unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), [profile.id, report.id]);
    assert_eq!(code_of(ada.report(ReportKind::Group, &user, ReportReason::Spam, "").await), "not_found");
    assert_eq!(code_of(ada.report(ReportKind::User, "nope", ReportReason::Spam, "").await), "validation");
    let export = ada.export_account().await.unwrap();
    assert_eq!(export.reports.len(), 2, "the export holds my reports");
    assert!(export.messages.is_empty(), "and only the messages I sent");
}

#[tokio::test]
async fn a_deleted_account_is_gone_but_its_messages_stay_with_the_other_party() {
    let app = spawn_app().await;
    let ((ada, ada_me), (bob, bob_me)) = app.connected_pair().await;
    let (ada_id, bob_id) = (ada_me.profile.id, bob_me.profile.id);
    ada.send_message(bob_id, "bye for now", None).await.unwrap();
    let token = ada.token().unwrap();

    let stray =
        app.raw(reqwest::Method::DELETE, "/profile", &ada).json(&serde_json::json!({"password": PASSWORD, "x": 1}));
    assert_eq!(error_of(stray.send().await.unwrap()).await, (400, "validation".to_owned()), "unknown fields");
    assert_eq!(code_of(ada.delete_account("Wr0ng!pass").await), "validation", "not my password");
    ada.delete_account(PASSWORD).await.unwrap();

    assert_eq!(code_of(app.client_with(&token).me().await), "unauthorized", "the token is dead");
    assert_eq!(code_of(app.client().login(&ada_me.email, PASSWORD).await), "unauthorized", "no login");
    assert_eq!(code_of(bob.profile(ada_id).await), "not_found");
    assert!(bob.connections().await.unwrap().is_empty());
    let history = bob.history(ada_id, None, None).await.unwrap();
    assert_eq!(history.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["bye for now"]);
    let partners = bob.chat_partners().await.unwrap();
    let gone = partners.iter().find(|p| p.profile.id == ada_id).map(|p| &p.profile).unwrap();
    assert!(gone.deleted && gone.first_name == "Deleted user" && gone.skills.is_empty(), "{gone:?}");
    // The address can make a new account.
    app.client().signup(&account_with_email("Ada", &ada_me.email)).await.unwrap();
}

fn account_with_email(name: &str, email: &str) -> devconnect_client::NewAccount {
    devconnect_client::NewAccount { email: email.to_owned(), ..account(name) }
}
