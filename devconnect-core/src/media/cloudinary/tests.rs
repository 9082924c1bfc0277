//! The Cloudinary store against [`FakeCloudinary`], a local server that checks
//! signatures as Cloudinary does, and through the service.

use std::collections::HashSet;
use std::time::Duration;

use secrecy::SecretString;
use sha1::Digest as _;

use super::*;
use crate::media::{DEFAULT_UPLOAD_LIMIT, process_image};
use crate::testkit::cloudinary::{FakeCloudinary, Mode};
use crate::testkit::png;
use crate::{Config, DevConnect, MediaConfig, ProfileEdit};

type TestResult = std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>;

const CLOUD: &str = "devconnect-test";
const KEY: &str = "614335564976464";
const SECRET: &str = "Zx9-s3cr3t-cloudinary-API-secret";
const FOLDER: &str = "devconnect/photos";

/// A fake of this cloud, accepting these credentials.
async fn start_fake() -> std::io::Result<FakeCloudinary> {
    FakeCloudinary::start(CLOUD, KEY, SECRET).await
}

/// The fake's configuration, uploading into [`FOLDER`].
fn config_of(fake: &FakeCloudinary) -> CloudinaryConfig {
    let mut config = fake.config();
    config.folder = Some(FOLDER.to_owned());
    config
}

fn media_of(fake: &FakeCloudinary) -> Result<CloudinaryMedia> {
    CloudinaryMedia::new(config_of(fake))
}

/// Everything an error could show or log: its `Display`, `Debug` and cause chain.
fn everything_said(err: &Error) -> String {
    let mut text = format!("{err} {err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(&format!(" {cause}"));
        source = cause.source();
    }
    text
}

fn assert_no_credentials(text: &str) {
    assert!(!text.contains(SECRET), "the secret leaked: {text}");
    assert!(!text.contains(KEY), "the API key leaked: {text}");
}

fn image() -> Result<Image> {
    process_image(&png(4, 3), DEFAULT_UPLOAD_LIMIT)
}

// --- the signature ---

#[test]
fn the_published_signature_example_is_reproduced() {
    let params =
        [("eager", "w_400,h_300,c_pad|w_260,h_200,c_crop"), ("public_id", "sample_image"), ("timestamp", "1315060510")];
    let expected = "bfd09f95f331f558cbd1320e67aa8d488770583e";
    assert_eq!(api_sign_request(&params, "abcd", SignatureAlgorithm::Sha1), expected);

    // Order does not matter, and the unsigned parameters are left out.
    let mut shuffled = params.to_vec();
    shuffled.reverse();
    shuffled.extend([("api_key", "1234"), ("file", "x"), ("cloud_name", "demo"), ("resource_type", "image")]);
    assert_eq!(api_sign_request(&shuffled, "abcd", SignatureAlgorithm::Sha1), expected);

    let to_sign = "eager=w_400,h_300,c_pad|w_260,h_200,c_crop&public_id=sample_image&timestamp=1315060510abcd";
    let sha256 = hex::encode(sha2::Sha256::digest(to_sign.as_bytes()));
    assert_eq!(api_sign_request(&params, "abcd", SignatureAlgorithm::Sha256), sha256);
    assert_eq!(sha256.len(), 64);
}

// --- configuration ---

#[test]
fn cloudinary_urls_parse_with_options() {
    let parsed = MediaConfig::from_url(&format!("cloudinary://{KEY}:{SECRET}@{CLOUD}"));
    let Ok(MediaConfig::Cloudinary(config)) = parsed else { return assert!(parsed.is_ok(), "{parsed:?}") };
    assert_eq!((config.cloud_name.as_str(), config.api_key.as_str()), (CLOUD, KEY));
    assert_eq!(config.api_secret.expose_secret(), SECRET);
    assert_eq!((config.folder, config.api_base.as_str()), (None, CLOUDINARY_API_BASE));
    assert_eq!((config.signature_algorithm, config.timeout), (SignatureAlgorithm::Sha1, CLOUDINARY_TIMEOUT));

    let url = format!(
        "cloudinary://{KEY}:a%40b@{CLOUD}?folder=devconnect/photos&signature_algorithm=sha256&timeout=5\
         &upload_prefix=https://api-eu.cloudinary.com&secure=true"
    );
    let parsed = MediaConfig::from_url(&url);
    let Ok(MediaConfig::Cloudinary(config)) = parsed else { return assert!(parsed.is_ok(), "{parsed:?}") };
    assert_eq!(config.api_secret.expose_secret(), "a@b");
    assert_eq!(config.folder.as_deref(), Some("devconnect/photos"));
    assert_eq!(config.signature_algorithm, SignatureAlgorithm::Sha256);
    assert_eq!(config.timeout, Duration::from_secs(5));
    assert_eq!(config.api_base, "https://api-eu.cloudinary.com");
}

