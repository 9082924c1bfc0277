//! Accounts that come from elsewhere: bulk imports and the original DevConnect's bcrypt
//! hashes.

use std::sync::Arc;

use super::behaviours;
use super::fixtures::{PASSWORD, check, expect_code, png, service, signup_form, user_record};
use crate::Error;
use crate::auth::{Peer, Signup};

behaviours![
    pub async fn imported_users_log_in_and_invalid_imports_are_refused_as_signups(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let mut forms: Vec<Signup> =
            (0..3).map(|i| signup_form(&format!("Seed{i}"), &format!("Seed{i}@Example.com"))).collect();
        forms.push(Signup { password: "0ther!Pass".to_owned(), ..signup_form("Other", "other@example.com") });
        let ids = app.import_users(forms).await?;
        check(ids.len() == 4, "one id per form")?;
        for (i, id) in ids.iter().take(3).enumerate() {
            let auth = app.login(&format!("seed{i}@example.com"), PASSWORD, Peer::Local).await?;
            check(
                auth.user.profile.id == *id && auth.user.profile.skills == ["Rust", "Go"],
                "logs in as the imported user",
            )?;
            app.authenticate(&auth.token).await?;
        }
        let other = app.login("other@example.com", "0ther!Pass", Peer::Local).await?;
        check(ids.get(3) == Some(&other.user.profile.id), "a second password logs in too")?;
        // One hash per distinct password: what makes seeding thousands of accounts fast.
        let mut hashes = Vec::new();
        for id in &ids {
            hashes.push(store.user(*id).await?.map(|u| u.password_hash).unwrap_or_default());
        }
        check(hashes[0] == hashes[1] && hashes[1] == hashes[2] && hashes[2] != hashes[3], "hashed once per password")?;

        // An invalid form refuses the whole batch with the error its signup gets.
        let bad_forms = [
            Signup { password: "weak".into(), ..signup_form("B", "b@x.io") },
            Signup { age: Some(12), ..signup_form("B", "b@x.io") },
            Signup { skills: vec!["x".repeat(41)], ..signup_form("B", "b@x.io") },
            signup_form(" ", "b@x.io"),
            signup_form("B", "not an email"),
        ];
        for bad in bad_forms {
            let by_signup = app.signup(bad.clone(), Peer::Local).await.err().map(|e| (e.code(), e.to_string()));
            let batch = vec![signup_form("Fine", "fine@x.io"), bad];
            let by_import = app.import_users(batch).await.err().map(|e| (e.code(), e.to_string()));
            check(
                by_signup.is_some() && by_import == by_signup,
                &format!("same error: {by_import:?} vs {by_signup:?}"),
            )?;
        }
        let with_photo = Signup { photo: Some(png(8, 8)), ..signup_form("Fine", "fine@x.io") };
        expect_code(app.import_users(vec![with_photo]).await, "validation", "a photo")?;
        expect_code(
            app.import_users(vec![signup_form("Again", "SEED0@example.com")]).await,
            "conflict",
            "taken email",
        )?;
        let twins = vec![signup_form("Fine", "fine@x.io"), signup_form("Twin", " FINE@x.io")];
        expect_code(app.import_users(twins).await, "conflict", "one email twice")?;
        expect_code(
            app.login("fine@x.io", PASSWORD, Peer::Local).await,
            "unauthorized",
            "refused batches stored nothing",
        )
    }

    pub async fn legacy_bcrypt_passwords_log_in_and_are_upgraded(store: Arc<dyn Store>) -> Result<()> {
        let app = service(Arc::clone(&store))?;
        let mut legacy = user_record("legacy@example.com");
        legacy.password_hash = bcrypt::hash(PASSWORD, 4).map_err(Error::internal)?;
        store.insert_user(&legacy).await?;
        expect_code(
            app.login("legacy@example.com", "Wr0ng!pass", Peer::Local).await,
            "unauthorized",
            "wrong password",
        )?;
        let auth = app.login("legacy@example.com", PASSWORD, Peer::Local).await?;
        check(auth.user.profile.id == legacy.me.profile.id, "logged in")?;
        let stored = store.user(legacy.me.profile.id).await?.map(|u| u.password_hash).unwrap_or_default();
        check(stored.starts_with("$argon2id$"), "hash upgraded to argon2id")?;
        app.authenticate(&auth.token).await?;
        app.login("legacy@example.com", PASSWORD, Peer::Local).await.map(drop)
    }
];
