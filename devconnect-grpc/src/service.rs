//! The gRPC service: each RPC decodes its request, makes one core call, and encodes the
//! result. Authentication reads `authorization: Bearer <token>` from the metadata.

use std::net::{IpAddr, Ipv4Addr};

use devconnect_core::{
    DevConnect, FeedQuery, GroupEdit, GroupQuery, NewGroup, NewMessage, NewReport, PasswordChange, Peer, ProfileEdit,
    ReviewStatus, SendStatus, Session, Signup, Upload,
};
use tokio::sync::watch;
use tonic::{Request, Response, Status};

use crate::convert::{
    age, edited_gender, edited_visibility, gender_text, group_id, group_role, hex_ids, message_id, push_settings_patch,
    push_subscription, report_kind_text, report_reason_text, request_id, required_message_id, search_query,
    status_text, user_id, visibility,
};
use crate::error::status;
use crate::pb;
use crate::pb::dev_connect_service_server::DevConnectService;
use crate::subscribe::{self, EventStream};

/// The service: a handle on the core, and the signal that ends open streams at shutdown.
#[derive(Clone, Debug)]
pub struct Api {
    app: DevConnect,
    shutdown: watch::Receiver<bool>,
}

impl Api {
    /// A service over `app`; its streams end when `shutdown` turns `true`.
    #[must_use]
    pub fn new(app: DevConnect, shutdown: watch::Receiver<bool>) -> Self {
        Self { app, shutdown }
    }

    /// The caller's address, for the core's per-address limits. Every TCP connection
    /// has one; a caller whose address is unknown counts with all other such callers.
    fn peer<T>(request: &Request<T>) -> Peer {
        Peer::Remote(request.remote_addr().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |addr| addr.ip()))
    }

    /// The session of the bearer token in the request's metadata.
    async fn session<T>(&self, request: &Request<T>) -> Result<Session, Status> {
        let token = bearer(request).or_status()?;
        self.app.authenticate(token).await.or_status()
    }
}

/// The token of an `authorization: Bearer <token>` metadata entry.
pub(crate) fn bearer<T>(request: &Request<T>) -> devconnect_core::Result<&str> {
    devconnect_core::bearer_token(request.metadata().get("authorization").map(tonic::metadata::MetadataValue::as_bytes))
}

/// Turns a core result into a gRPC one.
pub(crate) trait OrStatus<T> {
    fn or_status(self) -> Result<T, Status>;
}

impl<T, E: Into<devconnect_core::Error>> OrStatus<T> for Result<T, E> {
    fn or_status(self) -> Result<T, Status> {
        self.map_err(|e| status(&e.into()))
    }
}

pub(crate) fn ok<T>(value: impl Into<T>) -> Result<Response<T>, Status> {
    Ok(Response::new(value.into()))
}

#[tonic::async_trait]
impl DevConnectService for Api {
    type SubscribeStream = EventStream;

    async fn signup(&self, request: Request<pb::SignupRequest>) -> Result<Response<pb::AuthResponse>, Status> {
        let peer = Self::peer(&request);
        let r = request.into_inner();
        let signup = Signup {
            first_name: r.first_name,
            last_name: r.last_name,
            email: r.email_id,
            password: r.password,
            age: r.age.map(age),
            gender: gender_text(r.gender),
            about: Some(r.about),
            skills: r.skills,
            photo: r.photo.map(Upload),
        };
        let auth = self.app.signup(signup, peer).await.or_status()?;
        ok(pb::AuthResponse { user: Some(auth.user.into()), token: auth.token })
    }

    async fn login(&self, request: Request<pb::LoginRequest>) -> Result<Response<pb::AuthResponse>, Status> {
        let peer = Self::peer(&request);
        let r = request.into_inner();
        let auth = self.app.login(&r.email_id, &r.password, peer).await.or_status()?;
        ok(pb::AuthResponse { user: Some(auth.user.into()), token: auth.token })
    }

    async fn logout(&self, request: Request<pb::LogoutRequest>) -> Result<Response<pb::LogoutResponse>, Status> {
        let session = self.session(&request).await?;
        self.app.logout(&session).await.or_status()?;
        ok(pb::LogoutResponse {})
    }