#[test]
fn bad_cloudinary_urls_are_refused_without_echoing_credentials() {
    for url in [
        format!("cloudinary://{KEY}:{SECRET}"),
        format!("cloudinary://{KEY}{SECRET}@{CLOUD}"),
        format!("cloudinary://{KEY}:@{CLOUD}"),
        format!("cloudinary://:{SECRET}@{CLOUD}"),
        format!("cloudinary://{KEY}:{SECRET}@bad/cloud"),
        format!("cloudinary://{KEY}:{SECRET}%zz@{CLOUD}"),
        format!("cloudinary://{KEY}:{SECRET}@{CLOUD}?folder=../up"),
        format!("cloudinary://{KEY}:{SECRET}@{CLOUD}?signature_algorithm=md5"),
        format!("cloudinary://{KEY}:{SECRET}@{CLOUD}?timeout=0"),
        format!("cloudinary://{KEY}:{SECRET}@{CLOUD}?upload_prefix=ftp://x"),
        format!("https://{KEY}:{SECRET}@{CLOUD}"),
    ] {
        let parsed = MediaConfig::from_url(&url);
        let Err(err) = parsed else { return assert!(parsed.is_err(), "accepted a bad URL") };
        assert_eq!(err.code(), "validation");
        assert_no_credentials(&everything_said(&err));
    }
}

#[test]
fn printed_configuration_shows_no_credentials() {
    let mut config = Config::new("/tmp/devconnect");
    config.media = MediaConfig::Cloudinary(CloudinaryConfig::new(CLOUD, KEY, SecretString::from(SECRET.to_owned())));
    let printed = format!("{config:?} {:#?}", config.media);
    assert!(printed.contains(CLOUD));
    assert_no_credentials(&printed);
    assert_eq!(config.media_dir(), None);
}

// --- against the fake Cloudinary ---

