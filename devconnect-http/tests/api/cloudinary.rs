//! Photos on Cloudinary: the server uploads through the Cloudinary media store and the
//! user's `photoURL` is the `secure_url` Cloudinary answered. A small local stand-in
//! for Cloudinary's upload endpoint records what it received.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use devconnect_core::MediaConfig;
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::*;

/// Starts the stand-in; returns its base URL and the paths and bodies it received.
async fn fake_cloudinary() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let log = Arc::clone(&log);
                async move {
                    let path = req.uri().path().to_owned();
                    let body =
                        req.into_body().collect().await.map(http_body_util::Collected::to_bytes).unwrap_or_default();
                    log.lock().unwrap().push((path, String::from_utf8_lossy(&body).into_owned()));
                    let reply = serde_json::json!({
                        "public_id": "abc",
                        "secure_url": "https://res.cloudinary.com/demo/image/upload/v1/abc.jpg",
                    });
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from(reply.to_string()))))
                }
            });
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    (base, seen)
}

#[tokio::test]
async fn a_signup_photo_goes_to_cloudinary_and_its_url_is_the_photo_url() {
    let (base, seen) = fake_cloudinary().await;
    let media = MediaConfig::from_url(&format!("cloudinary://key123:s3cret@demo?upload_prefix={base}")).unwrap();
    let app = spawn_app_with(|c| c.service.media_url = Some(media)).await;
    let form = Form::new()
        .text("firstName", "Cleo")
        .text("emailID", unique_email("cleo"))
        .text("password", PASSWORD)
        .part("image", Part::bytes(jpeg(16, 16)).file_name("me.jpg").mime_str("image/jpeg").unwrap());
    let r = app.http.post(app.at("/auth/signup")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["user"]["photoURL"], "https://res.cloudinary.com/demo/image/upload/v1/abc.jpg");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "one upload");
    let (path, body) = &seen[0];
    assert_eq!(path, "/v1_1/demo/image/upload");
    for field in ["api_key", "timestamp", "signature", "file"] {
        assert!(body.contains(&format!("name=\"{field}\"")), "the upload carries {field}");
    }
    assert!(!body.contains("s3cret"), "the secret itself is never sent");
    // Nothing is served locally when images live on Cloudinary.
    let r = app.http.get(app.at("/media/0123456789abcdef0123456789abcdef.jpg")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
