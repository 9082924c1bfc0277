//! The feed, search and 1:1 messages.

use devconnect_types::rest::{DataResponse, FeedResponse, ListResponse, ReadResponse, SearchResponse, SyncResponse};
use devconnect_types::search::SearchPage;
use devconnect_types::{ChatPartner, Conversation, FeedPage, Message, MessageId, Sent, SyncPage, UserId};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::json;

use crate::{Client, ClientError, Result, UserSearch, paged};

impl Client {
    /// `GET /users/feed?page&limit&skills`.
    pub async fn feed(&self, page: u32, limit: u32, skills: &[&str]) -> Result<FeedPage> {
        let mut builder = self.request(Method::GET, "/users/feed").query(&[("page", page), ("limit", limit)]);
        if !skills.is_empty() {
            builder = builder.query(&[("skills", skills.join(","))]);
        }
        Ok(Self::call::<FeedResponse>(builder).await?.into())
    }

    /// `GET /users/search?q&skills&location&minExperience&maxExperience&page&limit&asOf`.
    pub async fn search_users(&self, search: &UserSearch) -> Result<SearchPage> {
        let mut query: Vec<(&str, String)> = Vec::new();
        let texts = [("q", search.q.trim()), ("location", search.location.trim())];
        query.extend(texts.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k, v.to_owned())));
        if !search.skills.is_empty() {
            query.push(("skills", search.skills.join(",")));
        }
        let numbers = [
            ("minExperience", search.min_experience.map(u32::from)),
            ("maxExperience", search.max_experience.map(u32::from)),
            ("page", search.page),
            ("limit", search.limit),
        ];
        query.extend(numbers.into_iter().filter_map(|(k, v)| Some((k, v?.to_string()))));
        if let Some(as_of) = search.as_of {
            query.push(("asOf", as_of.to_string()));
        }
        let builder = self.request(Method::GET, "/users/search").query(&query);
        Ok(Self::call::<SearchResponse>(builder).await?.into())
    }

    /// `GET /message/connections`: chat partners, most recent conversation first.
    pub async fn chat_partners(&self) -> Result<Vec<ChatPartner>> {
        Ok(Self::call::<ListResponse<_>>(self.request(Method::GET, "/message/connections")).await?.requests)
    }

    /// `GET /conversations`: my 1:1 and group conversations, most recent first.
    pub async fn conversations(&self) -> Result<Vec<Conversation>> {
        Ok(Self::call::<DataResponse<_>>(self.request(Method::GET, "/conversations")).await?.data)
    }

    /// `GET /message/:userId?before&limit`: history, oldest first.
    pub async fn history(&self, other: UserId, before: Option<MessageId>, limit: Option<u32>) -> Result<Vec<Message>> {
        let builder = self.request(Method::GET, &format!("/message/{other}"));
        Self::call(paged(builder, ("before", before), limit)).await
    }

    /// `POST /message/:receiverId` with text and an optional idempotency key.
    pub async fn send_message(&self, to: UserId, text: &str, client_msg_id: Option<&str>) -> Result<Sent> {
        let builder = self
            .request(Method::POST, &format!("/message/{to}"))
            .json(&json!({"text": text, "clientMsgId": client_msg_id}));
        Self::sent(builder).await
    }

    /// `POST /message/:receiverId` as a multipart form with an image.
    pub async fn send_image(
        &self,
        to: UserId,
        text: &str,
        image: (Vec<u8>, String),
        client_msg_id: Option<&str>,
    ) -> Result<Sent> {
        let mut form = reqwest::multipart::Form::new().text("text", text.to_owned());
        if let Some(id) = client_msg_id {
            form = form.text("clientMsgId", id.to_owned());
        }
        let form = form.part("image", reqwest::multipart::Part::bytes(image.0).file_name(image.1));
        Self::sent(self.request(Method::POST, &format!("/message/{to}")).multipart(form)).await
    }

    async fn sent(builder: RequestBuilder) -> Result<Sent> {
        let (status, body) = Self::send(builder).await?;
        let message: Message = serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()))?;
        Ok(Sent { message, created: status == StatusCode::CREATED })
    }

    /// `GET /message/sync?after&limit`: everything to or from me after a message.
    pub async fn sync(&self, after: Option<MessageId>, limit: Option<u32>) -> Result<SyncPage> {
        let builder = self.request(Method::GET, "/message/sync");
        Ok(Self::call::<SyncResponse>(paged(builder, ("after", after), limit)).await?.into())
    }

    /// `POST /message/:userId/read`: marks their messages to me as read.
    pub async fn mark_read(&self, other: UserId) -> Result<Option<MessageId>> {
        Ok(Self::call::<ReadResponse>(self.request(Method::POST, &format!("/message/{other}/read"))).await?.up_to)
    }
}
