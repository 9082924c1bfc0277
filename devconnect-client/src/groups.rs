//! Groups, their members and their chat.

use devconnect_types::rest::{DataResponse, ReadResponse};
use devconnect_types::{
    Group, GroupId, GroupMember, GroupMessage, GroupPage, GroupRole, MessageId, MyGroup, Sent, UserId, Visibility,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{Client, ClientError, Result, paged};

impl Client {
    /// `POST /groups`: a new group, which I own.
    pub async fn create_group(
        &self,
        name: &str,
        description: &str,
        visibility: Visibility,
        tags: &[String],
    ) -> Result<Group> {
        let body = json!({"name": name, "description": description, "visibility": visibility, "tags": tags});
        Ok(Self::call::<DataResponse<Group>>(self.request(Method::POST, "/groups").json(&body)).await?.data)
    }

    /// `GET /groups/mine`: my groups, with my role in each.
    pub async fn my_groups(&self) -> Result<Vec<MyGroup>> {
        Ok(Self::call::<DataResponse<Vec<MyGroup>>>(self.request(Method::GET, "/groups/mine")).await?.data)
    }

    /// `GET /groups/:groupId`.
    pub async fn group(&self, id: GroupId) -> Result<Group> {
        Ok(Self::call::<DataResponse<Group>>(self.request(Method::GET, &format!("/groups/{id}"))).await?.data)
    }

    /// `GET /groups/:groupId/members`: longest-standing first.
    pub async fn group_members(&self, id: GroupId) -> Result<Vec<GroupMember>> {
        let builder = self.request(Method::GET, &format!("/groups/{id}/members"));
        Ok(Self::call::<DataResponse<Vec<GroupMember>>>(builder).await?.data)
    }

    /// `POST /groups/:groupId/members/:userId`: adds one of my connections.
    pub async fn add_group_member(&self, id: GroupId, user: UserId) -> Result<GroupMember> {
        let builder = self.request(Method::POST, &format!("/groups/{id}/members/{user}"));
        Ok(Self::call::<DataResponse<GroupMember>>(builder).await?.data)
    }

    /// `PATCH /groups/:groupId/members/:userId`: `admin` or `member`.
    pub async fn set_group_role(&self, id: GroupId, user: UserId, role: GroupRole) -> Result<GroupMember> {
        let builder = self.request(Method::PATCH, &format!("/groups/{id}/members/{user}")).json(&json!({"role": role}));
        Ok(Self::call::<DataResponse<GroupMember>>(builder).await?.data)
    }

    /// `DELETE /groups/:groupId/members/:userId`.
    pub async fn remove_group_member(&self, id: GroupId, user: UserId) -> Result<()> {
        Self::send(self.request(Method::DELETE, &format!("/groups/{id}/members/{user}"))).await.map(drop)
    }

    /// `POST /groups/:groupId/join`: joins a public group.
    pub async fn join_group(&self, id: GroupId) -> Result<GroupMember> {
        let builder = self.request(Method::POST, &format!("/groups/{id}/join"));
        Ok(Self::call::<DataResponse<GroupMember>>(builder).await?.data)
    }

    /// `POST /groups/:groupId/leave`.
    pub async fn leave_group(&self, id: GroupId) -> Result<()> {
        Self::send(self.request(Method::POST, &format!("/groups/{id}/leave"))).await.map(drop)
    }

    /// `POST /groups/:groupId/transfer/:userId`: hands a group I own on.
    pub async fn transfer_group(&self, id: GroupId, to: UserId) -> Result<()> {
        Self::send(self.request(Method::POST, &format!("/groups/{id}/transfer/{to}"))).await.map(drop)
    }

    /// `PATCH /groups/:groupId`: changes a group's details (JSON).
    pub async fn edit_group(&self, id: GroupId, changes: &serde_json::Value) -> Result<Group> {
        let builder = self.request(Method::PATCH, &format!("/groups/{id}")).json(changes);
        Ok(Self::call::<DataResponse<Group>>(builder).await?.data)
    }

    /// `PATCH /groups/:groupId` as a multipart form: the `changes` of [`Self::edit_group`]
    /// and a new photo, in one request (one system message, one `groupUpdated`). A list
    /// goes as one comma-separated part: the server splits parts on commas but refuses a
    /// repeated `tags` part. A form cannot say "no tags": an empty list is left out, so
    /// the tags stay.
    pub async fn edit_group_with_photo(
        &self,
        id: GroupId,
        changes: &serde_json::Value,
        image: &(Vec<u8>, String),
    ) -> Result<Group> {
        let mut fields = changes.clone();
        if let serde_json::Value::Object(map) = &mut fields {
            for value in map.values_mut() {
                if let serde_json::Value::Array(items) = value {
                    let joined: Vec<&str> = items.iter().filter_map(serde_json::Value::as_str).collect();
                    *value = serde_json::Value::from(joined.join(","));
                }
            }
        }
        let builder =
            self.request(Method::PATCH, &format!("/groups/{id}")).multipart(Self::form_with_photo(&fields, image)?);
        Ok(Self::call::<DataResponse<Group>>(builder).await?.data)
    }

    /// `PATCH /groups/:groupId` as a multipart form with a new photo.
    pub async fn set_group_photo(&self, id: GroupId, image: (Vec<u8>, String)) -> Result<Group> {
        let form =
            reqwest::multipart::Form::new().part("image", reqwest::multipart::Part::bytes(image.0).file_name(image.1));
        let builder = self.request(Method::PATCH, &format!("/groups/{id}")).multipart(form);
        Ok(Self::call::<DataResponse<Group>>(builder).await?.data)
    }

    /// `GET /groups?q&skills&page&limit`: public groups, most recently active first.
    pub async fn discover_groups(&self, q: &str, tags: &[&str], page: u32, limit: u32) -> Result<GroupPage> {
        let mut builder = self.request(Method::GET, "/groups").query(&[("page", page), ("limit", limit)]);
        if !q.is_empty() {
            builder = builder.query(&[("q", q)]);
        }
        if !tags.is_empty() {
            builder = builder.query(&[("skills", tags.join(","))]);
        }
        Ok(Self::call::<DataResponse<_>>(builder).await?.data)
    }

    /// `GET /groups/:groupId/messages?before&limit`: a group's messages I may read,
    /// oldest first.
    pub async fn group_history(
        &self,
        id: GroupId,
        before: Option<MessageId>,
        limit: Option<u32>,
    ) -> Result<Vec<GroupMessage>> {
        let builder = self.request(Method::GET, &format!("/groups/{id}/messages"));
        Ok(Self::call::<DataResponse<_>>(paged(builder, ("before", before), limit)).await?.data)
    }

    /// `POST /groups/:groupId/messages` with text and an optional idempotency key.
    pub async fn send_group_message(
        &self,
        id: GroupId,
        text: &str,
        client_msg_id: Option<&str>,
    ) -> Result<Sent<GroupMessage>> {
        let builder = self
            .request(Method::POST, &format!("/groups/{id}/messages"))
            .json(&json!({"text": text, "clientMsgId": client_msg_id}));
        let (status, body) = Self::send(builder).await?;
        let sent: DataResponse<GroupMessage> =
            serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()))?;
        Ok(Sent { message: sent.data, created: status == StatusCode::CREATED })
    }

    /// `POST /groups/:groupId/read`: moves my read position up to `up_to`; the message
    /// marked, or `None` when the position did not move.
    pub async fn mark_group_read(&self, id: GroupId, up_to: MessageId) -> Result<Option<MessageId>> {
        let builder = self.request(Method::POST, &format!("/groups/{id}/read")).json(&json!({"messageId": up_to}));
        Ok(Self::call::<ReadResponse>(builder).await?.up_to)
    }
}