    async fn change_password(
        &self,
        request: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        let session = self.session(&request).await?;
        let r = request.into_inner();
        let change = PasswordChange {
            old_password: r.old_password,
            new_password: r.new_password,
            confirm_password: r.confirm_password,
        };
        let token = self.app.change_password(&session, change).await.or_status()?;
        ok(pb::ChangePasswordResponse { token })
    }

    async fn delete_account(
        &self,
        request: Request<pb::DeleteAccountRequest>,
    ) -> Result<Response<pb::DeleteAccountResponse>, Status> {
        let session = self.session(&request).await?;
        self.app.delete_account(&session, &request.into_inner().password).await.or_status()?;
        ok(pb::DeleteAccountResponse {})
    }

    async fn get_me(&self, request: Request<pb::GetMeRequest>) -> Result<Response<pb::Me>, Status> {
        let session = self.session(&request).await?;
        ok(self.app.profile(session.user_id).await.or_status()?)
    }

    async fn get_profile(&self, request: Request<pb::GetProfileRequest>) -> Result<Response<pb::Profile>, Status> {
        let session = self.session(&request).await?;
        let id = user_id("userId", &request.get_ref().user_id).or_status()?;
        ok(self.app.profile_for(session.user_id, id).await.or_status()?)
    }

    async fn edit_profile(&self, request: Request<pb::EditProfileRequest>) -> Result<Response<pb::Me>, Status> {
        let session = self.session(&request).await?;
        let r = request.into_inner();
        let edit = ProfileEdit {
            first_name: r.first_name,
            last_name: r.last_name,
            age: r.age.map(age),
            gender: r.gender.map(edited_gender),
            about: r.about,
            skills: r.skills.map(|s| s.skills),
            location: r.location,
            experience_years: r.experience_years.map(i64::from),
            photo: r.photo.map(Upload),
        };
        ok(self.app.edit_profile(session.user_id, edit).await.or_status()?)
    }

    async fn upload_photo(&self, request: Request<pb::UploadPhotoRequest>) -> Result<Response<pb::Me>, Status> {
        let session = self.session(&request).await?;
        let photo = Upload(request.into_inner().photo);
        ok(self.app.set_photo(session.user_id, photo).await.or_status()?)
    }

    async fn send_request(
        &self,
        request: Request<pb::SendRequestRequest>,
    ) -> Result<Response<pb::ConnectionRequest>, Status> {
        let session = self.session(&request).await?;
        let r = request.into_inner();
        let to = user_id("toUserId", &r.to_user_id).or_status()?;
        let status = SendStatus::parse(&status_text(r.status)).or_status()?;
        ok(self.app.send_request(session.user_id, to, status, r.note.as_deref()).await.or_status()?)
    }

    async fn review_request(
        &self,
        request: Request<pb::ReviewRequestRequest>,
    ) -> Result<Response<pb::ConnectionRequest>, Status> {
        let session = self.session(&request).await?;
        let r = request.into_inner();
        let id = request_id("requestId", &r.request_id).or_status()?;
        let status = ReviewStatus::parse(&status_text(r.status)).or_status()?;
        ok(self.app.review_request(session.user_id, id, status).await.or_status()?)
    }

    async fn list_received_requests(
        &self,
        request: Request<pb::ListReceivedRequestsRequest>,
    ) -> Result<Response<pb::ListRequestsResponse>, Status> {
        let session = self.session(&request).await?;
        let requests = self.app.received_requests(session.user_id).await.or_status()?;
        ok(pb::ListRequestsResponse { requests: requests.into_iter().map(Into::into).collect() })
    }

    async fn list_sent_requests(
        &self,
        request: Request<pb::ListSentRequestsRequest>,
    ) -> Result<Response<pb::ListRequestsResponse>, Status> {
        let session = self.session(&request).await?;
        let requests = self.app.sent_requests(session.user_id).await.or_status()?;
        ok(pb::ListRequestsResponse { requests: requests.into_iter().map(Into::into).collect() })
    }

    async fn list_connections(
        &self,
        request: Request<pb::ListConnectionsRequest>,
    ) -> Result<Response<pb::ListConnectionsResponse>, Status> {
        let session = self.session(&request).await?;
        let connections = self.app.connections(session.user_id).await.or_status()?;
        ok(pb::ListConnectionsResponse { connections: connections.into_iter().map(Into::into).collect() })
    }

