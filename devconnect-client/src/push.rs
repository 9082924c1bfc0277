//! Push notification settings.

use devconnect_types::rest::DataResponse;
use devconnect_types::{PushSettings, PushSettingsPatch};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `GET /push/settings`: which notifications I get while offline. A server with
    /// push turned off answers `unavailable`.
    pub async fn push_settings(&self) -> Result<PushSettings> {
        Ok(Self::call::<DataResponse<PushSettings>>(self.request(Method::GET, "/push/settings")).await?.data)
    }

    /// `PATCH /push/settings`: changes what `patch` gives, the rest stays; the settings
    /// now in effect.
    pub async fn update_push_settings(&self, patch: &PushSettingsPatch) -> Result<PushSettings> {
        let builder = self.request(Method::PATCH, "/push/settings").json(patch);
        Ok(Self::call::<DataResponse<PushSettings>>(builder).await?.data)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on any unexpected error")]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;

    use super::*;

    /// A server on 127.0.0.1:0 that answers one request with `status` and the JSON
    /// `body`, and hands back the request it read (head and body).
    async fn answer_once(status: u16, body: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head, then as much body as it announces.
            loop {
                let n = socket.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(reply.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&request).into_owned()
        });
        (url, task)
    }

    const SETTINGS: &str = r#"{"success":true,"message":"Push settings","data":{"messages":true,"requests":false,"groups":true,"previews":false,"mutedGroups":[]}}"#;

    #[tokio::test]
    async fn push_settings_are_read_with_the_token_from_the_data_envelope() {
        let (url, server) = answer_once(200, SETTINGS).await;
        let client = Client::new(&url).unwrap().with_token(Some("tok".to_owned()));
        let settings = client.push_settings().await.unwrap();
        assert_eq!(settings, PushSettings { requests: false, previews: false, ..PushSettings::default() },);
        let request = server.await.unwrap().to_ascii_lowercase();
        assert!(request.starts_with("get /push/settings http/1.1"), "{request}");
        assert!(request.contains("authorization: bearer tok"), "{request}");
    }

    #[tokio::test]
    async fn a_settings_change_sends_only_what_changes() {
        let (url, server) = answer_once(200, SETTINGS).await;
        let client = Client::new(&url).unwrap();
        let patch = PushSettingsPatch { requests: Some(false), ..PushSettingsPatch::default() };
        let settings = client.update_push_settings(&patch).await.unwrap();
        assert!(!settings.requests);
        let request = server.await.unwrap();
        assert!(request.starts_with("PATCH /push/settings HTTP/1.1"), "{request}");
        assert!(request.ends_with(r#"{"requests":false}"#), "{request}");
    }

    #[tokio::test]
    async fn a_server_without_push_answers_unavailable() {
        let body = r#"{"success":false,"code":"unavailable","message":"push notifications are not enabled"}"#;
        let (url, _server) = answer_once(503, body).await;
        let err = Client::new(&url).unwrap().push_settings().await.unwrap_err();
        assert_eq!((err.code(), err.status()), ("unavailable", Some(503)));
    }
}
