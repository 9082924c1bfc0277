//! A tiny server for trying the Socket.IO endpoint without `devconnect-http`: the core,
//! the endpoint at `/socket.io/`, and just enough REST (signup, login, logout, request,
//! review, send message, health) with the paths and shapes of API.md.
//!
//! `cargo run -p devconnect-socketio --example testserver -- --bind 127.0.0.1:3000 \
//!    --data-dir ./data --jwt-secret <32+ chars> [--message-rate N]`

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use devconnect_core::{
    Config, DevConnect, Error, NewMessage, Peer, RateLimit, RequestId, RequestStatus, Signup, UserId,
};
use devconnect_socketio::{SocketIo, SocketIoConfig, error_ack};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

type Reply = Response<Full<Bytes>>;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let mut bind: SocketAddr = "127.0.0.1:3000".parse()?;
    let mut config = Config::new("./data");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--bind" => bind = value.parse()?,
            "--data-dir" => config.data_dir = value.into(),
            "--database-url" => config.database_url = Some(value),
            "--jwt-secret" => config.jwt_secret = Some(SecretString::from(value)),
            "--message-rate" => config.settings.message_rate = RateLimit::per_minute(value.parse()?),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    let app = DevConnect::open(config).await?;
    let io = SocketIo::new(app.clone(), SocketIoConfig::default());
    let listener = tokio::net::TcpListener::bind(bind).await?;
    tracing::info!(%bind, "listening");
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (app, io) = (app.clone(), io.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let (app, io) = (app.clone(), io.clone());
                        async move { Ok::<_, Infallible>(route(&app, &io, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades()
                        .await;
                });
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    io.close_all();
    app.close().await?;
    Ok(())
}

async fn route(app: &DevConnect, io: &SocketIo, req: Request<Incoming>) -> Reply {
    if req.uri().path().starts_with(devconnect_socketio::PATH) {
        return io.handle(req).await;
    }
    match serve(app, req).await {
        Ok((status, body)) => json_reply(status, &body),
        Err(err) => {
            let status = match err.code() {
                "validation" => StatusCode::BAD_REQUEST,
                "unauthorized" => StatusCode::UNAUTHORIZED,
                "forbidden" => StatusCode::FORBIDDEN,
                "not_found" => StatusCode::NOT_FOUND,
                "conflict" => StatusCode::CONFLICT,
                "rate_limited" => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            json_reply(status, &json!(error_ack(&err)))
        }
    }
}

#[derive(Deserialize)]
struct Login {
    #[serde(rename = "emailID")]
    email: String,
    password: String,
}

async fn serve(app: &DevConnect, req: Request<Incoming>) -> Result<(StatusCode, Value), Error> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let token = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let body = req.into_body().collect().await.map_err(|_| Error::validation("body", "unreadable"))?.to_bytes();
    let json = |body: &Bytes| -> Result<Value, Error> {
        if body.is_empty() {
            Ok(json!({}))
        } else {
            serde_json::from_slice(body).map_err(|e| Error::validation("body", e.to_string()))
        }
    };
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let session = async {
        match &token {
            Some(token) => app.authenticate(token).await,
            None => Err(Error::Unauthorized("missing bearer token")),
        }
    };
    match (&method, parts.as_slice()) {
        (&Method::GET, ["healthz"]) => app.health().await.map(|()| (StatusCode::OK, json!({ "status": "ok" }))),
        (&Method::POST, ["auth", "signup"] | ["signup"]) => {
            let signup: Signup =
                serde_json::from_value(json(&body)?).map_err(|e| Error::validation("body", e.to_string()))?;
            let auth = app.signup(signup, Peer::Local).await?;
            Ok((StatusCode::CREATED, json!({ "success": true, "user": auth.user, "token": auth.token })))
        }
        (&Method::POST, ["auth", "login"] | ["login"]) => {
            let login: Login =
                serde_json::from_value(json(&body)?).map_err(|e| Error::validation("body", e.to_string()))?;
            let auth = app.login(&login.email, &login.password, Peer::Local).await?;
            Ok((StatusCode::OK, json!({ "success": true, "user": auth.user, "token": auth.token })))
        }
        (&Method::POST, ["auth", "logout"] | ["logout"]) => {
            app.logout(&session.await?).await?;
            Ok((StatusCode::OK, json!({ "success": true, "message": "logged out" })))
        }
        (&Method::POST, ["request", "send", status, to]) => {
            let me = session.await?.user_id;
            let status = RequestStatus::parse_send(status)?;
            let to = UserId::parse("toUserId", to)?;
            let note = json(&body)?.get("note").and_then(Value::as_str).map(str::to_owned);
            let request = app.send_request(me, to, status, note.as_deref()).await?;
            Ok((StatusCode::CREATED, json!({ "success": true, "message": "request sent", "data": request })))
        }
        (&Method::POST, ["request", "review", status, id]) => {
            let me = session.await?.user_id;
            let status = RequestStatus::parse_review(status)?;
            let id = RequestId::parse("requestId", id)?;
            let request = app.review_request(me, id, status).await?;
            Ok((StatusCode::OK, json!({ "success": true, "message": "request reviewed", "data": request })))
        }
        (&Method::POST, ["message", to]) => {
            let me = session.await?.user_id;
            let to = UserId::parse("receiverId", to)?;
            let message: NewMessage =
                serde_json::from_value(json(&body)?).map_err(|e| Error::validation("body", e.to_string()))?;
            let sent = app.send_message(me, to, message).await?;
            let status = if sent.created { StatusCode::CREATED } else { StatusCode::OK };
            Ok((status, json!(sent.message)))
        }
        _ => Err(Error::NotFound("route")),
    }
}

fn json_reply(status: StatusCode, body: &Value) -> Reply {
    let mut res = Response::new(Full::new(Bytes::from(body.to_string())));
    *res.status_mut() = status;
    res.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    res
}
