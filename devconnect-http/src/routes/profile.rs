//! `/profile/*`: my profile, anyone's public profile, password change, my data, and
//! deleting my account.

use devconnect_core::{AccountExport, Me, Profile, Session, UserId};
use devconnect_types::rest::{DataResponse, Done, ErrorBody, TokenResponse, UserResponse};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::template::{at1, exact};
use super::{Authed, Handled, State, authed, ok};
use crate::forms::{self, Fields, RawBody, body};
use crate::openapi::schemas;
use crate::telemetry::tag;

const ACCOUNT: &str = "/profile";
const VIEW: &str = "/profile/view";
const VIEW_ALIAS: &str = "/profile/veiw";
const EDIT: &str = "/profile/edit";
const PASSWORD: &str = "/profile/password";
const EXPORT: &str = "/profile/export";
const PUBLIC: &str = "/profile/{userId}";

/// The profile routes.
pub(super) fn routes(state: &State) -> BoxedFilter<(Response,)> {
    let b = || body(state.limits);
    exact(VIEW)
        .or(exact(VIEW_ALIAS))
        .unify()
        .and(warp::get())
        .and(authed(state))
        .then(|a: Authed| a.run(view_profile))
        .map(tag(VIEW))
        .or(exact(EDIT)
            .and(warp::patch())
            .and(authed(state))
            .and(b())
            .then(|a: Authed, body| a.run(move |st, session| edit_profile(st, session, body)))
            .map(tag(EDIT)))
        .unify()
        .or(exact(PASSWORD)
            .and(warp::patch())
            .and(authed(state))
            .and(b())
            .then(|a: Authed, body| a.run(move |st, session| change_password(st, session, body)))
            .map(tag(PASSWORD)))
        .unify()
        .or(exact(ACCOUNT)
            .and(warp::delete())
            .and(authed(state))
            .and(b())
            .then(|a: Authed, body| a.run(move |st, session| delete_account(st, session, body)))
            .map(tag(ACCOUNT)))
        .unify()
        // Before `PUBLIC`, which would take `export` for a (malformed) user id.
        .or(exact(EXPORT).and(warp::get()).and(authed(state)).then(|a: Authed| a.run(export)).map(tag(EXPORT)))
        .unify()
        .or(at1(PUBLIC)
            .and(warp::get())
            .and(authed(state))
            .then(|id, a: Authed| a.run(move |st, session| public_profile(st, session, id)))
            .map(tag(PUBLIC)))
        .unify()
        .boxed()
}

#[utoipa::path(get, path = VIEW, tag = "profile", description = "My profile (alias /profile/veiw).", security(("bearer" = [])),
    responses((status = 200, description = "Me", body = Me), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn view_profile(state: State, session: Session) -> Handled {
    let me = session.user_id;
    ok(&state.app.profile(me).await?)
}

#[utoipa::path(get, path = PUBLIC, tag = "profile", security(("bearer" = [])),
    params(("userId" = String, Path, description = "24-hex user id")),
    responses((status = 200, description = "Profile", body = Profile), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 404, description = "No such user (or one who blocked me)", body = ErrorBody)))]
pub async fn public_profile(state: State, session: Session, id: String) -> Handled {
    let id = UserId::parse("userId", &id)?;
    ok(&state.app.profile_for(session.user_id, id).await?)
}

#[utoipa::path(patch, path = EDIT, tag = "profile", security(("bearer" = [])),
    request_body(content((schemas::EditBody = "application/json"), (schemas::EditForm = "multipart/form-data"))),
    responses((status = 200, description = "Updated", body = UserResponse), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 413, description = "Upload too large", body = ErrorBody),
        (status = 415, description = "Not a JPEG, PNG or WebP image", body = ErrorBody),
        (status = 429, description = "Too many edits (Retry-After)", body = ErrorBody)))]
pub async fn edit_profile(state: State, session: Session, body: RawBody) -> Handled {
    let me = session.user_id;
    let edit = forms::profile_edit(Fields::json_or_multipart(body).await?)?;
    let user = state.app.edit_profile(me, edit).await?;
    ok(&UserResponse::new("profile updated", user))
}

#[utoipa::path(patch, path = PASSWORD, tag = "profile", description = "Change my password; every older token stops working.", security(("bearer" = [])),
    request_body(content((schemas::PasswordBody = "application/json"))),
    responses((status = 200, description = "Changed; the new token", body = TokenResponse), (status = 400, description = "Invalid input", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 429, description = "Too many attempts (Retry-After)", body = ErrorBody)))]
pub async fn change_password(state: State, session: Session, body: RawBody) -> Handled {
    let change = forms::password_change(Fields::json(&body)?)?;
    let token = state.app.change_password(&session, change).await?;
    ok(&TokenResponse::new("password changed; other sessions were logged out", token))
}

#[utoipa::path(delete, path = ACCOUNT, tag = "profile", description = "Delete my account, confirming with my password: my profile, photo, requests, connections, blocks and group memberships go (a group I own passes to its longest-standing admin, else member); the messages I sent stay for the other party, from a placeholder marked `deleted`. Every token and live session of mine ends at once. Attempts are limited like password changes.", security(("bearer" = [])),
    request_body(content((schemas::PasswordConfirmBody = "application/json"))),
    responses((status = 200, description = "Deleted", body = Done), (status = 400, description = "Invalid input, or not my password", body = ErrorBody), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody),
        (status = 429, description = "Too many attempts (Retry-After)", body = ErrorBody)))]
pub async fn delete_account(state: State, session: Session, body: RawBody) -> Handled {
    let password = forms::password_confirmation(Fields::json(&body)?)?;
    state.app.delete_account(&session, &password).await?;
    ok(&Done::new("account deleted"))
}

#[utoipa::path(get, path = EXPORT, tag = "profile", description = "Everything DevConnect holds about me, as data-protection law lets me ask for it: my profile, connections, requests, the messages I sent, my groups, the people I blocked and the reports I filed.", security(("bearer" = [])),
    responses((status = 200, description = "My data", body = DataResponse<AccountExport>), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn export(state: State, session: Session) -> Handled {
    ok(&DataResponse::new("your data", state.app.export_account(session.user_id).await?))
}
