//! Connection requests and connections.

use devconnect_types::rest::{DataResponse, ListResponse};
use devconnect_types::{ConnectionRequest, Profile, RequestId, ReviewStatus, SendStatus, UserId};
use reqwest::Method;
use serde_json::json;

use crate::{Client, Result};

impl Client {
    /// `POST /request/send/:status/:toUserId` (`interested` or `ignored`), with an optional note.
    pub async fn send_request(&self, status: SendStatus, to: UserId, note: Option<&str>) -> Result<ConnectionRequest> {
        let mut builder = self.request(Method::POST, &format!("/request/send/{status}/{to}"));
        if let Some(note) = note {
            builder = builder.json(&json!({ "note": note }));
        }
        Ok(Self::call::<DataResponse<ConnectionRequest>>(builder).await?.data)
    }

    /// `POST /request/review/:status/:requestId` (`accepted` or `rejected`).
    pub async fn review_request(&self, id: RequestId, status: ReviewStatus) -> Result<ConnectionRequest> {
        let builder = self.request(Method::POST, &format!("/request/review/{status}/{id}"));
        Ok(Self::call::<DataResponse<ConnectionRequest>>(builder).await?.data)
    }

    /// `GET /user/requests/received`: pending requests to me, with the sender's profile.
    pub async fn received_requests(&self) -> Result<Vec<ConnectionRequest<Profile, UserId>>> {
        Ok(Self::call::<ListResponse<_>>(self.request(Method::GET, "/user/requests/received")).await?.requests)
    }

    /// `GET /user/requests/sent`: my requests, with the receiver's profile.
    pub async fn sent_requests(&self) -> Result<Vec<ConnectionRequest<UserId, Profile>>> {
        Ok(Self::call::<ListResponse<_>>(self.request(Method::GET, "/user/requests/sent")).await?.requests)
    }

    /// `GET /user/connections`.
    pub async fn connections(&self) -> Result<Vec<Profile>> {
        Ok(Self::call::<ListResponse<_>>(self.request(Method::GET, "/user/connections")).await?.requests)
    }

    /// `DELETE /user/deleteconnection/:userId`.
    pub async fn remove_connection(&self, other: UserId) -> Result<()> {
        Self::send(self.request(Method::DELETE, &format!("/user/deleteconnection/{other}"))).await.map(drop)
    }
}
