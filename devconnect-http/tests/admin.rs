//! The `admin` subcommand against a running server on the same store: reports, a
//! suspension or deletion that ends the user's live socket at once, and the audit log.
#![expect(clippy::unwrap_used, reason = "a test fails loudly on any unexpected error")]

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::process::Output;
use std::time::Duration;

use devconnect_client::ProfileChanges;
use devconnect_client::realtime::{self, ServerEvent};
use devconnect_core::{ReportKind, ReportReason};

use helpers::{TestApp, code_of, spawn_app};

/// Runs `devconnect-http [the server's store] admin ARGS`.
fn admin(app: &TestApp, args: &[&str]) -> Output {
    let service = &app.config().service;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_devconnect-http"));
    command.arg("--data-dir").arg(&service.data_dir).arg("admin");
    if let Some(url) = &service.database_url {
        command.env("DEVCONNECT_DATABASE_URL", url);
    } else {
        command.env_remove("DEVCONNECT_DATABASE_URL");
    }
    // The server's secret, as an operator running the command beside it has it.
    command.env("DEVCONNECT_JWT_SECRET", helpers::JWT_SECRET);
    command.args(args).env_remove("DEVCONNECT_OPERATOR").output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "admin failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn failure(output: &Output) -> String {
    assert!(!output.status.success(), "admin should fail: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The code of the `sessionEnded` the server sends `socket` within 10 s.
async fn session_end(socket: &mut realtime::Client) -> String {
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next_event().await {
                Some(ServerEvent::SessionEnded { code, .. }) => return code,
                Some(_) => {}
                None => return "closed without sessionEnded".to_owned(),
            }
        }
    });
    ended.await.unwrap()
}

#[tokio::test]
async fn operators_review_reports_and_suspend_from_the_command_line_while_the_server_runs() {
    let app = spawn_app().await;
    let ((ada, _), (bob, bob_me)) = app.connected_pair().await;
    let bob_id = bob_me.profile.id.to_hex();
    let report = ada.report(ReportKind::User, &bob_id, ReportReason::Spam, "sells courses").await.unwrap();

    let listed = stdout(&admin(&app, &["reports"]));
    assert!(listed.contains(&report.id.to_hex()) && listed.contains("spam"), "{listed}");
    let shown: serde_json::Value =
        serde_json::from_str(&stdout(&admin(&app, &["report", &report.id.to_hex()]))).unwrap();
    assert_eq!(shown["snapshot"]["user"]["_id"], bob_id.as_str(), "{shown}");

    let mut socket = realtime::connect(&app.url, &bob.token().unwrap(), None).await.unwrap();
    let suspended = admin(&app, &["--as", "ops-ann", "suspend", &bob_id, "--note", "spam"]);
    assert!(stdout(&suspended).contains("suspended"));
    assert_eq!(session_end(&mut socket).await, "suspended", "the running server ended the socket");
    assert_eq!(code_of(bob.me().await), "unauthorized");

    assert!(failure(&admin(&app, &["--as", "ops", "suspend", &bob_id])).contains("suspended already"));
    assert!(failure(&admin(&app, &["--as", "ops", "suspend", "0123456789abcdef01234567"])).contains("not found"));
    assert!(failure(&admin(&app, &["--as", "ops", "resolve", "nope"])).contains("id"));
    let resolved = admin(&app, &["--as", "ops-ann", "resolve", &report.id.to_hex(), "--note", "suspended"]);
    assert!(stdout(&resolved).contains("resolved"));
    assert!(failure(&admin(&app, &["--as", "ops", "dismiss", &report.id.to_hex()])).contains("closed already"));
    assert_eq!(ada.my_reports().await.unwrap()[0].status, devconnect_core::ReportStatus::Resolved);

    let audit: serde_json::Value = serde_json::from_str(&stdout(&admin(&app, &["audit", "--format", "json"]))).unwrap();
    let actions: Vec<_> = audit.as_array().unwrap().iter().map(|e| (e["actor"].clone(), e["action"].clone())).collect();
    assert_eq!(actions, [("ops-ann".into(), "suspend".into()), ("ops-ann".into(), "resolve_report".into())]);
    stdout(&admin(&app, &["--as", "ops-ann", "unsuspend", &bob_id]));
    bob.me().await.unwrap();

    // An operator's token for remote tools: signed with the server's secret (so only its
    // kind keeps it from passing as a user's token).
    let token = stdout(&admin(&app, &["--as", "ops-ann", "token", "--ttl-minutes", "5"]));
    assert_eq!(code_of(app.client_with(token.trim()).me().await), "unauthorized");
    assert!(failure(&admin(&app, &["--as", "ops", "token", "--ttl-minutes", "100000"])).contains("ttl"));
}

#[tokio::test]
async fn operators_delete_an_account_with_its_photo_while_the_server_runs() {
    let app = spawn_app().await;
    let ((ada, _), (bob, bob_me)) = app.connected_pair().await;
    let bob_id = bob_me.profile.id.to_hex();
    let changes = ProfileChanges { photo: Some((helpers::png(8, 8), "me.png".into())), ..Default::default() };
    let photo = bob.edit_profile(&changes).await.unwrap().profile.photo_url.unwrap();
    let photo_url = app.at(reqwest::Url::parse(&photo).unwrap().path());
    assert_eq!(reqwest::get(&photo_url).await.unwrap().status(), 200);

    let mut socket = realtime::connect(&app.url, &bob.token().unwrap(), None).await.unwrap();
    assert!(stdout(&admin(&app, &["--as", "ops-ann", "delete", &bob_id, "--note", "fraud"])).contains("deleted"));
    assert_eq!(session_end(&mut socket).await, "account_deleted", "the running server ended the socket");
    assert_eq!(code_of(bob.me().await), "unauthorized");
    assert_eq!(reqwest::get(&photo_url).await.unwrap().status(), 404, "the photo is gone");
    assert!(ada.connections().await.unwrap().is_empty());
    assert!(failure(&admin(&app, &["--as", "ops", "delete", &bob_id])).contains("deleted already"));
    assert!(failure(&admin(&app, &["--as", "ops", "delete", "0123456789abcdef01234567"])).contains("not found"));
    let audit: serde_json::Value = serde_json::from_str(&stdout(&admin(&app, &["audit", "--format", "json"]))).unwrap();
    assert_eq!(audit[0]["action"], "delete_user", "{audit}");
    assert_eq!(audit[0]["note"], "fraud", "{audit}");
}