    async fn remove_connection(
        &self,
        request: Request<pb::RemoveConnectionRequest>,
    ) -> Result<Response<pb::RemoveConnectionResponse>, Status> {
        let session = self.session(&request).await?;
        let other = user_id("userId", &request.get_ref().user_id).or_status()?;
        self.app.remove_connection(session.user_id, other).await.or_status()?;
        ok(pb::RemoveConnectionResponse {})
    }

    async fn get_feed(&self, request: Request<pb::GetFeedRequest>) -> Result<Response<pb::GetFeedResponse>, Status> {
        let session = self.session(&request).await?;
        let r = request.into_inner();
        let query = FeedQuery { page: r.page, limit: r.limit, skills: r.skills };
        let page = self.app.feed(session.user_id, &query).await.or_status()?;
        ok(pb::GetFeedResponse {
            profiles: page.profiles.into_iter().map(Into::into).collect(),
            page: page.page,
            limit: page.limit,
            has_more: page.has_more,
        })
    }

    async fn search_users(
        &self,
        request: Request<pb::SearchUsersRequest>,
    ) -> Result<Response<pb::SearchUsersResponse>, Status> {
        let session = self.session(&request).await?;
        let query = search_query(request.into_inner()).or_status()?;
        ok(self.app.search_users(session.user_id, &query).await.or_status()?)
    }

    async fn list_chat_partners(
        &self,
        request: Request<pb::ListChatPartnersRequest>,
    ) -> Result<Response<pb::ListChatPartnersResponse>, Status> {
        let session = self.session(&request).await?;
        let partners = self.app.chat_partners(session.user_id).await.or_status()?;
        ok(pb::ListChatPartnersResponse { partners: partners.into_iter().map(Into::into).collect() })
    }

    async fn list_conversations(
        &self,
        request: Request<pb::ListConversationsRequest>,
    ) -> Result<Response<pb::ListConversationsResponse>, Status> {
        let session = self.session(&request).await?;
        let conversations = self.app.conversations(session.user_id).await.or_status()?;
        ok(pb::ListConversationsResponse { conversations: conversations.into_iter().map(Into::into).collect() })
    }

    async fn get_history(
        &self,
        request: Request<pb::GetHistoryRequest>,
    ) -> Result<Response<pb::GetHistoryResponse>, Status> {
        let session = self.session(&request).await?;
        let r = request.into_inner();
        let other = user_id("userId", &r.user_id).or_status()?;
        let before = message_id("before", r.before.as_deref()).or_status()?;
        let messages = self.app.history(session.user_id, other, before, r.limit).await.or_status()?;
        ok(pb::GetHistoryResponse { messages: messages.into_iter().map(Into::into).collect() })
    }

    async fn send_message(
        &self,
        request: Request<pb::SendMessageRequest>,
    ) -> Result<Response<pb::SendMessageResponse>, Status> {
        let session = self.session(&request).await?;
        let r = request.into_inner();
        let to = user_id("receiverId", &r.to_user_id).or_status()?;
        let message = NewMessage { text: r.text, client_msg_id: r.client_msg_id, image: r.image.map(Upload) };
        let sent = self.app.send_message(session.user_id, to, message).await.or_status()?;
        ok(pb::SendMessageResponse { message: Some(sent.message.into()), created: sent.created })
    }

    async fn sync_messages(
        &self,
        request: Request<pb::SyncMessagesRequest>,
    ) -> Result<Response<pb::SyncMessagesResponse>, Status> {
        let session = self.session(&request).await?;
        let r = request.into_inner();
        let after = message_id("after", r.after.as_deref()).or_status()?;
        ok(self.app.sync(session.user_id, after, r.limit).await.or_status()?)
    }

    async fn mark_read(&self, request: Request<pb::MarkReadRequest>) -> Result<Response<pb::MarkReadResponse>, Status> {
        let session = self.session(&request).await?;
        let other = user_id("userId", &request.get_ref().user_id).or_status()?;
        let up_to = self.app.mark_read(session.user_id, other).await.or_status()?;
        ok(pb::MarkReadResponse { up_to: up_to.map(devconnect_core::MessageId::to_hex) })
    }

    async fn send_typing(
        &self,
        request: Request<pb::SendTypingRequest>,
    ) -> Result<Response<pb::SendTypingResponse>, Status> {
        let session = self.session(&request).await?;
        let r = request.into_inner();
        let to = user_id("to", &r.to_user_id).or_status()?;
        self.app.typing(session.user_id, to, r.typing).await.or_status()?;
        ok(pb::SendTypingResponse {})
    }

