//! `/auth/*` (aliases `/signup`, `/login`, `/logout`): accounts and tokens.

use devconnect_core::Session;
use devconnect_types::rest::{AuthResponse, Done, ErrorBody};
use http::StatusCode;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::template::exact;
use super::{Authed, ClientAddr, Handled, State, authed, client_addr, json_status, ok, peer, respond, with_state};
use crate::forms::{self, Fields, RawBody, body};
use crate::openapi::schemas;
use crate::telemetry::tag;

const SIGNUP: &str = "/auth/signup";
const SIGNUP_ALIAS: &str = "/signup";
const LOGIN: &str = "/auth/login";
const LOGIN_ALIAS: &str = "/login";
const LOGOUT: &str = "/auth/logout";
const LOGOUT_ALIAS: &str = "/logout";

/// The account routes.
pub(super) fn routes(state: &State) -> BoxedFilter<(Response,)> {
    let s = || with_state(state.clone());
    let b = || body(state.limits);
    exact(SIGNUP)
        .or(exact(SIGNUP_ALIAS))
        .unify()
        .and(warp::post())
        .and(s())
        .and(client_addr())
        .and(b())
        .then(|st, addr, body| respond(signup(st, addr, body)))
        .map(tag(SIGNUP))
        .or(exact(LOGIN)
            .or(exact(LOGIN_ALIAS))
            .unify()
            .and(warp::post())
            .and(s())
            .and(client_addr())
            .and(b())
            .then(|st, addr, body| respond(login(st, addr, body)))
            .map(tag(LOGIN)))
        .unify()
        .or(exact(LOGOUT)
            .or(exact(LOGOUT_ALIAS))
            .unify()
            .and(warp::post())
            .and(authed(state))
            .then(|a: Authed| a.run(logout))
            .map(tag(LOGOUT)))
        .unify()
        .boxed()
}

#[utoipa::path(post, path = SIGNUP, tag = "auth", description = "Create an account (alias POST /signup). JSON or multipart/form-data with file part `image`.",
    request_body(content(
        (schemas::SignupBody = "application/json"),
        (schemas::SignupForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Signed up", body = AuthResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 409, description = "Email already registered", body = ErrorBody),
        (status = 413, description = "Upload too large", body = ErrorBody),
        (status = 415, description = "Not a JPEG, PNG or WebP image", body = ErrorBody),
        (status = 429, description = "Too many attempts (Retry-After)", body = ErrorBody),
    ))]
pub async fn signup(state: State, addr: Option<ClientAddr>, body: RawBody) -> Handled {
    let signup = forms::signup(Fields::json_or_multipart(body).await?)?;
    let auth = state.app.signup(signup, peer(addr)).await?;
    Ok(json_status(StatusCode::CREATED, &AuthResponse::new("signed up", auth.user, auth.token)))
}

#[utoipa::path(post, path = LOGIN, tag = "auth", description = "Log in (alias POST /login).",
    request_body(content((schemas::LoginBody = "application/json"))),
    responses(
        (status = 200, description = "Logged in", body = AuthResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Invalid email or password", body = ErrorBody),
        (status = 429, description = "Too many attempts (Retry-After)", body = ErrorBody),
    ))]
pub async fn login(state: State, addr: Option<ClientAddr>, body: RawBody) -> Handled {
    let (email, password) = forms::login(Fields::json(&body)?)?;
    let auth = state.app.login(&email, &password, peer(addr)).await?;
    ok(&AuthResponse::new("logged in", auth.user, auth.token))
}

#[utoipa::path(post, path = LOGOUT, tag = "auth", description = "Revoke this token (alias POST /logout).", security(("bearer" = [])),
    responses((status = 200, description = "Logged out", body = Done), (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorBody)))]
pub async fn logout(state: State, session: Session) -> Handled {
    state.app.logout(&session).await?;
    ok(&Done::new("logged out"))
}