#[tokio::test]
async fn uploads_are_signed_and_stored_at_the_secure_url_then_destroyed() -> TestResult {
    for algorithm in [SignatureAlgorithm::Sha1, SignatureAlgorithm::Sha256] {
        let fake = start_fake().await?;
        let mut config = config_of(&fake);
        config.signature_algorithm = algorithm;
        let media = CloudinaryMedia::new(config)?;
        let image = image()?;
        let stem = image.name.trim_end_matches(".png");

        let url = media.put(&image).await?;
        let calls = fake.calls();
        let [upload] = calls.as_slice() else { return Err(format!("expected one call: {calls:?}").into()) };
        assert_eq!(upload.action, "upload");
        assert!(upload.signature_valid, "{upload:?}");
        assert_eq!(upload.secure_url.as_deref(), Some(url.as_str()));
        assert_eq!(upload.fields.get("public_id").map(String::as_str), Some(stem));
        assert_eq!(upload.fields.get("folder").map(String::as_str), Some("devconnect/photos"));
        assert_eq!(upload.fields.get("api_key").map(String::as_str), Some(KEY));
        assert!(!upload.fields.values().any(|v| v.contains(SECRET)), "the secret was sent");
        assert_eq!(upload.file.as_ref().map(|(_, bytes)| bytes), Some(&image.bytes));
        let sent_algorithm = upload.fields.get("signature_algorithm").map(String::as_str);
        assert_eq!(sent_algorithm, (algorithm == SignatureAlgorithm::Sha256).then_some("sha256"));
        assert!(url.starts_with(&format!("https://res.cloudinary.com/{CLOUD}/image/upload/v")));
        assert!(url.ends_with(&format!("/devconnect/photos/{stem}.png")));
        assert_eq!(media.public_id_of(&url), Some(format!("devconnect/photos/{stem}")));

        media.delete(&url).await?;
        let calls = fake.calls();
        let destroy = calls.last().ok_or("no destroy call")?;
        assert_eq!(destroy.action, "destroy");
        assert!(destroy.signature_valid, "{destroy:?}");
        assert_eq!(destroy.fields.get("public_id"), Some(&format!("devconnect/photos/{stem}")));
        assert_eq!(destroy.fields.get("invalidate").map(String::as_str), Some("true"));
        assert!(fake.assets().is_empty());
        // Deleting again is not an error ("not found").
        media.delete(&url).await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_rejected_signature_is_a_clear_error_without_credentials() -> TestResult {
    let fake = start_fake().await?;
    let mut config = config_of(&fake);
    config.api_secret = SecretString::from("Wr0ng-secret-of-the-right-length".to_owned());
    let wrong_secret = config.api_secret.expose_secret().to_owned();
    let media = CloudinaryMedia::new(config)?;
    let result = media.put(&image()?).await;
    let Err(err) = result else { return Err("a wrongly signed upload succeeded".into()) };
    assert_eq!(err.code(), "internal");
    assert_eq!(err.to_string(), "internal error");
    let said = everything_said(&err);
    assert!(said.contains("upload refused: HTTP 401") && said.contains("Invalid Signature"), "{said}");
    assert_no_credentials(&said);
    assert!(!said.contains(&wrong_secret), "{said}");
    assert!(fake.calls().iter().all(|c| !c.signature_valid));
    assert!(fake.assets().is_empty());
    Ok(())
}

#[tokio::test]
async fn an_unknown_api_key_echoed_by_cloudinary_is_redacted() -> TestResult {
    let fake = start_fake().await?;
    let mut config = config_of(&fake);
    config.api_key = "999888777666555".to_owned();
    let media = CloudinaryMedia::new(config)?;
    let Err(err) = media.put(&image()?).await else { return Err("an unknown key was accepted".into()) };
    let said = everything_said(&err);
    assert!(said.contains("Unknown API key [REDACTED]"), "{said}");
    assert!(!said.contains("999888777666555"), "{said}");
    assert_no_credentials(&said);
    Ok(())
}

#[tokio::test]
async fn server_errors_are_internal_errors() -> TestResult {
    let fake = start_fake().await?;
    fake.set_mode(Mode::Fail500);
    let media = media_of(&fake)?;
    let Err(err) = media.put(&image()?).await else { return Err("a 500 was taken for an upload".into()) };
    assert_eq!(err.code(), "internal");
    let said = everything_said(&err);
    assert!(said.contains("HTTP 500") && said.contains("General Error"), "{said}");
    assert_no_credentials(&said);

    let url = format!("https://res.cloudinary.com/{CLOUD}/image/upload/v1/{}.png", "0".repeat(32));
    let Err(err) = media.delete(&url).await else { return Err("a 500 was taken for a destroy".into()) };
    assert_no_credentials(&everything_said(&err));
    Ok(())
}

#[tokio::test]
async fn an_unexpected_answer_is_an_internal_error() -> TestResult {
    let fake = start_fake().await?;
    fake.set_mode(Mode::Garbage);
    let media = media_of(&fake)?;
    let Err(err) = media.put(&image()?).await else { return Err("a garbage answer was taken".into()) };
    assert_eq!(err.code(), "internal");
    let said = everything_said(&err);
    assert!(said.contains("upload: unexpected answer (HTTP 200 OK)"), "{said}");
    assert_no_credentials(&said);
    Ok(())
}

#[tokio::test]
async fn a_silent_server_times_out() -> TestResult {
    let fake = start_fake().await?;
    fake.set_mode(Mode::NeverAnswer);
    let mut config = config_of(&fake);
    config.timeout = Duration::from_millis(300);
    let media = CloudinaryMedia::new(config)?;
    let started = std::time::Instant::now();
    let Err(err) = media.put(&image()?).await else { return Err("an unanswered upload succeeded".into()) };
    assert!(started.elapsed() < Duration::from_secs(10));
    let said = everything_said(&err);
    assert!(said.contains("upload timed out after 300 ms"), "{said}");
    assert_no_credentials(&said);
    Ok(())
}

#[tokio::test]
async fn an_unreachable_api_is_an_internal_error() -> TestResult {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0").await?.local_addr()?.port();
    let mut config = CloudinaryConfig::new(CLOUD, KEY, SecretString::from(SECRET.to_owned()));
    config.api_base = format!("http://127.0.0.1:{port}");
    let media = CloudinaryMedia::new(config)?;
    let Err(err) = media.put(&image()?).await else { return Err("an upload to nowhere succeeded".into()) };
    assert_eq!(err.code(), "internal");
    assert_no_credentials(&everything_said(&err));
    Ok(())
}

#[tokio::test]
async fn only_assets_this_store_made_in_this_cloud_are_destroyed() -> TestResult {
    let fake = start_fake().await?;
    let media = media_of(&fake)?;
    let stem = "0123456789abcdef0123456789abcdef";
    for (url, expected) in [
        (format!("https://res.cloudinary.com/{CLOUD}/image/upload/v17/{stem}.jpg"), Some(stem.to_owned())),
        (format!("https://res.cloudinary.com/{CLOUD}/image/upload/{stem}.webp"), Some(stem.to_owned())),
        (format!("https://res.cloudinary.com/{CLOUD}/image/upload/v1/a/b-c/{stem}.png"), Some(format!("a/b-c/{stem}"))),
        (format!("https://res.cloudinary.com/other-cloud/image/upload/v1/{stem}.png"), None),
        (format!("https://res.cloudinary.com/{CLOUD}/image/upload/v1/default_avatar.png"), None),
        (format!("https://res.cloudinary.com/{CLOUD}/video/upload/v1/{stem}.mp4"), None),
        (format!("https://res.cloudinary.com/{CLOUD}/image/upload/v1/../{stem}.png"), None),
        (format!("https://res.cloudinary.com/{CLOUD}/image/upload/v1/{stem}.png?x=1"), None),
        (format!("http://res.cloudinary.com/{CLOUD}/image/upload/v1/{stem}.png"), None),
        (format!("/media/{stem}.png"), None),
    ] {
        assert_eq!(media.public_id_of(&url), expected, "{url}");
        if expected.is_none() {
            media.delete(&url).await?;
        }
    }
    assert!(fake.calls().is_empty(), "a foreign URL reached Cloudinary");
    Ok(())
}

// --- through the service ---

#[cfg(feature = "sqlite")]
async fn service(fake: &FakeCloudinary, dir: &std::path::Path) -> Result<DevConnect> {
    let mut config = Config::new(dir);
    config.database_url = Some("sqlite::memory:".to_owned());
    config.media = MediaConfig::Cloudinary(config_of(fake));
    DevConnect::open(config).await
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn a_signup_photo_lands_on_cloudinary_and_replacing_it_destroys_the_old_one() -> TestResult {
    let fake = start_fake().await?;
    let dir = tempfile::tempdir()?;
    let app = service(&fake, dir.path()).await?;
    let mut signup = crate::testkit::signup_form("Ada", "ada@example.com");
    signup.photo = Some(png(8, 8));
    let auth = app.signup(signup, crate::Peer::Local).await?;
    let first = auth.user.profile.photo_url.clone().ok_or("no photo URL")?;
    assert_eq!(fake.calls().first().and_then(|c| c.secure_url.clone()).as_ref(), Some(&first));
    assert!(first.starts_with(&format!("https://res.cloudinary.com/{CLOUD}/image/upload/")));

    let me = app.set_photo(auth.user.profile.id, png(6, 6)).await?;
    let second = me.profile.photo_url.ok_or("no photo URL")?;
    assert_ne!(first, second);
    let media = media_of(&fake)?;
    let (old_id, new_id) = (media.public_id_of(&first), media.public_id_of(&second));
    assert_eq!(fake.assets(), new_id.into_iter().collect::<HashSet<_>>(), "the old asset was not destroyed");
    let destroy = fake.calls().into_iter().find(|c| c.action == "destroy").ok_or("no destroy call")?;
    assert!(destroy.signature_valid);
    assert_eq!(destroy.fields.get("public_id"), old_id.as_ref());
    assert_eq!(app.profile(auth.user.profile.id).await?.profile.photo_url.as_ref(), Some(&second));
    Ok(())
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn a_failed_upload_leaves_the_profile_unchanged() -> TestResult {
    let fake = start_fake().await?;
    let dir = tempfile::tempdir()?;
    let app = service(&fake, dir.path()).await?;
    let mut signup = crate::testkit::signup_form("Ada", "ada@example.com");
    signup.photo = Some(png(8, 8));
    let auth = app.signup(signup, crate::Peer::Local).await?;
    let id = auth.user.profile.id;
    let before = app.profile(id).await?;
    let calls_before = fake.calls().len();

    fake.set_mode(Mode::Fail500);
    let edit = ProfileEdit { first_name: Some("Grace".to_owned()), photo: Some(png(6, 6)), ..ProfileEdit::default() };
    let Err(err) = app.edit_profile(id, edit).await else { return Err("the edit succeeded".into()) };
    assert_eq!(err.code(), "internal");
    assert_no_credentials(&everything_said(&err));
    let after = app.profile(id).await?;
    assert_eq!(after.profile.first_name, before.profile.first_name);
    assert_eq!(after.profile.photo_url, before.profile.photo_url);
    assert_eq!(after.profile.updated_at, before.profile.updated_at);
    let calls = fake.calls();
    assert_eq!(calls.len(), calls_before + 1, "{calls:?}");
    assert!(calls[calls_before..].iter().all(|c| c.action == "upload"), "something was destroyed");
    assert_eq!(fake.assets().len(), 1, "the old photo must survive");

    // A signup whose photo cannot be stored creates no account.
    let mut signup = crate::testkit::signup_form("Bob", "bob@example.com");
    signup.photo = Some(png(8, 8));
    assert!(app.signup(signup, crate::Peer::Local).await.is_err());
    fake.set_mode(Mode::Answer);
    assert!(app.signup(crate::testkit::signup_form("Bob", "bob@example.com"), crate::Peer::Local).await.is_ok());
    Ok(())
}
