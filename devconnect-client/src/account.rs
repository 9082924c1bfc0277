//! Signup, login, logout and one's profile.

use devconnect_types::rest::{TokenResponse, UserResponse};
use devconnect_types::{Me, Profile, UserId};
use reqwest::Method;
use serde_json::json;

use crate::{Client, LoggedIn, NewAccount, ProfileChanges, Result};

impl Client {
    /// `POST /auth/signup`; keeps the returned token.
    pub async fn signup(&self, account: &NewAccount) -> Result<LoggedIn> {
        let builder = self.request(Method::POST, "/auth/signup");
        let builder = match &account.photo {
            Some(photo) => builder.multipart(Self::form_with_photo(account, photo)?),
            None => builder.json(account),
        };
        Ok(self.logged_in(Self::call(builder).await?))
    }

    /// `POST /auth/login`; keeps the returned token.
    pub async fn login(&self, email: &str, password: &str) -> Result<LoggedIn> {
        let builder = self.request(Method::POST, "/auth/login").json(&json!({"emailID": email, "password": password}));
        Ok(self.logged_in(Self::call(builder).await?))
    }

    /// `POST /auth/logout`; the token stops working and is forgotten.
    pub async fn logout(&self) -> Result<()> {
        Self::send(self.request(Method::POST, "/auth/logout")).await?;
        self.set_token(None);
        Ok(())
    }

    /// `GET /profile/view`: my own profile.
    pub async fn me(&self) -> Result<Me> {
        Self::call(self.request(Method::GET, "/profile/view")).await
    }

    /// `GET /profile/:userId`: anyone's public profile.
    pub async fn profile(&self, id: UserId) -> Result<Profile> {
        Self::call(self.request(Method::GET, &format!("/profile/{id}"))).await
    }

    /// `PATCH /profile/edit`.
    pub async fn edit_profile(&self, changes: &ProfileChanges) -> Result<Me> {
        let builder = self.request(Method::PATCH, "/profile/edit");
        let builder = match &changes.photo {
            Some(photo) => builder.multipart(Self::form_with_photo(changes, photo)?),
            None => builder.json(changes),
        };
        Ok(Self::call::<UserResponse>(builder).await?.user)
    }

    /// `PATCH /profile/password`; keeps the new token (all older ones stop working).
    pub async fn change_password(&self, old: &str, new: &str) -> Result<()> {
        let body = json!({"oldPassword": old, "newPassword": new, "confirmPassword": new});
        let builder = self.request(Method::PATCH, "/profile/password").json(&body);
        let token = Self::call::<TokenResponse>(builder).await?.token;
        self.set_token(Some(token));
        Ok(())
    }
}
