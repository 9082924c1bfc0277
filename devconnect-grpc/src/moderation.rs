//! The operators' service (`ModerationService`, `proto/devconnect/v1/moderation.proto`):
//! each RPC authenticates an operator's token, makes one core call as that operator,
//! and encodes the result. A user's token is refused here as the core refuses it
//! (`UNAUTHENTICATED`), as an operator's token is refused by the user calls.

use devconnect_core::{AuditId, DevConnect, Operator, ReportId};
use tonic::{Request, Response, Status};

use crate::convert::{report_filter, report_status, user_id};
use crate::pb;
use crate::pb::moderation_service_server::ModerationService;
use crate::service::{OrStatus as _, bearer, ok};

/// The moderation service: a handle on the core.
#[derive(Clone, Debug)]
pub struct Moderation {
    app: DevConnect,
}

impl Moderation {
    /// The moderation calls over `app`.
    #[must_use]
    pub fn new(app: DevConnect) -> Self {
        Self { app }
    }

    /// The operator the bearer token in the request's metadata names.
    fn operator<T>(&self, request: &Request<T>) -> Result<Operator, Status> {
        let token = bearer(request).or_status()?;
        self.app.authenticate_operator(token).or_status()
    }
}

#[tonic::async_trait]
impl ModerationService for Moderation {
    async fn list_reports(
        &self,
        request: Request<pb::ListReportsRequest>,
    ) -> Result<Response<pb::ListReportsResponse>, Status> {
        self.operator(&request)?;
        let r = request.into_inner();
        let status = report_filter(r.status).or_status()?;
        let after = r.after.as_deref().map(|id| ReportId::parse("after", id)).transpose().or_status()?;
        let reports = self.app.reports(status, after, r.limit).await.or_status()?;
        ok(pb::ListReportsResponse { reports: reports.into_iter().map(Into::into).collect() })
    }

    async fn get_report(&self, request: Request<pb::GetReportRequest>) -> Result<Response<pb::Report>, Status> {
        self.operator(&request)?;
        let id = ReportId::parse("id", &request.get_ref().id).or_status()?;
        ok(self.app.report_by_id(id).await.or_status()?)
    }

    async fn close_report(&self, request: Request<pb::CloseReportRequest>) -> Result<Response<pb::Report>, Status> {
        let operator = self.operator(&request)?;
        let r = request.into_inner();
        let id = ReportId::parse("id", &r.id).or_status()?;
        let outcome = report_status(r.outcome).or_status()?;
        ok(self.app.close_report(&operator.name, id, outcome, &r.note).await.or_status()?)
    }

    async fn suspend_user(
        &self,
        request: Request<pb::SuspendUserRequest>,
    ) -> Result<Response<pb::SuspendUserResponse>, Status> {
        let operator = self.operator(&request)?;
        let r = request.into_inner();
        let user = user_id("userId", &r.user_id).or_status()?;
        self.app.suspend(&operator.name, user, &r.note).await.or_status()?;
        ok(pb::SuspendUserResponse {})
    }

    async fn delete_user(
        &self,
        request: Request<pb::DeleteUserRequest>,
    ) -> Result<Response<pb::DeleteUserResponse>, Status> {
        let operator = self.operator(&request)?;
        let r = request.into_inner();
        let user = user_id("userId", &r.user_id).or_status()?;
        self.app.delete_user(&operator.name, user, &r.note).await.or_status()?;
        ok(pb::DeleteUserResponse {})
    }

    async fn unsuspend_user(
        &self,
        request: Request<pb::UnsuspendUserRequest>,
    ) -> Result<Response<pb::UnsuspendUserResponse>, Status> {
        let operator = self.operator(&request)?;
        let r = request.into_inner();
        let user = user_id("userId", &r.user_id).or_status()?;
        self.app.unsuspend(&operator.name, user, &r.note).await.or_status()?;
        ok(pb::UnsuspendUserResponse {})
    }

    async fn list_audit(
        &self,
        request: Request<pb::ListAuditRequest>,
    ) -> Result<Response<pb::ListAuditResponse>, Status> {
        self.operator(&request)?;
        let r = request.into_inner();
        let after = r.after.as_deref().map(|id| AuditId::parse("after", id)).transpose().or_status()?;
        let entries = self.app.audit(after, r.limit).await.or_status()?;
        ok(pb::ListAuditResponse { entries: entries.into_iter().map(Into::into).collect() })
    }
}
