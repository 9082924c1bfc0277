use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{error_of, spawn_app, spawn_app_with};

#[tokio::test]
async fn malformed_bodies_are_clear_400s_and_wrong_types_415() {
    let app = spawn_app().await;
    let (a, _) = app.user("Ada").await;
    let post = |path: &str, ct: &str, body: &'static str| {
        app.http.post(app.at(path)).header("content-type", ct).body(body).send()
    };
    for (body, ct) in [
        ("{\"emailID\": ", "application/json"),
        ("not json", "application/json"),
        ("[1,2,3]", "application/json"),
        ("\"str\"", "application/json"),
        ("{\"emailID\": 1, \"password\": 2}", "application/json"),
        ("{\"emailID\": \"a@b.io\"}", "application/json"),
        ("--x\r\nbroken", "multipart/form-data; boundary=x"),
        ("whatever", "multipart/form-data"),
    ] {
        let r = post("/auth/signup", ct, body).await.unwrap();
        assert_eq!(error_of(r).await, (400, "validation".to_owned()), "{body}");
    }
    let r = post("/auth/login", "text/plain", "hello").await.unwrap();
    assert_eq!(error_of(r).await, (415, "unsupported_media_type".to_owned()));
    let r = post("/auth/login", "multipart/form-data; boundary=x", "--x--").await.unwrap();
    assert_eq!(error_of(r).await, (415, "unsupported_media_type".to_owned()));
    let r = app.raw(Method::PATCH, "/profile/password", &a).header("content-type", "application/json").body("{").send();
    assert_eq!(error_of(r.await.unwrap()).await, (400, "validation".to_owned()));
}

