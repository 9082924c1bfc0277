//! Image URLs a web page on another origin can load: absolute, under the public URL
//! (also for records made before it changed), served with the right headers and CORS.

use devconnect_client::ProfileChanges;
use devconnect_client::realtime::{self, ServerEvent};
use reqwest::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE, ORIGIN};

use crate::helpers::{png, spawn_app, spawn_app_with};

/// The original web frontend's dev server: an allowed origin by default.
const PAGE_ORIGIN: &str = "http://localhost:5173";

#[tokio::test]
async fn a_page_on_an_allowed_origin_can_load_a_photo_returned_by_signup() {
    let app = spawn_app().await;
    let (client, _) = app.user("Ada").await;
    let changes = ProfileChanges { photo: Some((png(8, 8), "me.png".into())), ..Default::default() };
    let url = client.edit_profile(&changes).await.unwrap().profile.photo_url.unwrap();
    assert!(url.starts_with(&format!("{}/media/", app.url)), "{url}");
    // What a browser does for an <img> on the page's origin: the URL as it is.
    let response = reqwest::Client::new().get(&url).header(ORIGIN, PAGE_ORIGIN).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(header(CONTENT_TYPE).as_deref(), Some("image/png"));
    assert_eq!(header("x-content-type-options".parse().unwrap()).as_deref(), Some("nosniff"));
    assert!(header(CACHE_CONTROL).is_some_and(|c| c.contains("immutable")));
    assert_eq!(header(ACCESS_CONTROL_ALLOW_ORIGIN).as_deref(), Some(PAGE_ORIGIN));
}

#[tokio::test]
async fn changing_the_public_url_changes_the_urls_of_existing_users() {
    let app = spawn_app_with(|c| c.service.public_url = Some("https://one.example".into())).await;
    let (client, me) = app.user("Ada").await;
    let changes = ProfileChanges { photo: Some((png(8, 8), "me.png".into())), ..Default::default() };
    let url = client.edit_profile(&changes).await.unwrap().profile.photo_url.unwrap();
    let name = url.strip_prefix("https://one.example/media/").unwrap().to_owned();

    let app = app.restart_with(|c| c.service.public_url = Some("https://two.example/api".into())).await;
    let viewer = app.client_with(&client.token().unwrap());
    let moved = viewer.profile(me.profile.id).await.unwrap().photo_url;
    assert_eq!(moved, Some(format!("https://two.example/api/media/{name}")));
    // The file is the same: the server serves it by name.
    let (bytes, _) = viewer.media(&format!("/media/{name}")).await.unwrap();
    assert_eq!(image::guess_format(&bytes).unwrap(), image::ImageFormat::Png);
}

#[tokio::test]
async fn a_chat_image_reaches_the_socket_with_its_absolute_url() {
    let app = spawn_app().await;
    let ((ada, _), (bob, bob_me)) = app.connected_pair().await;
    let mut socket = realtime::connect(&app.url, &bob.token().unwrap(), None).await.unwrap();
    let sent = ada.send_image(bob_me.profile.id, "look", (png(4, 4), "a.png".into()), None).await.unwrap().message;
    let image = sent.image.clone().unwrap();
    assert!(image.starts_with(&format!("{}/media/", app.url)), "{image}");
    let got = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            if let Some(ServerEvent::NewMessage(m)) = socket.next_event().await {
                return m;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(got.image, Some(image));
}