    async fn list_online_connections(
        &self,
        request: Request<pb::ListOnlineConnectionsRequest>,
    ) -> Result<Response<pb::ListOnlineConnectionsResponse>, Status> {
        let session = self.session(&request).await?;
        let ids = self.app.online_connections(session.user_id).await.or_status()?;
        ok(pb::ListOnlineConnectionsResponse { user_ids: hex_ids(&ids) })
    }

    async fn create_group(&self, request: Request<pb::CreateGroupRequest>) -> Result<Response<pb::Group>, Status> {
        let session = self.session(&request).await?;
        let r = request.into_inner();
        let new = NewGroup {
            name: r.name,
            description: r.description,
            visibility: visibility(r.visibility).or_status()?,
            tags: r.tags,
        };
        ok(self.app.create_group(session.user_id, new).await.or_status()?)
    }

    async fn get_group(&self, request: Request<pb::GetGroupRequest>) -> Result<Response<pb::Group>, Status> {
        let session = self.session(&request).await?;
        let id = group_id("groupId", &request.get_ref().group_id).or_status()?;
        ok(self.app.group(session.user_id, id).await.or_status()?)
    }

    async fn edit_group(&self, request: Request<pb::EditGroupRequest>) -> Result<Response<pb::Group>, Status> {
        let session = self.session(&request).await?;
        let r = request.into_inner();
        let id = group_id("groupId", &r.group_id).or_status()?;
        let edit = GroupEdit {
            name: r.name,
            description: r.description,
            visibility: edited_visibility(r.visibility).or_status()?,
            tags: r.tags.map(|t| t.tags),
            photo: r.photo.map(Upload),
        };
        ok(self.app.edit_group(session.user_id, id, edit).await.or_status()?)
    }

    async fn list_group_members(
        &self,
        request: Request<pb::ListGroupMembersRequest>,
    ) -> Result<Response<pb::ListGroupMembersResponse>, Status> {
        let session = self.session(&request).await?;
        let id = group_id("groupId", &request.get_ref().group_id).or_status()?;
        let members = self.app.group_members(session.user_id, id).await.or_status()?;
        ok(pb::ListGroupMembersResponse { members: members.into_iter().map(Into::into).collect() })
    }

    async fn list_my_groups(
        &self,
        request: Request<pb::ListMyGroupsRequest>,
    ) -> Result<Response<pb::ListMyGroupsResponse>, Status> {
        let session = self.session(&request).await?;
        let groups = self.app.my_groups(session.user_id).await.or_status()?;
        ok(pb::ListMyGroupsResponse { groups: groups.into_iter().map(Into::into).collect() })
    }

    async fn add_group_member(
        &self,
        request: Request<pb::GroupMemberRequest>,
    ) -> Result<Response<pb::GroupMember>, Status> {
        let session = self.session(&request).await?;
        let r = request.get_ref();
        let (id, user) = (group_id("groupId", &r.group_id).or_status()?, user_id("userId", &r.user_id).or_status()?);
        ok(self.app.add_group_member(session.user_id, id, user).await.or_status()?)
    }

    async fn set_group_role(
        &self,
        request: Request<pb::SetGroupRoleRequest>,
    ) -> Result<Response<pb::GroupMember>, Status> {
        let session = self.session(&request).await?;
        let r = request.get_ref();
        let (id, user) = (group_id("groupId", &r.group_id).or_status()?, user_id("userId", &r.user_id).or_status()?);
        let role = group_role(r.role).or_status()?;
        ok(self.app.set_group_role(session.user_id, id, user, role).await.or_status()?)
    }

    async fn remove_group_member(
        &self,
        request: Request<pb::GroupMemberRequest>,
    ) -> Result<Response<pb::RemoveGroupMemberResponse>, Status> {
        let session = self.session(&request).await?;
        let r = request.get_ref();
        let (id, user) = (group_id("groupId", &r.group_id).or_status()?, user_id("userId", &r.user_id).or_status()?);
        self.app.remove_group_member(session.user_id, id, user).await.or_status()?;
        ok(pb::RemoveGroupMemberResponse {})
    }

    async fn join_group(&self, request: Request<pb::JoinGroupRequest>) -> Result<Response<pb::GroupMember>, Status> {
        let session = self.session(&request).await?;
        let id = group_id("groupId", &request.get_ref().group_id).or_status()?;
        ok(self.app.join_group(session.user_id, id).await.or_status()?)
    }

