//! Crash durability: a writer in a child process is killed with SIGKILL mid-stream;
//! every message and request whose call had returned `Ok` must be in the reopened store,
//! exactly once.
//!
//! One binary plays both parts (`harness = false`): started normally it is the test;
//! started with `DEVCONNECT_DURABILITY_CHILD` set it is the writer, printing one line per
//! acknowledged write.

#![allow(clippy::print_stdout, reason = "the child reports acknowledgements and the test its result on stdout")]

use std::collections::HashSet;
use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::sync::Arc;

use devconnect_core::store::sqlite::SqliteStore;
use devconnect_core::testkit::{self, connect, service, user};
use devconnect_core::{AnyMessage, Error, NewMessage, Result, SendStatus, Store, UserId};

const CHILD_ENV: &str = "DEVCONNECT_DURABILITY_CHILD";
/// Writes acknowledged before the kill; the kill lands while the writer keeps going.
const ACKS_BEFORE_KILL: usize = 300;

fn main() {
    let outcome = tokio::runtime::Runtime::new().map_err(Error::internal).and_then(|rt| {
        rt.block_on(async {
            match std::env::var(CHILD_ENV) {
                Ok(args) => child(&args).await,
                Err(_) => parent().await,
            }
        })
    });
    if let Err(err) = outcome {
        eprintln!("durability test failed: {err} ({err:?})");
        println!("durability: 0 passed, 1 failed");
        std::process::exit(1);
    }
}

async fn parent() -> Result<()> {
    let dir = tempfile::tempdir().map_err(Error::internal)?;
    let path = dir.path().join("crash.db");
    let (ada, bob) = {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await?);
        let app = service(store)?;
        let (ada, _) = user(&app, "Ada").await?;
        let (bob, _) = user(&app, "Bob").await?;
        connect(&app, ada, bob).await?;
        app.close().await?;
        (ada, bob)
    };

    let exe = std::env::current_exe().map_err(Error::internal)?;
    let mut child = Command::new(exe)
        .env(CHILD_ENV, format!("{} {ada} {bob}", path.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(Error::internal)?;
    let stdout = child.stdout.take().ok_or_else(|| Error::internal("no child stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let mut acked_messages = Vec::new();
    let mut acked_requests = Vec::new();
    while acked_messages.len() + acked_requests.len() < ACKS_BEFORE_KILL {
        let line = lines.next().ok_or_else(|| Error::internal("writer exited early"))?.map_err(Error::internal)?;
        match line.split_once(' ') {
            Some(("msg", id)) => acked_messages.push(id.to_owned()),
            Some(("req", id)) => acked_requests.push(id.to_owned()),
            _ => return Err(Error::internal(format!("unexpected writer output {line:?}"))),
        }
    }
    child.kill().map_err(Error::internal)?; // SIGKILL on Unix
    // Acknowledgements already in the pipe when the kill landed count too.
    for line in lines.map_while(std::result::Result::ok) {
        match line.split_once(' ') {
            Some(("msg", id)) => acked_messages.push(id.to_owned()),
            Some(("req", id)) => acked_requests.push(id.to_owned()),
            _ => {}
        }
    }
    let status = child.wait().map_err(Error::internal)?;
    if status.success() {
        return Err(Error::internal("the writer was not killed"));
    }

    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await?);
    let app = service(Arc::clone(&store))?;
    let mut stored = Vec::new();
    let mut after = None;
    loop {
        let page = app.sync(ada, after, Some(500)).await?;
        after = page.messages.last().map(AnyMessage::id).or(after);
        // Only 1:1 messages are sent here.
        stored.extend(page.messages.into_iter().filter_map(|m| match m {
            AnyMessage::Direct(m) => Some(m),
            AnyMessage::Group(_) => None,
        }));
        if !page.has_more {
            break;
        }
    }
    let stored_ids: Vec<String> = stored.iter().map(|m| m.id.to_hex()).collect();
    let unique: HashSet<&String> = stored_ids.iter().collect();
    if unique.len() != stored_ids.len() {
        return Err(Error::internal("a message was stored twice"));
    }
    let client_ids: HashSet<Option<&str>> = stored.iter().map(|m| m.client_msg_id.as_deref()).collect();
    if client_ids.len() != stored.len() {
        return Err(Error::internal("a client message id was stored twice"));
    }
    if !stored.windows(2).all(|w| w[0].seq < w[1].seq) {
        return Err(Error::internal("positions are not increasing"));
    }
    for id in &acked_messages {
        if !unique.contains(id) {
            return Err(Error::internal(format!("acknowledged message {id} lost")));
        }
    }
    let sent: HashSet<String> = app.sent_requests(ada).await?.iter().map(|r| r.id.to_hex()).collect();
    for id in &acked_requests {
        if !sent.contains(id) {
            return Err(Error::internal(format!("acknowledged request {id} lost")));
        }
    }
    app.close().await?;
    println!(
        "durability: {} acknowledged messages and {} requests all present once after SIGKILL ({} stored)",
        acked_messages.len(),
        acked_requests.len(),
        stored.len()
    );
    println!("durability: 1 passed, 0 failed");
    Ok(())
}

async fn child(args: &str) -> Result<()> {
    let mut parts = args.rsplitn(3, ' ');
    let (Some(bob), Some(ada), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Error::internal("bad child arguments"));
    };
    let (ada, bob) = (UserId::parse("ada", ada)?, UserId::parse("bob", bob)?);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(path).await?);
    let app = service(Arc::clone(&store))?;
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        let message = NewMessage { text: format!("m{i}"), client_msg_id: Some(format!("c{i}")), image: None };
        let sent = app.send_message(ada, bob, message).await?;
        writeln!(out, "msg {}", sent.message.id).map_err(Error::internal)?;
        if i % 4 == 0 {
            let stranger = testkit::user_record(&format!("s{i}@example.com"));
            store.insert_user(&stranger).await?;
            let request = app.send_request(ada, stranger.me.profile.id, SendStatus::Interested, None).await?;
            writeln!(out, "req {}", request.id).map_err(Error::internal)?;
        }
        out.flush().map_err(Error::internal)?;
    }
    Ok(())
}