#[tokio::test]
async fn a_signup_form_of_forty_thousand_empty_parts_is_refused() {
    let app = spawn_app().await;
    let mut body = Vec::new();
    for i in 0..40_000 {
        body.extend_from_slice(
            format!("--XyZ\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\n\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(b"--XyZ--\r\n");
    let r =
        app.http.post(app.at("/auth/signup")).header("content-type", "multipart/form-data; boundary=XyZ").body(body);
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "validation", "{body}");
    // Refused for its number of parts, not after looking at every one of them.
    assert!(body["message"].as_str().unwrap().contains("at most 64 parts"), "{body}");
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_with_the_envelope() {
    let app = spawn_app().await;
    for (method, path, status) in [
        (Method::GET, "/nope", 404),
        (Method::GET, "/", 404),
        (Method::GET, "/auth/signup/extra", 404),
        (Method::POST, "/nope/deeper", 404),
        (Method::GET, "/auth/signup", 405),
        (Method::DELETE, "/profile/view", 405),
        (Method::PUT, "/users/feed", 405),
        (Method::GET, "/message/abc/read", 405),
    ] {
        let r = app.http.request(method.clone(), app.at(path)).send().await.unwrap();
        let (got, code) = error_of(r).await;
        assert_eq!(got, status, "{method} {path}");
        assert_eq!(code, if status == 404 { "not_found" } else { "method_not_allowed" });
    }
}

#[tokio::test]
async fn oversize_bodies_are_413_without_reading_them_all() {
    let app = spawn_app_with(|c| c.body_limit = 1024).await;
    let big = json!({"emailID": "a@b.io", "password": "x".repeat(4096)});
    let r = app.http.post(app.at("/auth/login")).json(&big).send().await.unwrap();
    assert_eq!(error_of(r).await, (413, "payload_too_large".to_owned()));
    // Without a Content-Length (chunked), the limit still holds.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(vec![b' '; 800]), Ok(vec![b' '; 800])];
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let r = app.http.post(app.at("/auth/login")).header("content-type", "application/json").body(body).send();
    assert_eq!(error_of(r.await.unwrap()).await, (413, "payload_too_large".to_owned()));
    // The server is still fine.
    assert_eq!(app.http.get(app.at("/livez")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn cors_allows_the_configured_origins_only() {
    let app =
        spawn_app_with(|c| c.cors_origins = vec!["http://localhost:5173".into(), "https://dev.example".into()]).await;
    let preflight = |origin: &'static str| {
        app.http
            .request(Method::OPTIONS, app.at("/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,authorization")
            .send()
    };
    let ok = preflight("https://dev.example").await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["access-control-allow-origin"], "https://dev.example");
    assert_eq!(ok.headers()["access-control-allow-credentials"], "true");
    let refused = preflight("https://evil.example").await.unwrap();
    assert_eq!(error_of(refused).await, (403, "forbidden".to_owned()));

    // Error responses carry the CORS headers too, so the browser can read them.
    let r = app.http.get(app.at("/profile/view")).header("origin", "http://localhost:5173").send().await.unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "http://localhost:5173");
    assert_eq!(error_of(r).await.0, 401);
    let r = app.http.get(app.at("/livez")).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn health_liveness_and_the_openapi_document() {
    let app = spawn_app().await;
    let client = app.client();
    client.health().await.unwrap();
    for path in ["/healthz", "/healthz?store=false", "/livez"] {
        let v: Value = app.http.get(app.at(path)).send().await.unwrap().json().await.unwrap();
        assert_eq!(v["success"], true, "{path}");
    }
    let banana = app.http.get(app.at("/healthz?store=banana")).send().await.unwrap();
    assert_eq!(banana.status(), 400, "an unreadable flag is refused, not taken for `true`");
    let doc = client.openapi().await.unwrap();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{doc}");
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/auth/signup",
        "/auth/login",
        "/auth/logout",
        "/profile/view",
        "/profile/{userId}",
        "/profile/edit",
        "/profile/password",
        "/request/send/{status}/{toUserId}",
        "/request/review/{status}/{requestId}",
        "/user/requests/received",
        "/user/requests/sent",
        "/user/connections",
        "/user/deleteconnection/{userId}",
        "/users/feed",
        "/message/connections",
        "/message/sync",
        "/message/{userId}",
        "/message/{userId}/read",
        "/healthz",
        "/media/{name}",
    ] {
        assert!(paths.contains_key(path), "{path} missing from the OpenAPI document");
    }
}

/// Every path and method of the OpenAPI document reaches a handler (no "no such route"
/// or 405), so the document cannot describe routes the server does not have.
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = spawn_app().await;
    let (a, me) = app.user("Doc").await;
    let doc = a.openapi().await.unwrap();
    let id = me.profile.id.to_hex();
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "patch", "delete", "put"] {
            if item.get(method).is_none() {
                continue;
            }
            count += 1;
            let concrete = path
                .replace("{status}", "interested")
                .replace("{name}", "0123456789abcdef0123456789abcdef.png")
                .replace("{userId}", &id)
                .replace("{toUserId}", &id)
                .replace("{requestId}", &id);
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app.raw(m, &concrete, &a).send().await.unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            assert_ne!(status, 405, "{method} {path}: {body}");
            assert!(!body.contains("no such route"), "{method} {path}: {body}");
        }
    }
    assert!(count >= 23, "{count}");
}

#[tokio::test]
async fn shutdown_stops_accepting_and_finishes() {
    let app = spawn_app().await;
    let url = app.at("/livez");
    let fresh = app.client();
    assert_eq!(app.http.get(&url).send().await.unwrap().status(), 200);
    tokio::time::timeout(Duration::from_secs(15), app.server.shutdown()).await.unwrap().unwrap();
    assert!(fresh.http().get(&url).send().await.is_err());
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish() {
    let app = spawn_app().await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(rx));
    let request = app.http.post(app.at("/auth/login")).header("content-type", "application/json").body(body).send();
    let request = tokio::spawn(request);
    tx.send(Ok(br#"{"emailID": "nobody@example.com", "#.to_vec())).await.unwrap();
    // Let the server start on the request before shutting down.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let shutdown = tokio::spawn(app.server.shutdown());
    tokio::time::sleep(Duration::from_millis(100)).await;
    tx.send(Ok(br#""password": "Wr0ng!pass"}"#.to_vec())).await.unwrap();
    drop(tx);
    let response = request.await.unwrap().unwrap();
    assert_eq!(response.status(), 401);
    tokio::time::timeout(Duration::from_secs(15), shutdown).await.unwrap().unwrap().unwrap();
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test]
async fn responses_of_known_size_carry_a_content_length() {
    let app = spawn_app().await;
    let r = app.http.get(app.at("/livez")).send().await.unwrap();
    assert!(r.headers().get("transfer-encoding").is_none(), "{:?}", r.headers());
    let length = r.content_length();
    assert_eq!(length, Some(r.bytes().await.unwrap().len() as u64));
}

#[tokio::test]
async fn socket_io_paths_never_reach_the_rest_routes() {
    let app = spawn_app().await;
    // A long-polling handshake is answered by the realtime endpoint with its open packet…
    let r = app.http.get(app.at("/socket.io/?EIO=4&transport=polling")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().starts_with("0{\"sid\""));
    // …and its refusals are Engine.IO's, not the REST envelope.
    let r = app.http.get(app.at("/socket.io/?EIO=3&transport=polling")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], 5);
}