    async fn leave_group(
        &self,
        request: Request<pb::LeaveGroupRequest>,
    ) -> Result<Response<pb::LeaveGroupResponse>, Status> {
        let session = self.session(&request).await?;
        let id = group_id("groupId", &request.get_ref().group_id).or_status()?;
        self.app.leave_group(session.user_id, id).await.or_status()?;
        ok(pb::LeaveGroupResponse {})
    }

    async fn transfer_group(
        &self,
        request: Request<pb::GroupMemberRequest>,
    ) -> Result<Response<pb::TransferGroupResponse>, Status> {
        let session = self.session(&request).await?;
        let r = request.get_ref();
        let (id, to) = (group_id("groupId", &r.group_id).or_status()?, user_id("userId", &r.user_id).or_status()?);
        self.app.transfer_group(session.user_id, id, to).await.or_status()?;
        ok(pb::TransferGroupResponse {})
    }

    async fn discover_groups(
        &self,
        request: Request<pb::DiscoverGroupsRequest>,
    ) -> Result<Response<pb::DiscoverGroupsResponse>, Status> {
        // Any signed-in user may look; which groups are found does not depend on who.
        self.session(&request).await?;
        let r = request.into_inner();
        let query = GroupQuery { q: r.q, tags: r.tags, page: r.page, limit: r.limit };
        ok(self.app.discover_groups(&query).await.or_status()?)
    }

    async fn send_group_message(
        &self,
        request: Request<pb::SendGroupMessageRequest>,
    ) -> Result<Response<pb::SendGroupMessageResponse>, Status> {
        let session = self.session(&request).await?;
        let r = request.into_inner();
        let id = group_id("groupId", &r.group_id).or_status()?;
        let message = NewMessage { text: r.text, client_msg_id: r.client_msg_id, image: r.image.map(Upload) };
        let sent = self.app.send_group_message(session.user_id, id, message).await.or_status()?;
        ok(pb::SendGroupMessageResponse { message: Some(sent.message.into()), created: sent.created })
    }

    async fn get_group_history(
        &self,
        request: Request<pb::GetGroupHistoryRequest>,
    ) -> Result<Response<pb::GetGroupHistoryResponse>, Status> {
        let session = self.session(&request).await?;
        let r = request.into_inner();
        let id = group_id("groupId", &r.group_id).or_status()?;
        let before = message_id("before", r.before.as_deref()).or_status()?;
        let messages = self.app.group_history(session.user_id, id, before, r.limit).await.or_status()?;
        ok(pb::GetGroupHistoryResponse { messages: messages.into_iter().map(Into::into).collect() })
    }

    async fn mark_group_read(
        &self,
        request: Request<pb::MarkGroupReadRequest>,
    ) -> Result<Response<pb::MarkGroupReadResponse>, Status> {
        let session = self.session(&request).await?;
        let r = request.get_ref();
        let id = group_id("groupId", &r.group_id).or_status()?;
        let up_to = required_message_id("upTo", &r.up_to).or_status()?;
        let moved = self.app.mark_group_read(session.user_id, id, up_to).await.or_status()?;
        ok(pb::MarkGroupReadResponse { moved })
    }

    async fn send_group_typing(
        &self,
        request: Request<pb::SendGroupTypingRequest>,
    ) -> Result<Response<pb::SendGroupTypingResponse>, Status> {
        let session = self.session(&request).await?;
        let r = request.get_ref();
        let id = group_id("groupId", &r.group_id).or_status()?;
        self.app.group_typing(session.user_id, id, r.typing).await.or_status()?;
        ok(pb::SendGroupTypingResponse {})
    }

    async fn block_user(
        &self,
        request: Request<pb::BlockUserRequest>,
    ) -> Result<Response<pb::BlockUserResponse>, Status> {
        let session = self.session(&request).await?;
        let other = user_id("userId", &request.get_ref().user_id).or_status()?;
        let created = self.app.block(session.user_id, other).await.or_status()?;
        ok(pb::BlockUserResponse { created })
    }

    async fn unblock_user(
        &self,
        request: Request<pb::UnblockUserRequest>,
    ) -> Result<Response<pb::UnblockUserResponse>, Status> {
        let session = self.session(&request).await?;
        let other = user_id("userId", &request.get_ref().user_id).or_status()?;
        self.app.unblock(session.user_id, other).await.or_status()?;
        ok(pb::UnblockUserResponse {})
    }

