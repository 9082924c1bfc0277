//! Photos on Cloudinary: the server uploads through the Cloudinary media store and the
//! user's `photoURL` is the `secure_url` Cloudinary answered. Cloudinary is the core's
//! [`FakeCloudinary`], which checks signatures as the real service does and records
//! what it received.

use devconnect_core::MediaConfig;
use devconnect_core::testkit::cloudinary::FakeCloudinary;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn a_signup_photo_goes_to_cloudinary_and_its_url_is_the_photo_url() {
    let fake = FakeCloudinary::start("demo", "key123", "s3cret").await.unwrap();
    let media = MediaConfig::from_url(&fake.url()).unwrap();
    let app = spawn_app_with(|c| c.service.media_url = Some(media)).await;
    let form = Form::new()
        .text("firstName", "Cleo")
        .text("emailID", unique_email("cleo"))
        .text("password", PASSWORD)
        .part("image", Part::bytes(jpeg(16, 16)).file_name("me.jpg").mime_str("image/jpeg").unwrap());
    let r = app.http.post(app.at("/auth/signup")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();

    let calls = fake.calls();
    assert_eq!(calls.len(), 1, "one upload: {calls:?}");
    let upload = &calls[0];
    assert_eq!(upload.path, "/v1_1/demo/image/upload");
    assert!(upload.secure_url.is_some(), "Cloudinary accepted the upload: {upload:?}");
    assert_eq!(v["user"]["photoURL"].as_str(), upload.secure_url.as_deref(), "the photo URL is the secure_url");
    for field in ["api_key", "timestamp", "signature"] {
        assert!(upload.fields.contains_key(field), "the upload carries {field}");
    }
    assert!(upload.file.as_ref().is_some_and(|(_, bytes)| !bytes.is_empty()), "the upload carries the file");
    assert!(upload.signature_valid, "the upload is signed with the secret");
    assert!(!upload.contains("s3cret"), "the secret itself is never sent");
    // Nothing is served locally when images live on Cloudinary.
    let r = app.http.get(app.at("/media/0123456789abcdef0123456789abcdef.jpg")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
