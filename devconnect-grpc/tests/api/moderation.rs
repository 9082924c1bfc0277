use std::time::Duration;

use devconnect_grpc::pb;
use devconnect_grpc::pb::moderation_service_client::ModerationServiceClient;
use tonic::transport::Channel;
use tonic::{Code, Request};

use crate::helpers::{TestApp, User, assert_error, authed, end_of, signup, spawn_app};

/// An operator: their token (as `admin token` makes it) and a moderation client.
struct Operator {
    token: String,
    client: ModerationServiceClient<Channel>,
}

impl Operator {
    async fn new(app: &TestApp, name: &str) -> Self {
        let token = app.app.issue_operator_token(name, Duration::from_secs(600)).unwrap();
        Self { token, client: ModerationServiceClient::new(app.channel().await) }
    }

    fn req<T>(&self, message: T) -> Request<T> {
        authed(message, &self.token)
    }

    async fn reports(&mut self, status: pb::ReportStatus) -> Vec<pb::Report> {
        let request = self.req(pb::ListReportsRequest { status: status.into(), after: None, limit: None });
        self.client.list_reports(request).await.unwrap().into_inner().reports
    }

    async fn suspend(&mut self, user: &str, note: &str) -> Result<(), tonic::Status> {
        let request = self.req(pb::SuspendUserRequest { user_id: user.to_owned(), note: note.to_owned() });
        self.client.suspend_user(request).await.map(drop)
    }

    async fn unsuspend(&mut self, user: &str, note: &str) -> Result<(), tonic::Status> {
        let request = self.req(pb::UnsuspendUserRequest { user_id: user.to_owned(), note: note.to_owned() });
        self.client.unsuspend_user(request).await.map(drop)
    }
}

/// `message` with `token`, if any.
fn with<T>(token: Option<&str>, message: T) -> Request<T> {
    match token {
        Some(token) => authed(message, token),
        None => Request::new(message),
    }
}

fn close(id: &str, outcome: pb::ReportStatus, note: &str) -> pb::CloseReportRequest {
    pb::CloseReportRequest { id: id.to_owned(), outcome: outcome.into(), note: note.to_owned() }
}

/// `reporter` reports the user `target`.
async fn report_user(reporter: &mut User, target: &str) -> pb::Report {
    let request = reporter.req(pb::FileReportRequest {
        kind: pb::ReportKind::User.into(),
        target_id: target.to_owned(),
        reason: pb::ReportReason::Spam.into(),
        details: "sells courses".to_owned(),
    });
    reporter.client.file_report(request).await.unwrap().into_inner()
}

#[tokio::test]
async fn an_operator_lists_and_closes_a_report_and_closing_it_again_is_a_conflict() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let (bob, eve) = (app.user("Bob").await, app.user("Eve").await);
    let first = report_user(&mut ada, &bob.id).await;
    let second = report_user(&mut ada, &eve.id).await;
    let mut ops = Operator::new(&app, "ops-ann").await;

    let open = ops.reports(pb::ReportStatus::Open).await;
    assert_eq!(open.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [first.id.as_str(), second.id.as_str()]);
    let page = ops
        .client
        .list_reports(ops.req(pb::ListReportsRequest { status: 0, after: Some(first.id.clone()), limit: Some(1) }))
        .await
        .unwrap()
        .into_inner()
        .reports;
    assert_eq!(page, std::slice::from_ref(&second), "after and limit page through them");
    let shown = ops.client.get_report(ops.req(pb::GetReportRequest { id: first.id.clone() })).await.unwrap();
    assert_eq!(shown.into_inner(), first);

    let closed = ops.client.close_report(ops.req(close(&first.id, pb::ReportStatus::Resolved, " warned "))).await;
    let closed = closed.unwrap().into_inner();
    assert_eq!(closed.status, i32::from(pb::ReportStatus::Resolved));
    let resolution = closed.resolution.unwrap();
    assert_eq!((resolution.by.as_str(), resolution.note.as_str()), ("ops-ann", "warned"));
    assert!(resolution.at.is_some());

    let again = ops.client.close_report(ops.req(close(&first.id, pb::ReportStatus::Dismissed, ""))).await;
    assert_error(again, Code::AlreadyExists, "conflict");
    for outcome in [pb::ReportStatus::Open, pb::ReportStatus::Unspecified] {
        let refused = ops.client.close_report(ops.req(close(&second.id, outcome, ""))).await;
        assert_error(refused, Code::InvalidArgument, "validation");
    }
    let unknown = ops.client.get_report(ops.req(pb::GetReportRequest { id: "f".repeat(24) })).await;
    assert_error(unknown, Code::NotFound, "not_found");

    let ids = |reports: Vec<pb::Report>| reports.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(ops.reports(pb::ReportStatus::Open).await), [second.id.as_str()]);
    assert_eq!(ids(ops.reports(pb::ReportStatus::Resolved).await), [first.id.as_str()]);
    assert!(ops.reports(pb::ReportStatus::Dismissed).await.is_empty());
    assert_eq!(ids(ops.reports(pb::ReportStatus::Unspecified).await), [first.id, second.id], "unspecified is all");
}