    async fn list_blocked(
        &self,
        request: Request<pb::ListBlockedRequest>,
    ) -> Result<Response<pb::ListBlockedResponse>, Status> {
        let session = self.session(&request).await?;
        let blocked = self.app.blocked_users(session.user_id).await.or_status()?;
        ok(pb::ListBlockedResponse { blocked: blocked.into_iter().map(Into::into).collect() })
    }

    async fn file_report(&self, request: Request<pb::FileReportRequest>) -> Result<Response<pb::Report>, Status> {
        let session = self.session(&request).await?;
        let r = request.into_inner();
        let new = NewReport {
            kind: report_kind_text(r.kind),
            target_id: r.target_id,
            reason: report_reason_text(r.reason),
            details: r.details,
        };
        ok(self.app.report(session.user_id, new).await.or_status()?)
    }

    async fn list_my_reports(
        &self,
        request: Request<pb::ListMyReportsRequest>,
    ) -> Result<Response<pb::ListMyReportsResponse>, Status> {
        let session = self.session(&request).await?;
        let reports = self.app.my_reports(session.user_id).await.or_status()?;
        ok(pb::ListMyReportsResponse { reports: reports.into_iter().map(Into::into).collect() })
    }

    async fn get_vapid_public_key(
        &self,
        request: Request<pb::GetVapidPublicKeyRequest>,
    ) -> Result<Response<pb::VapidPublicKey>, Status> {
        self.session(&request).await?;
        ok(pb::VapidPublicKey { public_key: self.app.vapid_public_key().or_status()? })
    }

    async fn add_push_subscription(
        &self,
        request: Request<pb::AddPushSubscriptionRequest>,
    ) -> Result<Response<pb::AddPushSubscriptionResponse>, Status> {
        let session = self.session(&request).await?;
        let subscription = push_subscription(request.into_inner());
        self.app.add_push_subscription(&session, &subscription).await.or_status()?;
        ok(pb::AddPushSubscriptionResponse {})
    }

    async fn remove_push_subscription(
        &self,
        request: Request<pb::RemovePushSubscriptionRequest>,
    ) -> Result<Response<pb::RemovePushSubscriptionResponse>, Status> {
        let session = self.session(&request).await?;
        self.app.remove_push_subscription(session.user_id, &request.get_ref().endpoint).await.or_status()?;
        ok(pb::RemovePushSubscriptionResponse {})
    }

    async fn get_push_settings(
        &self,
        request: Request<pb::GetPushSettingsRequest>,
    ) -> Result<Response<pb::PushSettings>, Status> {
        let session = self.session(&request).await?;
        ok(self.app.push_settings(session.user_id).await.or_status()?)
    }

    async fn update_push_settings(
        &self,
        request: Request<pb::UpdatePushSettingsRequest>,
    ) -> Result<Response<pb::PushSettings>, Status> {
        let session = self.session(&request).await?;
        let patch = push_settings_patch(request.into_inner()).or_status()?;
        ok(self.app.update_push_settings(session.user_id, patch).await.or_status()?)
    }

    async fn subscribe(&self, request: Request<pb::SubscribeRequest>) -> Result<Response<EventStream>, Status> {
        let session = self.session(&request).await?;
        let after = message_id("lastMessageId", request.get_ref().last_message_id.as_deref()).or_status()?;
        let live = self.app.live(&session, after).await.or_status()?;
        tracing::debug!(user = %session.user_id, catch_up = after.is_some(), "subscribed");
        Ok(Response::new(subscribe::events(live, self.shutdown.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: &str) -> Request<()> {
        let mut request = Request::new(());
        if let Ok(v) = value.parse() {
            request.metadata_mut().insert("authorization", v);
        }
        request
    }

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_metadata() {
        assert_eq!(bearer(&with_auth("Bearer abc.def")).ok(), Some("abc.def"));
        assert_eq!(bearer(&with_auth("bearer  xyz ")).ok(), Some("xyz"));
        for bad in ["", "Bearer", "Bearer ", "Basic abc", "abc"] {
            assert!(bearer(&with_auth(bad)).is_err(), "{bad:?}");
        }
        assert!(bearer(&Request::new(())).is_err());
    }
}
