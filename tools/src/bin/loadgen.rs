//! Load tool for devconnect-http.
//!
//! ```text
//! # seed 10,000 users into a (stopped) server's data directory, through the core, sharing one password
//! loadgen seed --data-dir ./data --users 10000
//! # then, against the running server:
//! loadgen run --url http://127.0.0.1:3000 --path /livez --connections 50 --seconds 10
//! loadgen run --url http://127.0.0.1:3000 --path /users/feed --login user0@load.test --connections 50
//! loadgen run ... --path /users/feed --login user0@load.test --login-storm 4   # logins beside
//! ```
//!
//! `run` keeps N HTTP/1.1 keep-alive connections busy for a fixed time (bounded: at
//! most `--seconds`, loopback only by default) and reports requests/s and latency
//! percentiles of the measured route; with `--login-storm K`, K more connections log
//! in over and over at the same time (run the server with the auth rate limits off).

#![expect(clippy::print_stdout, reason = "a command-line tool reports on stdout")]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;

#[derive(Parser)]
#[command(name = "loadgen", about = "Load tool for devconnect-http")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates users in a stopped server's data directory through the core's bulk import
    /// (validated as signups; one shared password hash).
    Seed {
        /// The server's data directory.
        #[arg(long, default_value = "./data")]
        data_dir: std::path::PathBuf,
        /// Database URL [default: sqlite://DATA_DIR/devconnect.db].
        #[arg(long)]
        database_url: Option<String>,
        /// How many users (emails `user{i}@load.test`).
        #[arg(long, default_value_t = 10_000)]
        users: u32,
        /// Their password.
        #[arg(long, default_value = "Load!test1")]
        password: String,
    },
    /// Measures one route of a running server.
    Run {
        /// Base URL of the server (http only).
        #[arg(long, default_value = "http://127.0.0.1:3000")]
        url: String,
        /// The path (and query) to GET.
        #[arg(long, default_value = "/livez")]
        path: String,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 50)]
        connections: usize,
        /// Measured duration (after a 1 s warm-up), at most 120.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Log in as this seeded user first and send the token.
        #[arg(long)]
        login: Option<String>,
        /// The password for `--login`.
        #[arg(long, default_value = "Load!test1")]
        password: String,
        /// Extra connections that log in over and over during the measurement.
        #[arg(long, default_value_t = 0)]
        login_storm: usize,
        /// Allow a target outside the loopback range.
        #[arg(long)]
        allow_remote: bool,
    },
}

fn main() -> Result<(), BoxError> {
    let cli = Cli::parse();
    // One worker: the load tool shares the machine with the server it measures.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Seed { data_dir, database_url, users, password } => {
                seed(&data_dir, database_url, users, &password).await
            }
            Command::Run { url, path, connections, seconds, login, password, login_storm, allow_remote } => {
                let addr = target(&url, allow_remote)?;
                let token = match login {
                    Some(email) => Some(log_in(addr, &email, &password).await?),
                    None => None,
                };
                let opts = RunOptions { addr, path, connections, seconds: seconds.clamp(1, 120), token, login_storm };
                run(opts, login_body(&password)).await
            }
        }
    })
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn target(url: &str, allow_remote: bool) -> Result<SocketAddr, BoxError> {
    let rest = url.strip_prefix("http://").ok_or("only http:// URLs")?;
    let host = rest.split('/').next().unwrap_or(rest);
    let addr: SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(host)?.next().ok_or("cannot resolve the host")?;
    if !addr.ip().is_loopback() && !allow_remote {
        return Err("refusing a non-loopback target without --allow-remote".into());
    }
    Ok(addr)
}

async fn seed(data_dir: &std::path::Path, url: Option<String>, users: u32, password: &str) -> Result<(), BoxError> {
    use devconnect_core::{Config, DevConnect, Signup};

    let mut config = Config::new(data_dir);
    config.database_url = url;
    let app = DevConnect::open(config).await?;
    let skills = ["rust", "go", "python", "typescript", "sql", "kubernetes"];
    let started = Instant::now();
    let signups = (0..users)
        .map(|i| Signup {
            first_name: format!("User{i}"),
            last_name: "Load".to_owned(),
            email: format!("user{i}@load.test"),
            password: password.to_owned(),
            age: Some(20 + i64::from(i % 40)),
            about: Some("seeded by loadgen".to_owned()),
            skills: vec![skills[i as usize % skills.len()].to_owned()],
            ..Signup::default()
        })
        .collect();
    // Through the service, so every record passes signup's validation; the password is
    // hashed once for all of them.
    let imported = app.import_users(signups).await;
    app.close().await?;
    imported?;
    eprintln!("seeded {users} users in {:.1} s (password {password:?})", started.elapsed().as_secs_f64());
    Ok(())
}