#[tokio::test]
async fn a_suspended_users_stream_ends_with_suspended_and_their_calls_fail_until_unsuspended() {
    let app = spawn_app().await;
    let mut bob = app.user("Bob").await;
    let mut events = bob.subscribe(None).await;
    let mut ops = Operator::new(&app, "ops-ann").await;

    ops.suspend(&bob.id, "spam").await.unwrap();
    let end = end_of(&mut events).await;
    assert_eq!(end.code(), Code::Unauthenticated, "{end:?}");
    assert!(end.message().starts_with("suspended: "), "{end:?}");
    let code = end.metadata().get(devconnect_grpc::error::ERROR_CODE_KEY).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(code.as_deref(), Some("suspended"));

    let me = bob.client.get_me(bob.req(pb::GetMeRequest {})).await;
    assert!(me.as_ref().is_err_and(|s| s.message().contains("suspended")), "{me:?}");
    assert_error(me, Code::Unauthenticated, "unauthorized");
    let again = bob.client.subscribe(bob.req(pb::SubscribeRequest { last_message_id: None })).await;
    assert_error(again.map(drop), Code::Unauthenticated, "unauthorized");
    let login = pb::LoginRequest { email_id: "Bob@example.com".to_owned(), password: signup("Bob").password };
    assert_error(bob.client.login(login.clone()).await, Code::Unauthenticated, "unauthorized");
    assert_error(ops.suspend(&bob.id, "").await, Code::AlreadyExists, "conflict");

    ops.unsuspend(&bob.id, "appealed").await.unwrap();
    let me = bob.client.get_me(bob.req(pb::GetMeRequest {})).await.unwrap().into_inner();
    assert_eq!(me.profile.unwrap().id, bob.id, "the old token works again");
    bob.client.login(login).await.unwrap();
    assert_error(ops.unsuspend(&bob.id, "").await, Code::AlreadyExists, "conflict");
    assert_error(ops.suspend(&"f".repeat(24), "").await, Code::NotFound, "not_found");
    assert_error(ops.suspend("nope", "").await, Code::InvalidArgument, "validation");
}

