//! Embedding DevConnect in a Rust program: two developers sign up, connect and chat,
//! and the realtime events each of them receives are printed.
//!
//! Run with `cargo run -p devconnect-core --example embed [DATA_DIR]`; without a data
//! directory it uses a temporary one.

#![allow(clippy::print_stdout, reason = "an example that shows its results")]

use std::time::Duration;

use devconnect_core::{
    Config, DevConnect, Event, NewMessage, Peer, Result, ReviewStatus, SendStatus, Signup, Subscription,
};

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt().with_env_filter("warn").init();
    let temp = tempfile::tempdir().map_err(devconnect_core::Error::internal)?;
    let data_dir = std::env::args().nth(1).map_or_else(|| temp.path().to_path_buf(), Into::into);
    let app = DevConnect::open(Config::new(&data_dir)).await?;

    let ada = app.signup(developer("Ada", "ada@example.com", &["Rust", "Compilers"]), Peer::Local).await?;
    let linus = app.signup(developer("Linus", "linus@example.com", &["C", "Git"]), Peer::Local).await?;
    let (ada_id, linus_id) = (ada.user.profile.id, linus.user.profile.id);
    println!("signed up {} ({ada_id}) and {} ({linus_id})", ada.user.profile.first_name, linus.user.profile.first_name);

    // Both keep a live event stream open, as a browser tab would.
    let mut ada_events = app.subscribe(ada_id).await?;
    let mut linus_events = app.subscribe(linus_id).await?;

    let feed = app.feed(ada_id, &Default::default()).await?;
    println!("Ada's feed: {:?}", feed.profiles.iter().map(|p| &p.first_name).collect::<Vec<_>>());

    let request = app.send_request(ada_id, linus_id, SendStatus::Interested, Some("Loved your talk!")).await?;
    app.review_request(linus_id, request.id, ReviewStatus::Accepted).await?;
    app.send_message(ada_id, linus_id, NewMessage { text: "Hi Linus 👋".into(), ..Default::default() }).await?;
    app.typing(linus_id, ada_id, true).await?;
    app.send_message(linus_id, ada_id, NewMessage { text: "Hello Ada!".into(), ..Default::default() }).await?;
    app.mark_read(ada_id, linus_id).await?;

    drain("Ada", &mut ada_events).await;
    drain("Linus", &mut linus_events).await;

    for partner in app.chat_partners(ada_id).await? {
        let last = partner.last_message.map(|m| m.text).unwrap_or_default();
        println!("Ada chats with {} (online: {}): last {last:?}", partner.profile.first_name, partner.online);
    }
    app.close().await
}

fn developer(name: &str, email: &str, skills: &[&str]) -> Signup {
    Signup {
        first_name: name.into(),
        last_name: "Example".into(),
        email: email.into(),
        password: "Str0ng!pass".into(),
        age: Some(36),
        about: Some(format!("{name} writes software.")),
        skills: skills.iter().map(|s| (*s).to_owned()).collect(),
        ..Signup::default()
    }
}

/// Prints every event that arrived, stopping once the stream is quiet.
async fn drain(who: &str, events: &mut Subscription) {
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(200), events.next()).await {
        let detail = match &event {
            Event::NewMessage(m) => format!("{:?} from {}", m.text, m.sender_id),
            other => serde_json::to_string(other).unwrap_or_default(),
        };
        println!("{who} got {}: {detail}", event.name());
    }
}
