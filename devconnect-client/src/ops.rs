//! Health, the OpenAPI document and media.

use reqwest::Method;

use crate::{Client, ClientError, Result};

impl Client {
    /// `GET /healthz`: whether the server and its store are up.
    pub async fn health(&self) -> Result<()> {
        Self::send(self.request(Method::GET, "/healthz")).await.map(drop)
    }

    /// `GET /openapi.json`.
    pub async fn openapi(&self) -> Result<serde_json::Value> {
        Self::call(self.request(Method::GET, "/openapi.json")).await
    }

    /// Downloads a media URL as returned in `photoURL` or `image` (relative or absolute):
    /// the bytes and the content type.
    pub async fn media(&self, url: &str) -> Result<(Vec<u8>, Option<String>)> {
        let full = if url.starts_with('/') { format!("{}{url}", self.base) } else { url.to_owned() };
        let response = self.http.get(full).send().await?;
        let status = response.status();
        let content_type =
            response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = response.bytes().await?;
        if !status.is_success() {
            return Err(ClientError::Api {
                status: status.as_u16(),
                code: format!("http_{}", status.as_u16()),
                message: "media not available".to_owned(),
                retry_after: None,
            });
        }
        Ok((bytes.to_vec(), content_type))
    }
}
