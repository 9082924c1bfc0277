//! The OpenAPI document against real responses: every response below must validate
//! against the schema the document gives for its route and status, and may carry no key
//! the schema leaves out (the document is derived from the wire types, so a field added to
//! a type shows up in both; a `json!` body or a hand-kept schema would drift here).
//!
//! The checker covers what the derived schemas use: `$ref`, `allOf` (what
//! `#[serde(flatten)]` derives), `oneOf`/`anyOf`, `type` (3.1 type lists), `enum`,
//! `required`, `properties`, `items`, `minimum`, `format: date-time`, and the id pattern.

use std::collections::BTreeSet;

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, account, png, spawn_app, unique_email};

/// Responses seen so far and what was wrong with them.
struct Contract<'a> {
    app: &'a TestApp,
    doc: Value,
    seen: BTreeSet<String>,
    errors: Vec<String>,
}

impl<'a> Contract<'a> {
    async fn new(app: &'a TestApp) -> Self {
        let doc = app.client().openapi().await.unwrap();
        Self { app, doc, seen: BTreeSet::new(), errors: Vec::new() }
    }

    /// Sends `request` (documented as `method route`), checks the answer against the
    /// document, and returns its status and body.
    async fn call(&mut self, method: &str, route: &str, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let at = format!("{method} {route} {status}");
        let documented = &self.doc["paths"][route][method.to_lowercase()]["responses"][status.to_string()];
        if method == "HEAD" {
            // No body by definition: the status must be documented, that is all.
            if documented.is_null() {
                self.errors.push(format!("{at}: status not documented"));
            }
            self.seen.insert(at);
            return (status, body);
        }
        match documented["content"]["application/json"].get("schema") {
            Some(schema) => {
                let mut errors = Vec::new();
                check(&self.doc, schema, &body, &at, true, &mut errors);
                self.errors.extend(errors);
            }
            None => self.errors.push(format!("{at}: no JSON schema documented for this status")),
        }
        self.seen.insert(at);
        (status, body)
    }

    /// Like [`Contract::call`], and insists on `expected`.
    async fn expect(&mut self, expected: u16, method: &str, route: &str, request: reqwest::RequestBuilder) -> Value {
        let (status, body) = self.call(method, route, request).await;
        assert_eq!(status, expected, "{method} {route}: {body}");
        body
    }