#[tokio::test]
async fn the_audit_log_lists_each_action_in_order_with_its_operator() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let bob = app.user("Bob").await;
    let report = report_user(&mut ada, &bob.id).await;
    let mut ann = Operator::new(&app, "ops-ann").await;
    let mut ben = Operator::new(&app, "ops-ben").await;

    ann.client.close_report(ann.req(close(&report.id, pb::ReportStatus::Dismissed, "not spam"))).await.unwrap();
    ben.suspend(&bob.id, "spam after all").await.unwrap();
    ann.unsuspend(&bob.id, "appealed").await.unwrap();

    let audit = |after: Option<String>, limit: Option<u32>| pb::ListAuditRequest { after, limit };
    let entries = ben.client.list_audit(ben.req(audit(None, None))).await.unwrap().into_inner().entries;
    let seen: Vec<(&str, i32, &str, &str)> =
        entries.iter().map(|e| (e.actor.as_str(), e.action, e.target_id.as_str(), e.note.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("ops-ann", pb::AuditAction::DismissReport.into(), report.id.as_str(), "not spam"),
            ("ops-ben", pb::AuditAction::Suspend.into(), bob.id.as_str(), "spam after all"),
            ("ops-ann", pb::AuditAction::Unsuspend.into(), bob.id.as_str(), "appealed"),
        ]
    );
    let times: Vec<(i64, i32)> = entries.iter().map(|e| e.at.map(|t| (t.seconds, t.nanos)).unwrap()).collect();
    assert!(times.is_sorted(), "{times:?}");
    let rest = ben.client.list_audit(ben.req(audit(Some(entries[0].id.clone()), Some(1)))).await.unwrap();
    assert_eq!(rest.into_inner().entries, [entries[1].clone()]);
    let bad = ben.client.list_audit(ben.req(audit(None, Some(0)))).await;
    assert_error(bad, Code::InvalidArgument, "validation");
}

#[tokio::test]
async fn a_users_token_is_unauthenticated_on_every_moderation_call() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let bob = app.user("Bob").await;
    let report = report_user(&mut ada, &bob.id).await;
    let mut client = ModerationServiceClient::new(app.channel().await);
    for token in [Some(ada.token.as_str()), None, Some("not.a.token")] {
        let list = pb::ListReportsRequest { status: 0, after: None, limit: None };
        assert_error(client.list_reports(with(token, list)).await, Code::Unauthenticated, "unauthorized");
        let get = pb::GetReportRequest { id: report.id.clone() };
        assert_error(client.get_report(with(token, get)).await, Code::Unauthenticated, "unauthorized");
        let closing = close(&report.id, pb::ReportStatus::Dismissed, "");
        assert_error(client.close_report(with(token, closing)).await, Code::Unauthenticated, "unauthorized");
        let suspend = pb::SuspendUserRequest { user_id: bob.id.clone(), note: String::new() };
        assert_error(client.suspend_user(with(token, suspend)).await, Code::Unauthenticated, "unauthorized");
        let unsuspend = pb::UnsuspendUserRequest { user_id: bob.id.clone(), note: String::new() };
        assert_error(client.unsuspend_user(with(token, unsuspend)).await, Code::Unauthenticated, "unauthorized");
        let audit = pb::ListAuditRequest { after: None, limit: None };
        assert_error(client.list_audit(with(token, audit)).await, Code::Unauthenticated, "unauthorized");
    }
    // Nothing happened.
    let mut ops = Operator::new(&app, "ops-ann").await;
    assert_eq!(ops.reports(pb::ReportStatus::Open).await, [report]);
    let entries = ops.client.list_audit(ops.req(pb::ListAuditRequest { after: None, limit: None })).await.unwrap();
    assert!(entries.into_inner().entries.is_empty());
}

#[tokio::test]
async fn an_operators_token_is_unauthenticated_on_user_calls() {
    let app = spawn_app().await;
    let ops = Operator::new(&app, "ops-ann").await;
    let mut client = app.client().await;
    assert_error(client.get_me(ops.req(pb::GetMeRequest {})).await, Code::Unauthenticated, "unauthorized");
    let reports = client.list_my_reports(ops.req(pb::ListMyReportsRequest {})).await;
    assert_error(reports, Code::Unauthenticated, "unauthorized");
    let stream = client.subscribe(ops.req(pb::SubscribeRequest { last_message_id: None })).await;
    assert_error(stream.map(drop), Code::Unauthenticated, "unauthorized");
}
