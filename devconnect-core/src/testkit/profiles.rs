//! Profiles and their media: own and public views, edits, photos and image decoding.

use std::sync::Arc;

use secrecy::SecretString;

use super::behaviours;
use super::fixtures::{
    MEDIA_BASE, SECRET, check, connect, expect_code, png, service, service_with, signup_form, user, user_record,
};
use crate::auth::{Peer, Signup};
use crate::chat::NewMessage;
use crate::media::{LocalMedia, Upload};
use crate::profile::ProfileEdit;
use crate::{DevConnect, Error, RateLimit, Result, Settings, UserId};

behaviours![
    pub async fn own_profile_has_email_and_public_profile_does_not(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let me = serde_json::to_value(app.profile(ada).await?).map_err(Error::internal)?;
        check(me["emailID"] == "ada@example.com", "own profile has email")?;
        check(me["_id"] == ada.to_hex(), "own profile has _id")?;
        let public = serde_json::to_value(app.public_profile(ada).await?).map_err(Error::internal)?;
        check(public.get("emailID").is_none(), "public profile has no email")?;
        for value in [&me, &public] {
            let text = value.to_string();
            check(!text.contains("argon2") && !text.contains("password"), "no credentials")?;
        }
        expect_code(app.public_profile(UserId::new()).await, "not_found", "unknown user")
    }

    pub async fn profile_edits_are_validated_and_persisted(store: Arc<dyn Store>) -> Result<()> {
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let before = app.profile(ada).await?;
        let edit = ProfileEdit {
            about: Some("  Systems programmer  ".into()),
            skills: Some(vec!["Zig".into(), "zig".into(), "C".into()]),
            age: Some(41),
            ..ProfileEdit::default()
        };
        let after = app.edit_profile(ada, edit).await?;
        check(after.profile.about == "Systems programmer", "about trimmed")?;
        check(after.profile.skills == ["Zig", "C"], "skills deduplicated")?;
        check(after.profile.age == Some(41), "age")?;
        check(after.profile.first_name == before.profile.first_name, "untouched field kept")?;
        check(after.profile.updated_at >= before.profile.updated_at, "updated_at moves")?;
        check(app.profile(ada).await? == after, "edit persisted")?;
        let bad = ProfileEdit { first_name: Some("ok".into()), age: Some(7), ..ProfileEdit::default() };
        expect_code(app.edit_profile(ada, bad).await, "validation", "bad age")?;
        check(app.profile(ada).await?.profile.first_name == before.profile.first_name, "nothing changed on error")?;
        let long = ProfileEdit { about: Some("x".repeat(5000)), ..ProfileEdit::default() };
        expect_code(app.edit_profile(ada, long).await, "validation", "about too long")?;
        let gender = ProfileEdit { gender: Some("robot".into()), ..ProfileEdit::default() };
        expect_code(app.edit_profile(ada, gender).await, "validation", "gender")?;
        expect_code(app.edit_profile(UserId::new(), ProfileEdit::default()).await, "not_found", "unknown user")
    }

    pub async fn location_and_experience_are_optional_edited_and_cleared(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let (ada, _) = user(&app, "Ada").await?;
        let fresh = serde_json::to_value(app.public_profile(ada).await?).map_err(Error::internal)?;
        check(fresh.get("location").is_none() && fresh.get("experienceYears").is_none(), "absent until set")?;
        let edit = ProfileEdit {
            location: Some("  Berlin, Germany ".into()),
            experience_years: Some(7),
            ..ProfileEdit::default()
        };
        let after = app.edit_profile(ada, edit).await?;
        check(after.profile.location.as_deref() == Some("Berlin, Germany"), "location trimmed")?;
        check(after.profile.experience_years == Some(7), "experience")?;
        check(app.public_profile(ada).await? == after.profile, "persisted and public")?;
        let json = serde_json::to_value(&after.profile).map_err(Error::internal)?;
        check(json["location"] == "Berlin, Germany" && json["experienceYears"] == 7, "camelCase on the wire")?;
        // Another edit leaves them alone; an empty location clears it, experience stays.
        let other = app.edit_profile(ada, ProfileEdit { about: Some("hi".into()), ..ProfileEdit::default() }).await?;
        check(other.profile.location == after.profile.location, "kept by other edits")?;
        let cleared =
            app.edit_profile(ada, ProfileEdit { location: Some(" ".into()), ..ProfileEdit::default() }).await?;
        check(cleared.profile.location.is_none() && cleared.profile.experience_years == Some(7), "cleared")?;
        check(app.public_profile(ada).await?.location.is_none(), "clear persisted")?;
        for years in [-1, 61] {
            let bad = ProfileEdit { experience_years: Some(years), ..ProfileEdit::default() };
            expect_code(app.edit_profile(ada, bad).await, "validation", "experience out of range")?;
        }
        let long = ProfileEdit { location: Some("x".repeat(101)), ..ProfileEdit::default() };
        expect_code(app.edit_profile(ada, long).await, "validation", "location too long")?;
        // A record written without them (as before they existed) reads as absent.
        let old = user_record("old@example.com");
        store.insert_user(&old).await?;
        let read = app.public_profile(old.me.profile.id).await?;
        check(read.location.is_none() && read.experience_years.is_none(), "old records")
    }

    pub async fn a_new_photo_replaces_and_deletes_the_old_one(store: Arc<dyn Store>) -> Result<()> {
        let dir = tempfile::tempdir().map_err(Error::internal)?;
        let media = Arc::new(LocalMedia::new(dir.path(), MEDIA_BASE)?);
        let settings = Settings { message_rate: RateLimit::per_minute(0), ..Settings::default() };
        let app = DevConnect::new(store, media, &SecretString::from(SECRET.to_owned()), settings)?;
        let auth =
            app.signup(Signup { photo: Some(png(8, 8)), ..signup_form("Ada", "ada@example.com") }, Peer::Local).await?;
        let first = auth.user.profile.photo_url.clone().unwrap_or_default();
        check(first.starts_with(&format!("{MEDIA_BASE}/")) && first.ends_with(".png"), "photo url")?;
        let file = |url: &str| dir.path().join(url.trim_start_matches(&format!("{MEDIA_BASE}/")));
        check(file(&first).exists(), "first photo stored")?;
        let me = app.set_photo(auth.user.profile.id, png(4, 4)).await?;
        let second = me.profile.photo_url.unwrap_or_default();
        check(second != first && file(&second).exists(), "second photo stored")?;
        check(!file(&first).exists(), "first photo deleted")?;
        expect_code(
            app.set_photo(auth.user.profile.id, Upload(b"%PDF-1.4".to_vec())).await,
            "unsupported_media_type",
            "pdf",
        )?;
        check(app.profile(auth.user.profile.id).await?.profile.photo_url == Some(second), "photo unchanged on error")
    }

    pub async fn media_urls_are_absolute_and_follow_the_public_base(store: Arc<dyn Store>) -> Result<()> {
        let dir = tempfile::tempdir().map_err(Error::internal)?;
        let serving = |base: &str| -> Result<DevConnect> {
            let media = Arc::new(LocalMedia::new(dir.path(), base)?);
            let settings = Settings { message_rate: RateLimit::per_minute(0), ..Settings::default() };
            DevConnect::new(Arc::clone(&store), media, &SecretString::from(SECRET.to_owned()), settings)
        };
        let one = serving("https://one.example/media")?;
        let ada =
            one.signup(Signup { photo: Some(png(4, 4)), ..signup_form("Ada", "ada@example.com") }, Peer::Local).await?;
        let (ada, url) = (ada.user.profile.id, ada.user.profile.photo_url.unwrap_or_default());
        let name = url.strip_prefix("https://one.example/media/").unwrap_or_default().to_owned();
        check(crate::media::is_media_name(&name), &format!("an absolute URL under the public base: {url}"))?;
        let stored = store.user(ada).await?.and_then(|u| u.me.profile.photo_url);
        check(stored.as_deref() == Some(name.as_str()), "records keep the name, not the URL")?;
        let (bob, _) = user(&one, "Bob").await?;
        connect(&one, ada, bob).await?;
        one.send_message(ada, bob, NewMessage { image: Some(png(2, 2)), ..NewMessage::default() }).await?;

        // A new public address (a new domain, a load balancer) changes every URL handed out.
        let two = serving("https://two.example/media")?;
        let moved = format!("https://two.example/media/{name}");
        check(two.public_profile(ada).await?.photo_url.as_deref() == Some(moved.as_str()), "a profile follows it")?;
        let history = two.history(bob, ada, None, None).await?;
        let image = history.first().and_then(|m| m.image.as_deref()).unwrap_or_default();
        check(image.starts_with("https://two.example/media/"), &format!("a chat image follows it: {image}"))?;

        // Relative URLs stored by earlier versions resolve too; absolute ones pass through.
        let mut legacy = user_record("legacy@example.com");
        legacy.me.profile.photo_url = Some(format!("/media/{name}"));
        let mut cloud = user_record("cloud@example.com");
        cloud.me.profile.photo_url = Some("https://res.cloudinary.com/demo/image/upload/v1/a.png".to_owned());
        for record in [&legacy, &cloud] {
            store.insert_user(record).await?;
        }
        let legacy_url = two.public_profile(legacy.me.profile.id).await?.photo_url;
        check(legacy_url.as_deref() == Some(moved.as_str()), "a relative URL of an earlier version")?;
        let cloud_url = two.public_profile(cloud.me.profile.id).await?.photo_url;
        check(cloud_url == cloud.me.profile.photo_url, "an absolute URL is left as it is")
    }

    pub async fn edits_are_rate_limited_per_user_before_any_photo_is_decoded(store: Arc<dyn Store>) -> Result<()> {
        let settings = Settings { edit_rate: RateLimit::per_minute(2), ..Settings::default() };
        let app = service_with(store, settings)?;
        let ((ada, _), (bob, _)) = (user(&app, "Ada").await?, user(&app, "Bob").await?);
        let about = |text: &str| ProfileEdit { about: Some(text.into()), ..ProfileEdit::default() };
        app.edit_profile(ada, about("one")).await?;
        let invalid = ProfileEdit { age: Some(3), ..ProfileEdit::default() };
        expect_code(app.edit_profile(ada, invalid).await, "validation", "an invalid edit is refused first")?;
        let group = crate::groups::NewGroup {
            name: "Rustaceans".into(),
            description: String::new(),
            visibility: devconnect_types::Visibility::Public,
            tags: Vec::new(),
        };
        app.create_group(ada, group.clone()).await?;
        expect_code(app.edit_profile(ada, about("three")).await, "rate_limited", "the third edit")?;
        // Refused before decoding: a photo that is not an image is not even looked at.
        expect_code(app.set_photo(ada, Upload(b"not an image".to_vec())).await, "rate_limited", "a photo")?;
        expect_code(app.create_group(ada, group).await, "rate_limited", "a group")?;
        check(app.profile(ada).await?.profile.about == "one", "the refused edit changed nothing")?;
        app.edit_profile(bob, about("mine")).await.map(drop)
    }

    pub async fn image_decodes_wait_for_their_share_of_the_memory_budget(store: Arc<dyn Store>) -> Result<()> {
        // Room for one 64 × 64 decode at a time: concurrent uploads wait their turn and all
        // succeed; an image whose decode alone exceeds the budget is refused.
        let budget = Settings { image_decode_budget: 64 * 64 * 4 * 3 + 1024, ..Settings::default() };
        let app = service_with(store, budget)?;
        let (ada, _) = user(&app, "Ada").await?;
        let uploads: Vec<_> = (0..4)
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move { app.set_photo(ada, png(64, 64)).await })
            })
            .collect();
        for upload in uploads {
            upload.await.map_err(Error::internal)??;
        }
        expect_code(app.set_photo(ada, png(128, 128)).await, "validation", "an image over the budget")
    }
];