    fn req(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let builder = self.app.http.request(method, self.app.at(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }
}

/// Checks `value` against `schema`, one line per mismatch in `errors`. `closed`: an object
/// may only have the keys the schema declares.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, closed: bool, errors: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        match resolve(doc, reference) {
            Some(target) => check(doc, target, value, at, closed, errors),
            None => errors.push(format!("{at}: unresolvable $ref {reference}")),
        }
        return;
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for part in parts {
            check(doc, part, value, at, false, errors);
        }
    }
    for (keyword, exactly_one) in [("oneOf", true), ("anyOf", false)] {
        if let Some(options) = schema.get(keyword).and_then(Value::as_array) {
            let matching = options
                .iter()
                .filter(|option| {
                    let mut e = Vec::new();
                    check(doc, option, value, at, closed, &mut e);
                    e.is_empty()
                })
                .count();
            if matching == 0 || (exactly_one && matching > 1) {
                errors.push(format!("{at}: {matching} branches of {keyword} match {value}"));
            }
        }
    }
    if let Some(ty) = schema.get("type") {
        let types: Vec<&str> = match ty {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !types.iter().any(|t| has_type(t, value)) {
            errors.push(format!("{at}: {value} is not {ty}"));
            return;
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        if !values.contains(value) {
            errors.push(format!("{at}: {value} is not one of {values:?}"));
        }
    }
    match value {
        Value::Object(map) => {
            for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    errors.push(format!("{at}: required key {name} is missing"));
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            for (key, item) in map {
                if let Some(property) = properties.and_then(|p| p.get(key)) {
                    check(doc, property, item, &format!("{at}.{key}"), true, errors);
                }
            }
            let declares = properties.is_some() || schema.get("allOf").is_some();
            if closed && declares {
                let keys = declared(doc, schema);
                for key in map.keys().filter(|k| !keys.contains(*k)) {
                    errors.push(format!("{at}: key {key} is not in the schema"));
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(doc, item_schema, item, &format!("{at}[{i}]"), true, errors);
                }
            }
        }
        Value::String(s) => {
            if schema["format"] == "date-time" && chrono::DateTime::parse_from_rfc3339(s).is_err() {
                errors.push(format!("{at}: {s:?} is not a date-time"));
            }
            // The one pattern response schemas use; request patterns are the fuzzer's.
            if schema["pattern"] == devconnect_types::ID_PATTERN
                && !(s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                errors.push(format!("{at}: {s:?} is not a 24-hex id"));
            }
        }
        Value::Number(n) => {
            if let (Some(min), Some(n)) = (schema["minimum"].as_f64(), n.as_f64()) {
                if n < min {
                    errors.push(format!("{at}: {n} is below the minimum {min}"));
                }
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

fn resolve<'d>(doc: &'d Value, reference: &str) -> Option<&'d Value> {
    reference.strip_prefix("#/components/schemas/").and_then(|name| doc["components"]["schemas"].get(name))
}

/// The keys an object schema declares, through `$ref` and `allOf`.
fn declared(doc: &Value, schema: &Value) -> BTreeSet<String> {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str).and_then(|r| resolve(doc, r)) {
        return declared(doc, target);
    }
    let mut keys: BTreeSet<String> =
        schema["properties"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        keys.extend(declared(doc, part));
    }
    keys
}

fn has_type(ty: &str, value: &Value) -> bool {
    match ty {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

#[test]
fn the_checker_follows_refs_and_finds_undocumented_and_missing_keys() {
    let doc = json!({"components": {"schemas": {
        "Id": {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"},
        "Base": {"type": "object", "required": ["_id"], "properties": {"_id": {"$ref": "#/components/schemas/Id"}}},
        "Full": {"allOf": [{"$ref": "#/components/schemas/Base"},
            {"type": "object", "properties": {"at": {"type": ["string", "null"], "format": "date-time"}}}]},
    }}});
    let schema = json!({"$ref": "#/components/schemas/Full"});
    let errors = |value: Value| {
        let mut e = Vec::new();
        check(&doc, &schema, &value, "x", true, &mut e);
        e
    };
    assert!(errors(json!({"_id": "0123456789abcdef01234567", "at": null})).is_empty());
    assert!(errors(json!({"_id": "0123456789abcdef01234567", "at": "2026-01-01T00:00:00Z"})).is_empty());
    assert_eq!(errors(json!({"at": null})).len(), 1, "missing _id");
    assert_eq!(errors(json!({"_id": "0123456789abcdef01234567", "extra": 1})).len(), 1, "undocumented key");
    assert_eq!(errors(json!({"_id": "nope"})).len(), 1, "bad id");
    assert_eq!(errors(json!({"_id": "0123456789abcdef01234567", "at": "yesterday"})).len(), 1, "bad date");
}

async fn signup(c: &mut Contract<'_>, name: &str) -> (String, String) {
    let body =
        c.expect(201, "POST", "/auth/signup", c.req(Method::POST, "/auth/signup", None).json(&account(name))).await;
    (body["user"]["_id"].as_str().unwrap().to_owned(), body["token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn every_response_validates_against_the_openapi_document() {
    let app = spawn_app().await;
    let mut c = Contract::new(&app).await;

    // ---- auth ----
    let (ada, ada_t) = signup(&mut c, "Ada").await;
    let (bob, bob_t) = signup(&mut c, "Bob").await;
    let (cy, cy_t) = signup(&mut c, "Cy").await;
    let email = unique_email("dee");
    let form = Form::new()
        .text("firstName", "Dee")
        .text("emailID", email.clone())
        .text("password", PASSWORD)
        .text("age", "")
        .text("skills", "rust,go")
        .part("image", Part::bytes(png(4, 4)).file_name("me.png"));
    let body = c.expect(201, "POST", "/auth/signup", c.req(Method::POST, "/auth/signup", None).multipart(form)).await;
    assert!(body["user"]["photoURL"].is_string(), "{body}");
    let dee = body["user"]["_id"].as_str().unwrap().to_owned();
    let mut again = account("Ada");
    again.email = email.clone();
    c.expect(409, "POST", "/auth/signup", c.req(Method::POST, "/auth/signup", None).json(&again)).await;
    let bad = json!({"firstName": "", "emailID": "x", "password": "y"});
    c.expect(400, "POST", "/auth/signup", c.req(Method::POST, "/auth/signup", None).json(&bad)).await;
    let login = json!({"emailID": email, "password": PASSWORD});
    let body = c.expect(200, "POST", "/auth/login", c.req(Method::POST, "/auth/login", None).json(&login)).await;
    let dee_t = body["token"].as_str().unwrap().to_owned();
    let wrong = json!({"emailID": email, "password": "Wr0ng!pass"});
    c.expect(401, "POST", "/auth/login", c.req(Method::POST, "/auth/login", None).json(&wrong)).await;

    // ---- profile ----
    let (a, b) = (Some(ada_t.as_str()), Some(bob_t.as_str()));
    c.expect(200, "GET", "/profile/view", c.req(Method::GET, "/profile/view", a)).await;
    c.expect(401, "GET", "/profile/view", c.req(Method::GET, "/profile/view", None)).await;
    c.expect(401, "GET", "/profile/view", c.req(Method::GET, "/profile/view", Some("not-a-token"))).await;
    c.expect(200, "GET", "/profile/{userId}", c.req(Method::GET, &format!("/profile/{dee}"), a)).await;
    c.expect(400, "GET", "/profile/{userId}", c.req(Method::GET, "/profile/xyz", a)).await;
    let nobody = devconnect_core::UserId::new();
    c.expect(404, "GET", "/profile/{userId}", c.req(Method::GET, &format!("/profile/{nobody}"), a)).await;
    let edit = json!({"about": "I write compilers.", "gender": "female", "age": 36});
    c.expect(200, "PATCH", "/profile/edit", c.req(Method::PATCH, "/profile/edit", a).json(&edit)).await;
    let unknown = json!({"emailID": "new@example.com"});
    c.expect(400, "PATCH", "/profile/edit", c.req(Method::PATCH, "/profile/edit", a).json(&unknown)).await;

    // ---- connections ----
    let route = "/request/send/{status}/{toUserId}";
    let sent = c
        .expect(
            201,
            "POST",
            route,
            c.req(Method::POST, &format!("/request/send/interested/{bob}"), a).json(&json!({"note": "hi"})),
        )
        .await;
    let request = sent["data"]["_id"].as_str().unwrap().to_owned();
    c.expect(409, "POST", route, c.req(Method::POST, &format!("/request/send/interested/{bob}"), a)).await;
    c.expect(404, "POST", route, c.req(Method::POST, &format!("/request/send/interested/{nobody}"), a)).await;
    c.expect(201, "POST", route, c.req(Method::POST, &format!("/request/send/interested/{ada}"), Some(&cy_t))).await;
    c.expect(201, "POST", route, c.req(Method::POST, &format!("/request/send/ignored/{dee}"), Some(&cy_t))).await;
    let received =
        c.expect(200, "GET", "/user/requests/received", c.req(Method::GET, "/user/requests/received", b)).await;
    assert!(received["requests"][0]["fromUserId"].is_object(), "{received}");
    let mine = c.expect(200, "GET", "/user/requests/sent", c.req(Method::GET, "/user/requests/sent", a)).await;
    assert!(mine["requests"][0]["toUserId"].is_object(), "{mine}");
    let route = "/request/review/{status}/{requestId}";
    let review = format!("/request/review/accepted/{request}");
    c.expect(403, "POST", route, c.req(Method::POST, &review, a)).await;
    c.expect(200, "POST", route, c.req(Method::POST, &review, b)).await;
    c.expect(409, "POST", route, c.req(Method::POST, &review, b)).await;
    c.expect(400, "POST", route, c.req(Method::POST, "/request/review/accepted/xyz", b)).await;
    c.expect(200, "GET", "/user/connections", c.req(Method::GET, "/user/connections", a)).await;

    // ---- feed ----
    let feed = c.expect(200, "GET", "/users/feed", c.req(Method::GET, "/users/feed?page=1&limit=10", a)).await;
    assert!(feed["request"].as_array().is_some_and(|p| !p.is_empty()), "{feed}");
    c.expect(200, "GET", "/users/feed", c.req(Method::GET, "/users/feed?skills=rust", Some(&dee_t))).await;
    c.expect(400, "GET", "/users/feed", c.req(Method::GET, "/users/feed?page=-1", a)).await;

    // ---- search ----
    let found = c.expect(200, "GET", "/users/search", c.req(Method::GET, "/users/search?q=t&limit=5", a)).await;
    assert!(found["results"].as_array().is_some_and(|r| !r.is_empty()), "{found}");
    c.expect(400, "GET", "/users/search", c.req(Method::GET, "/users/search?minExperience=-1", a)).await;

    // ---- messages ----
    let route = "/message/{userId}";
    let text = json!({"text": "hello Bob", "clientMsgId": "c-1"});
    let first = c.expect(201, "POST", route, c.req(Method::POST, &format!("/message/{bob}"), a).json(&text)).await;
    c.expect(200, "POST", route, c.req(Method::POST, &format!("/message/{bob}"), a).json(&text)).await;
    let picture = Form::new().text("text", "look").part("image", Part::bytes(png(4, 4)).file_name("dot.png"));
    let body =
        c.expect(201, "POST", route, c.req(Method::POST, &format!("/message/{ada}"), b).multipart(picture)).await;
    assert!(body["image"].is_string(), "{body}");
    c.expect(403, "POST", route, c.req(Method::POST, &format!("/message/{cy}"), a).json(&json!({"text": "hi"}))).await;
    c.expect(400, "POST", route, c.req(Method::POST, &format!("/message/{bob}"), a).json(&json!({"text": " "}))).await;
    let history = c.expect(200, "GET", route, c.req(Method::GET, &format!("/message/{bob}?limit=10"), a)).await;
    assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");
    c.expect(400, "GET", route, c.req(Method::GET, &format!("/message/{bob}?before=xyz"), a)).await;
    let partners = c.expect(200, "GET", "/message/connections", c.req(Method::GET, "/message/connections", b)).await;
    assert!(partners["requests"][0]["lastMessage"].is_object(), "{partners}");
    let first_id = first["_id"].as_str().unwrap();
    c.expect(200, "GET", "/message/sync", c.req(Method::GET, "/message/sync", b)).await;
    c.expect(200, "GET", "/message/sync", c.req(Method::GET, &format!("/message/sync?after={first_id}&limit=1"), b))
        .await;
    let unknown_message = devconnect_core::MessageId::new();
    c.expect(404, "GET", "/message/sync", c.req(Method::GET, &format!("/message/sync?after={unknown_message}"), b))
        .await;
    let route = "/message/{userId}/read";
    let read = c.expect(200, "POST", route, c.req(Method::POST, &format!("/message/{ada}/read"), b)).await;
    assert!(read["upTo"].is_string(), "{read}");
    let read = c.expect(200, "POST", route, c.req(Method::POST, &format!("/message/{ada}/read"), b)).await;
    assert!(read["upTo"].is_null(), "{read}");

    // ---- groups ----
    let new = json!({"name": "Rust Berlin", "visibility": "public", "tags": ["rust"]});
    let created = c.expect(201, "POST", "/groups", c.req(Method::POST, "/groups", a).json(&new)).await;
    let g = created["data"]["_id"].as_str().unwrap().to_owned();
    c.expect(400, "POST", "/groups", c.req(Method::POST, "/groups", a).json(&json!({"name": " "}))).await;
    let group_path = format!("/groups/{g}");
    let described = json!({"description": "Rustaceans in Berlin", "tags": ["rust", "berlin"]});
    let edited =
        c.expect(200, "PATCH", "/groups/{groupId}", c.req(Method::PATCH, &group_path, a).json(&described)).await;
    assert_eq!(edited["data"]["description"], "Rustaceans in Berlin", "{edited}");
    let photo = Form::new().part("image", Part::bytes(png(4, 4)).file_name("g.png"));
    let pictured =
        c.expect(200, "PATCH", "/groups/{groupId}", c.req(Method::PATCH, &group_path, a).multipart(photo)).await;
    assert!(pictured["data"]["photoURL"].is_string(), "{pictured}");
    c.expect(403, "PATCH", "/groups/{groupId}", c.req(Method::PATCH, &group_path, b).json(&described)).await;
    c.expect(400, "PATCH", "/groups/{groupId}", c.req(Method::PATCH, &group_path, a).json(&json!({"name": ""}))).await;
    c.expect(
        404,
        "PATCH",
        "/groups/{groupId}",
        c.req(Method::PATCH, "/groups/0123456789abcdef01234567", a).json(&described),
    )
    .await;
    let found = c.expect(200, "GET", "/groups", c.req(Method::GET, "/groups?q=rust%20ber&skills=Rust", b)).await;
    assert_eq!(found["data"]["groups"][0]["_id"], created["data"]["_id"], "{found}");
    c.expect(400, "GET", "/groups", c.req(Method::GET, "/groups?page=0", b)).await;
    let mine = c.expect(200, "GET", "/groups/mine", c.req(Method::GET, "/groups/mine", a)).await;
    assert_eq!(mine["data"][0]["role"], "owner", "{mine}");
    c.expect(200, "GET", "/groups/{groupId}", c.req(Method::GET, &format!("/groups/{g}"), b)).await;
    let unknown_group = "/groups/0123456789abcdef01234567";
    c.expect(404, "GET", "/groups/{groupId}", c.req(Method::GET, unknown_group, b)).await;
    c.expect(400, "GET", "/groups/{groupId}", c.req(Method::GET, "/groups/nope", b)).await;
    let route = "/groups/{groupId}/members/{userId}";
    c.expect(201, "POST", route, c.req(Method::POST, &format!("/groups/{g}/members/{bob}"), a)).await;
    c.expect(409, "POST", route, c.req(Method::POST, &format!("/groups/{g}/members/{bob}"), a)).await;
    c.expect(403, "POST", route, c.req(Method::POST, &format!("/groups/{g}/members/{dee}"), a)).await;
    let admin = json!({"role": "admin"});
    c.expect(200, "PATCH", route, c.req(Method::PATCH, &format!("/groups/{g}/members/{bob}"), a).json(&admin)).await;
    c.expect(403, "PATCH", route, c.req(Method::PATCH, &format!("/groups/{g}/members/{ada}"), b).json(&admin)).await;
    let owner = json!({"role": "owner"});
    c.expect(400, "PATCH", route, c.req(Method::PATCH, &format!("/groups/{g}/members/{bob}"), a).json(&owner)).await;
    let route_join = "/groups/{groupId}/join";
    c.expect(201, "POST", route_join, c.req(Method::POST, &format!("/groups/{g}/join"), Some(&dee_t))).await;
    c.expect(409, "POST", route_join, c.req(Method::POST, &format!("/groups/{g}/join"), Some(&dee_t))).await;
    c.expect(404, "POST", route_join, c.req(Method::POST, &format!("{unknown_group}/join"), Some(&dee_t))).await;
    let members =
        c.expect(200, "GET", "/groups/{groupId}/members", c.req(Method::GET, &format!("/groups/{g}/members"), a)).await;
    assert_eq!(members["data"].as_array().map(Vec::len), Some(3), "{members}");
    let route_messages = "/groups/{groupId}/messages";
    let (messages, unknown_messages) = (format!("/groups/{g}/messages"), format!("{unknown_group}/messages"));
    let hello = json!({"text": "hello group", "clientMsgId": "g-1"});
    let said = c.expect(201, "POST", route_messages, c.req(Method::POST, &messages, a).json(&hello)).await;
    c.expect(200, "POST", route_messages, c.req(Method::POST, &messages, a).json(&hello)).await;
    c.expect(400, "POST", route_messages, c.req(Method::POST, &messages, a).json(&json!({"text": " "}))).await;
    c.expect(403, "POST", route_messages, c.req(Method::POST, &messages, Some(&cy_t)).json(&hello)).await;
    c.expect(404, "POST", route_messages, c.req(Method::POST, &unknown_messages, a).json(&hello)).await;
    let history = c.expect(200, "GET", route_messages, c.req(Method::GET, &messages, b)).await;
    let last = history["data"].as_array().and_then(|m| m.last()).map(|m| &m["_id"]);
    assert_eq!(last, Some(&said["data"]["_id"]), "{history}");
    c.expect(400, "GET", route_messages, c.req(Method::GET, &format!("{messages}?limit=0"), b)).await;
    c.expect(403, "GET", route_messages, c.req(Method::GET, &messages, Some(&cy_t))).await;
    c.expect(404, "GET", route_messages, c.req(Method::GET, &unknown_messages, b)).await;
    let listed = c.expect(200, "GET", "/conversations", c.req(Method::GET, "/conversations", b)).await;
    assert_eq!(listed["data"][0]["kind"], "group", "the group's message is the latest: {listed}");
    let route_read = "/groups/{groupId}/read";
    let (read, up_to) = (format!("/groups/{g}/read"), json!({"messageId": said["data"]["_id"]}));
    let marked = c.expect(200, "POST", route_read, c.req(Method::POST, &read, b).json(&up_to)).await;
    assert_eq!(marked["upTo"], said["data"]["_id"], "{marked}");
    c.expect(400, "POST", route_read, c.req(Method::POST, &read, b).json(&json!({}))).await;
    c.expect(403, "POST", route_read, c.req(Method::POST, &read, Some(&cy_t)).json(&up_to)).await;
    c.expect(404, "POST", route_read, c.req(Method::POST, &format!("{unknown_group}/read"), b).json(&up_to)).await;
    c.expect(403, "DELETE", route, c.req(Method::DELETE, &format!("/groups/{g}/members/{ada}"), b)).await;
    c.expect(200, "DELETE", route, c.req(Method::DELETE, &format!("/groups/{g}/members/{dee}"), b)).await;
    c.expect(404, "DELETE", route, c.req(Method::DELETE, &format!("/groups/{g}/members/{dee}"), b)).await;
    let route = "/groups/{groupId}/transfer/{userId}";
    c.expect(200, "POST", route, c.req(Method::POST, &format!("/groups/{g}/transfer/{bob}"), a)).await;
    c.expect(403, "POST", route, c.req(Method::POST, &format!("/groups/{g}/transfer/{bob}"), a)).await;
    let route = "/groups/{groupId}/leave";
    c.expect(200, "POST", route, c.req(Method::POST, &format!("/groups/{g}/leave"), a)).await;
    c.expect(404, "POST", route, c.req(Method::POST, &format!("/groups/{g}/leave"), a)).await;

    // ---- safety ----
    let (cy_a, dee_a) = (Some(cy_t.as_str()), Some(dee_t.as_str()));
    let route = "/user/block/{userId}";
    c.expect(200, "POST", route, c.req(Method::POST, &format!("/user/block/{dee}"), cy_a)).await;
    c.expect(200, "POST", route, c.req(Method::POST, &format!("/user/block/{dee}"), cy_a)).await;
    c.expect(400, "POST", route, c.req(Method::POST, &format!("/user/block/{cy}"), cy_a)).await;
    c.expect(404, "POST", route, c.req(Method::POST, &format!("/user/block/{nobody}"), cy_a)).await;
    c.expect(404, "GET", "/profile/{userId}", c.req(Method::GET, &format!("/profile/{cy}"), dee_a)).await;
    let blocked = c.expect(200, "GET", "/user/blocked", c.req(Method::GET, "/user/blocked", cy_a)).await;
    assert_eq!(blocked["data"][0]["user"]["_id"], dee.as_str(), "{blocked}");
    c.expect(200, "DELETE", route, c.req(Method::DELETE, &format!("/user/block/{dee}"), cy_a)).await;
    c.expect(404, "DELETE", route, c.req(Method::DELETE, &format!("/user/block/{dee}"), cy_a)).await;
    c.expect(400, "DELETE", route, c.req(Method::DELETE, "/user/block/xyz", cy_a)).await;
    let spam = json!({"kind": "message", "targetId": said["data"]["_id"], "reason": "spam", "details": "ads"});
    let filed = c.expect(201, "POST", "/reports", c.req(Method::POST, "/reports", b).json(&spam)).await;
    assert_eq!(filed["data"]["snapshot"]["message"]["text"], "hello group", "{filed}");
    c.expect(409, "POST", "/reports", c.req(Method::POST, "/reports", b).json(&spam)).await;
    let bad = json!({"kind": "post", "targetId": bob, "reason": "spam"});
    c.expect(400, "POST", "/reports", c.req(Method::POST, "/reports", b).json(&bad)).await;
    let unknown = json!({"kind": "user", "targetId": nobody, "reason": "other"});
    c.expect(404, "POST", "/reports", c.req(Method::POST, "/reports", b).json(&unknown)).await;
    let mine = c.expect(200, "GET", "/reports/mine", c.req(Method::GET, "/reports/mine", b)).await;
    assert_eq!(mine["data"][0]["status"], "open", "{mine}");
    let export = c.expect(200, "GET", "/profile/export", c.req(Method::GET, "/profile/export", b)).await;
    assert_eq!(export["data"]["reports"][0]["_id"], mine["data"][0]["_id"], "{export}");
    c.expect(401, "GET", "/profile/export", c.req(Method::GET, "/profile/export", None)).await;

    // ---- push ----
    let route = "/push/vapid-public-key";
    let key = c.expect(200, "GET", route, c.req(Method::GET, route, None)).await;
    assert_eq!(key["data"]["publicKey"].as_str().map(str::len), Some(87), "{key}");
    let route = "/push/subscriptions";
    // RFC 8291's example keys: a valid point. Removed again before anything is sent.
    let subscription = json!({"endpoint": "https://push.example.com/send/abc", "expirationTime": null, "keys": {
        "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        "auth": "BTBZMqHH6r4Tts7J_aSIgg"}});
    c.expect(201, "POST", route, c.req(Method::POST, route, a).json(&subscription)).await;
    c.expect(401, "POST", route, c.req(Method::POST, route, None).json(&subscription)).await;
    let insecure = json!({"endpoint": "http://push.example.com/send/abc", "keys": subscription["keys"]});
    c.expect(400, "POST", route, c.req(Method::POST, route, a).json(&insecure)).await;
    let endpoint = json!({"endpoint": "https://push.example.com/send/abc"});
    c.expect(200, "DELETE", route, c.req(Method::DELETE, route, a).json(&endpoint)).await;
    c.expect(404, "DELETE", route, c.req(Method::DELETE, route, a).json(&endpoint)).await;
    let route = "/push/settings";
    c.expect(200, "GET", route, c.req(Method::GET, route, a)).await;
    let changed = c.expect(200, "PATCH", route, c.req(Method::PATCH, route, a).json(&json!({"groups": false}))).await;
    assert_eq!(changed["data"]["groups"], false, "{changed}");
    c.expect(400, "PATCH", route, c.req(Method::PATCH, route, a).json(&json!({"group": false}))).await;

    // ---- ending ----
    let route = "/user/deleteconnection/{userId}";
    c.expect(200, "DELETE", route, c.req(Method::DELETE, &format!("/user/deleteconnection/{bob}"), a)).await;
    c.expect(404, "DELETE", route, c.req(Method::DELETE, &format!("/user/deleteconnection/{bob}"), a)).await;
    let change = json!({"oldPassword": PASSWORD, "newPassword": "N3w!password", "confirmPassword": "N3w!password"});
    c.expect(200, "PATCH", "/profile/password", c.req(Method::PATCH, "/profile/password", Some(&dee_t)).json(&change))
        .await;
    c.expect(200, "POST", "/auth/logout", c.req(Method::POST, "/auth/logout", Some(&cy_t))).await;
    c.expect(401, "POST", "/auth/logout", c.req(Method::POST, "/auth/logout", Some(&cy_t))).await;
    let wrong = json!({"password": "Wr0ng!pass"});
    c.expect(400, "DELETE", "/profile", c.req(Method::DELETE, "/profile", b).json(&wrong)).await;
    let confirm = json!({"password": PASSWORD});
    c.expect(200, "DELETE", "/profile", c.req(Method::DELETE, "/profile", b).json(&confirm)).await;
    c.expect(401, "DELETE", "/profile", c.req(Method::DELETE, "/profile", b).json(&confirm)).await;
    c.expect(200, "GET", "/healthz", c.req(Method::GET, "/healthz", None)).await;
    c.expect(200, "GET", "/livez", c.req(Method::GET, "/livez", None)).await;
    c.expect(200, "GET", "/openapi.json", c.req(Method::GET, "/openapi.json", None)).await;
    // A media 200 is an image, not JSON; its 404 is the error body.
    let missing = "/media/0123456789abcdef0123456789abcdef.png";
    c.expect(404, "GET", "/media/{name}", c.req(Method::GET, missing, None)).await;
    c.expect(404, "HEAD", "/media/{name}", c.req(Method::HEAD, missing, None)).await;

    assert!(c.errors.is_empty(), "responses that do not match the document:\n{}", c.errors.join("\n"));
    // Every documented route was exercised.
    let routes: BTreeSet<String> =
        c.seen.iter().filter_map(|s| s.rsplit_once(' ').map(|(route, _)| route.to_owned())).collect();
    for (path, item) in c.doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let route = format!("{} {path}", method.to_uppercase());
            assert!(routes.contains(&route), "{route} is documented but not checked here");
        }
    }
}