fn login_body(password: &str) -> impl Fn(usize) -> String + Clone + Send + 'static {
    let password = password.to_owned();
    move |i| serde_json::json!({"emailID": format!("user{}@load.test", i % 100), "password": password}).to_string()
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Result<Sender, BoxError> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn log_in(addr: SocketAddr, email: &str, password: &str) -> Result<String, BoxError> {
    let mut sender = connect(addr).await?;
    let body = serde_json::json!({"emailID": email, "password": password}).to_string();
    let req = http::Request::post("/auth/login")
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))?;
    let response = sender.send_request(req).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        return Err(format!("login failed: {status} {}", String::from_utf8_lossy(&body)).into());
    }
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    Ok(v["token"].as_str().ok_or("no token in the login response")?.to_owned())
}

struct RunOptions {
    addr: SocketAddr,
    path: String,
    connections: usize,
    seconds: u64,
    token: Option<String>,
    login_storm: usize,
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
}

async fn worker(
    addr: SocketAddr,
    make: impl Fn() -> http::Request<Full<Bytes>>,
    warm_until: Instant,
    stop_at: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let Ok(mut sender) = connect(addr).await else {
        tally.errors += 1;
        return tally;
    };
    loop {
        let started = Instant::now();
        if started >= stop_at {
            break;
        }
        let ok = match sender.send_request(make()).await {
            Ok(response) => {
                let ok = response.status().is_success();
                ok && response.into_body().collect().await.is_ok()
            }
            Err(_) => false,
        };
        if started >= warm_until {
            if ok {
                let us = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
                tally.latencies_us.push(us);
            } else {
                tally.errors += 1;
            }
        }
        if !ok {
            match connect(addr).await {
                Ok(s) => sender = s,
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }
    tally
}

async fn run(opts: RunOptions, login_body: impl Fn(usize) -> String + Clone + Send + 'static) -> Result<(), BoxError> {
    let warm_until = Instant::now() + Duration::from_secs(1);
    let stop_at = warm_until + Duration::from_secs(opts.seconds);
    let host = opts.addr.to_string();
    let mut measured = Vec::new();
    for _ in 0..opts.connections {
        let (path, token, host) = (opts.path.clone(), opts.token.clone(), host.clone());
        let make = move || {
            let mut req = http::Request::get(path.as_str()).header("host", host.as_str());
            if let Some(t) = &token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            req.body(Full::new(Bytes::new())).unwrap_or_default()
        };
        measured.push(tokio::spawn(worker(opts.addr, make, warm_until, stop_at)));
    }
    let mut storm = Vec::new();
    for i in 0..opts.login_storm {
        let (host, body) = (host.clone(), login_body.clone());
        let make = move || {
            http::Request::post("/auth/login")
                .header("host", host.as_str())
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body(i))))
                .unwrap_or_default()
        };
        storm.push(tokio::spawn(worker(opts.addr, make, warm_until, stop_at)));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for task in measured {
        let tally = task.await?;
        all.extend(tally.latencies_us);
        errors += tally.errors;
    }
    let (mut logins, mut login_errors) = (0usize, 0);
    for task in storm {
        let tally = task.await?;
        logins += tally.latencies_us.len();
        login_errors += tally.errors;
    }
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let i = ((all.len() as f64 - 1.0) * p).round() as usize;
        f64::from(all[i]) / 1000.0
    };
    let secs = opts.seconds as f64;
    println!(
        "GET {} x{} conns, {} s: {:.0} req/s, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} ok, {} errors",
        opts.path,
        opts.connections,
        opts.seconds,
        all.len() as f64 / secs,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0),
        all.len(),
        errors
    );
    if opts.login_storm > 0 {
        println!(
            "  beside it: {} connections logging in: {:.1} logins/s, {} errors",
            opts.login_storm,
            logins as f64 / secs,
            login_errors
        );
    }
    Ok(())
}
