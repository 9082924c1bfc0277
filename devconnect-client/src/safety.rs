//! Blocking people, reports and one's data export.

use devconnect_types::rest::DataResponse;
use devconnect_types::{AccountExport, BlockedUser, Report, ReportKind, ReportReason, UserId};
use reqwest::Method;
use serde_json::json;

use crate::{Client, Result};

impl Client {
    /// `POST /user/block/:userId`: blocks someone (both ways; see the server's README).
    pub async fn block(&self, other: UserId) -> Result<()> {
        Self::send(self.request(Method::POST, &format!("/user/block/{other}"))).await.map(drop)
    }

    /// `DELETE /user/block/:userId`: lifts my block.
    pub async fn unblock(&self, other: UserId) -> Result<()> {
        Self::send(self.request(Method::DELETE, &format!("/user/block/{other}"))).await.map(drop)
    }

    /// `GET /user/blocked`: everyone I blocked, most recently blocked first.
    pub async fn blocked_users(&self) -> Result<Vec<BlockedUser>> {
        Ok(Self::call::<DataResponse<Vec<BlockedUser>>>(self.request(Method::GET, "/user/blocked")).await?.data)
    }

    /// `POST /reports`: reports a user, message or group (`target_id`) for `reason`.
    pub async fn report(
        &self,
        kind: ReportKind,
        target_id: &str,
        reason: ReportReason,
        details: &str,
    ) -> Result<Report> {
        let body = json!({"kind": kind, "targetId": target_id, "reason": reason, "details": details});
        Ok(Self::call::<DataResponse<Report>>(self.request(Method::POST, "/reports").json(&body)).await?.data)
    }

    /// `GET /profile/export`: everything the server holds about me.
    pub async fn export_account(&self) -> Result<AccountExport> {
        Ok(Self::call::<DataResponse<AccountExport>>(self.request(Method::GET, "/profile/export")).await?.data)
    }

    /// `DELETE /profile`: deletes my account, confirmed by my password. This client's
    /// token stops working.
    pub async fn delete_account(&self, password: &str) -> Result<()> {
        let builder = self.request(Method::DELETE, "/profile").json(&json!({ "password": password }));
        Self::send(builder).await?;
        self.set_token(None);
        Ok(())
    }

    /// `GET /reports/mine`: the reports I filed, newest first.
    pub async fn my_reports(&self) -> Result<Vec<Report>> {
        Ok(Self::call::<DataResponse<Vec<Report>>>(self.request(Method::GET, "/reports/mine")).await?.data)
    }
}
