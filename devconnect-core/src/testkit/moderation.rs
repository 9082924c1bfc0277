//! The operators' side: reviewing reports, suspensions (login, tokens, live sessions on
//! every instance, listings), and the audit log.

use std::sync::Arc;
use std::time::Duration;

use super::behaviours;
use super::fixtures::{PASSWORD, check, expect_code, service, user};
use crate::auth::Peer;
use crate::groups::{NewGroup, Visibility};
use crate::moderation::AuditAction;
use crate::realtime::EndReason;
use crate::safety::{NewReport, ReportStatus};
use crate::{Error, FeedQuery, ReportId, UserId};

behaviours![
    pub async fn operators_review_reports_once_and_every_action_is_audited(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, _)) = (user(&app, "Ada").await?, user(&app, "Bob").await?);
        let new = |target: UserId| NewReport {
            kind: "user".into(),
            target_id: target.to_hex(),
            reason: "spam".into(),
            details: String::new(),
        };
        let first = app.report(ada, new(bob)).await?;
        let second = app.report(bob, new(ada)).await?;
        let open: Vec<ReportId> =
            app.reports(Some(ReportStatus::Open), None, None).await?.iter().map(|r| r.id).collect();
        check(open == [first.id, second.id], "open reports, oldest first")?;
        let after: Vec<ReportId> = app.reports(None, Some(first.id), None).await?.iter().map(|r| r.id).collect();
        check(after == [second.id], "paged after a report")?;
        let closed = app.close_report("ops-ann", first.id, ReportStatus::Resolved, " warned them ").await?;
        let resolution = closed.resolution.clone().ok_or_else(|| Error::internal("no resolution"))?;
        check(closed.status == ReportStatus::Resolved && resolution.by == "ops-ann", "resolved by")?;
        check(resolution.note == "warned them", "with the note")?;
        check(app.report_by_id(first.id).await?.status == ReportStatus::Resolved, "stored")?;
        expect_code(app.close_report("ops-ann", first.id, ReportStatus::Dismissed, "").await, "conflict", "twice")?;
        expect_code(app.close_report("ops", ReportId::new(), ReportStatus::Dismissed, "").await, "not_found", "?")?;
        expect_code(app.close_report(" ", second.id, ReportStatus::Dismissed, "").await, "validation", "no actor")?;
        expect_code(app.close_report("ops", second.id, ReportStatus::Open, "").await, "validation", "open")?;
        app.close_report("ops-ben", second.id, ReportStatus::Dismissed, "").await?;
        check(app.reports(Some(ReportStatus::Open), None, None).await?.is_empty(), "none open")?;
        // The reporter sees where their report stands.
        check(app.my_reports(ada).await?[0].status == ReportStatus::Resolved, "the reporter sees it")?;
        app.suspend("ops-ann", bob, "spam").await?;
        let audit = app.audit(None, None).await?;
        let actions: Vec<_> = audit.iter().map(|e| (e.actor.as_str(), e.action, e.target_id.clone())).collect();
        let expected = vec![
            ("ops-ann", AuditAction::ResolveReport, first.id.to_hex()),
            ("ops-ben", AuditAction::DismissReport, second.id.to_hex()),
            ("ops-ann", AuditAction::Suspend, bob.to_hex()),
        ];
        check(actions == expected, &format!("the audit log, in order: {actions:?}"))?;
        check(app.audit(Some(audit[1].id), None).await?.len() == 1, "paged")
    }

    pub async fn a_suspended_user_cannot_log_in_and_vanishes_from_listings(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let ((ada, _), (bob, bob_token)) = (user(&app, "Ada").await?, user(&app, "Bob").await?);
        let new =
            NewGroup { name: "Rust".into(), description: String::new(), visibility: Visibility::Public, tags: vec![] };
        let group = app.create_group(ada, new).await?.id;
        app.join_group(bob, group).await?;
        expect_code(app.suspend("ops", UserId::new(), "").await, "not_found", "unknown user")?;
        app.suspend("ops", bob, "spam").await?;
        expect_code(app.suspend("ops", bob, "").await, "conflict", "suspended already")?;
        match app.login("bob@example.com", PASSWORD, Peer::Local).await {
            Err(Error::Unauthorized(why)) if why.contains("suspended") => {}
            other => return Err(Error::internal(format!("a suspended login is refused, got {other:?}"))),
        }
        expect_code(app.login("bob@example.com", "Wr0ng!pass", Peer::Local).await, "unauthorized", "bad password")?;
        expect_code(app.authenticate(&bob_token).await, "unauthorized", "tokens stop working")?;
        let feed = app.feed(ada, &FeedQuery::default()).await?;
        check(feed.profiles.iter().all(|p| p.id != bob), "not in the feed")?;
        check(app.group_members(ada, group).await?.iter().all(|m| m.user_id != bob), "not in member lists")?;
        app.unsuspend("ops", bob, "appeal granted").await?;
        expect_code(app.unsuspend("ops", bob, "").await, "conflict", "not suspended")?;
        app.authenticate(&bob_token).await?;
        app.login("bob@example.com", PASSWORD, Peer::Local).await?;
        check(app.group_members(ada, group).await?.iter().any(|m| m.user_id == bob), "listed again")
    }

    pub async fn a_suspension_ends_live_sessions_on_every_instance(store: Arc<dyn Store>) -> Result<()> {
        // Two services on one store: two instances, or a server and the `admin` command.
        let (here, there) = (service(Arc::clone(&store))?, service(store)?);
        let (bob, token) = user(&here, "Bob").await?;
        let session = here.authenticate(&token).await?;
        let mut live_here = here.subscribe_session(&session, None).await?;
        let mut live_there = there.subscribe_session(&session, None).await?;
        here.suspend("ops", bob, "").await?;
        for (live, which) in [(&mut live_here, "here"), (&mut live_there, "there")] {
            let ended =
                tokio::time::timeout(Duration::from_secs(10), async { while live.next().await.is_some() {} }).await;
            check(ended.is_ok(), &format!("the session {which} ends"))?;
            check(live.end_reason() == Some(EndReason::Suspended), &format!("as suspended, {which}"))?;
        }
        expect_code(there.subscribe_session(&session, None).await, "unauthorized", "no new session")
    }
];
