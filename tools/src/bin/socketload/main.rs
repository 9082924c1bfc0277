//! Load tool for the realtime endpoint: server memory per idle socket and message
//! delivery latency (send → `newMessage` at the receiver).
//!
//! ```text
//! socketload --server-bin target/release/devconnect-http [--sockets 1000] [--rate 1000]
//!            [--seconds 10] [--text-chars 0] [--warm] [--transport websocket|polling] [--group]
//!            [--source-addrs N] [--idle-seconds S]
//!            [--instances N --database-url mongodb://… --bus-url redis://…] [-- extra server flags]
//! ```
//! With `--instances N` it starts N servers sharing the database and the bus and spreads
//! the sockets over them round-robin, so the two users of a pair sit on different
//! instances and every message crosses the bus.
//! It seeds a fresh data directory through the core (N users, paired as connections),
//! starts the server binary on a free port (`--bind --data-dir --jwt-secret`), reads the
//! server's VmRSS, connects N sockets with the Rust client, waits for them to be idle,
//! reads VmRSS again, then has one user of each pair send messages at the given total
//! rate over `sendMessage` and times each until its `newMessage` reaches the partner;
//! then it reads VmRSS once more (what the traffic left behind); last, it closes every
//! socket at once and reads VmRSS 5 s later (what the server gives back).
//! With `--idle-seconds S` it also reads the server's CPU time over S idle seconds
//! before connecting and again with every socket connected: the difference is what
//! idle sockets cost (Engine.IO pings, one per socket every 25 s, need S ≥ 25).
//! With `--transport polling` each socket is an Engine.IO long-polling session (never
//! upgraded) that always holds one `GET`, as an idle browser's would; messages are posted
//! without an acknowledgement.
//! With `--group` every user is a member of one public group and the messages go to
//! the group (`sendGroupMessage`, round robin over the members): each is timed to every
//! member's `groupMessage`, and the report adds the time to the last member. Both modes
//! report the server's CPU time per message, so a group message's fan-out can be
//! compared with as many 1:1 sends. A group run's sockets are this tool's own lean ones
//! (`lean.rs`), so that its own work per delivery, on the server's cores, stays small.

mod lean;
mod polling;
mod seed;
mod server;
mod sockets;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use clap::Parser;
use clap::builder::RangedU64ValueParser;
use devconnect_core::UserId;
use devconnect_core::chat::MAX_TEXT_CHARS;
// The realtime client and its wire protocol, imported here only (the other modules use
// `crate::client` and `crate::protocol`), so moving the clients to another crate changes
// these two lines.
use devconnect_client::realtime as client;
use devconnect_types::socketio as protocol;
use tokio::sync::{mpsc, watch};

use crate::seed::seed;
use crate::server::{CLOCK_TICKS_PER_SEC, Memory, Server, cpu_ticks, idle_cpu, wait_healthy};
use crate::sockets::{Emitter, Latencies, Transport, connect, source_addr, transport_name};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Load tool for the realtime endpoint: server memory per idle socket and message
/// delivery latency.
#[derive(Parser)]
#[command(name = "socketload")]
struct Args {
    /// The server binary to start (devconnect-http); it gets `--bind`, `--data-dir`
    /// and `--jwt-secret`.
    #[arg(long)]
    server_bin: PathBuf,
    /// Sockets to connect, one per user, users paired as connections (rounded down to
    /// an even number, at least 2).
    #[arg(long, default_value_t = 1000, value_parser = RangedU64ValueParser::<usize>::new().range(2..))]
    sockets: usize,
    /// Messages per second, in all.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    rate: u64,
    /// How long to send messages.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Pad each message's text to this many characters (at most the core's limit, 5,000),
    /// to see what longer messages cost; the server's memory is read again after them.
    #[arg(long, default_value_t = 0, value_parser = RangedU64ValueParser::<usize>::new().range(..=MAX_TEXT_CHARS as u64))]
    text_chars: usize,
    /// Connect and close every socket once first, so the figure is a socket's marginal
    /// cost on a warm server.
    #[arg(long)]
    warm: bool,
    /// Server instances sharing the database and the bus; sockets are spread over them.
    #[arg(long, default_value_t = 1, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    instances: usize,
    /// The shared database URL (required with `--instances` above 1).
    #[arg(long)]
    database_url: Option<String>,
    /// The shared bus URL (required with `--instances` above 1).
    #[arg(long)]
    bus_url: Option<String>,
    /// The transport of every socket.
    #[arg(long, value_enum, default_value_t = Transport::Websocket)]
    transport: Transport,
    /// Put every user in one public group and send to the group (WebSocket only).
    #[arg(long)]
    group: bool,
    /// Loopback source addresses to spread the sockets over (127.0.0.2, 127.0.0.3, …;
    /// WebSocket only): one address has about 28,000 ephemeral ports towards one
    /// server port. 0 lets the system pick (127.0.0.1).
    #[arg(long, default_value_t = 0, value_parser = RangedU64ValueParser::<usize>::new().range(..=250))]
    source_addrs: usize,
    /// Measure the server's CPU time over this many idle seconds, before connecting and
    /// with the sockets connected (Engine.IO pings included once it exceeds the ping
    /// interval, 25 s by default).
    #[arg(long, default_value_t = 0)]
    idle_seconds: u64,
    /// Extra flags for the server, after `--`.
    #[arg(last = true)]
    server_args: Vec<String>,
}

#[allow(clippy::print_stdout, reason = "a command-line tool reporting its figures")]
fn main() -> Result<(), BoxError> {
    let mut args = Args::parse();
    if args.instances > 1 && (args.database_url.is_none() || args.bus_url.is_none()) {
        return Err("--instances above 1 needs a shared --database-url and --bus-url".into());
    }
    if args.group && args.transport != Transport::Websocket {
        return Err("--group needs --transport websocket".into());
    }
    if args.source_addrs > 0 && (args.transport != Transport::Websocket || args.group) {
        return Err("--source-addrs needs --transport websocket, without --group".into());
    }
    // Every client socket is a descriptor here too.
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    rustix::process::setrlimit(
        rustix::process::Resource::Nofile,
        rustix::process::Rlimit { current: limit.maximum, ..limit },
    )?;
    let open_files = rustix::process::getrlimit(rustix::process::Resource::Nofile).current.unwrap_or(u64::MAX);
    if u64::try_from(args.sockets).unwrap_or(u64::MAX).saturating_add(100) > open_files {
        return Err(format!(
            "{} sockets need more open files than this process may have ({open_files}; raise `ulimit -Hn`)",
            args.sockets
        )
        .into());
    }
    args.sockets = args.sockets / 2 * 2;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(args))
}

#[allow(clippy::print_stdout, reason = "a command-line tool reporting its figures")]
async fn run(args: Args) -> Result<(), BoxError> {
    let data_dir = std::env::temp_dir().join(format!("socketload-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir)?;
    let secret = format!("socketload-secret-{:032}", std::process::id());

    let started = Instant::now();
    let (users, group) = seed(&data_dir, &secret, args.sockets, args.group, args.database_url.as_deref()).await?;
    println!("seeded {} users in {:.1} s", users.len(), started.elapsed().as_secs_f64());

    let mut servers = Vec::with_capacity(args.instances);
    let mut base_urls = Vec::with_capacity(args.instances);
    for _ in 0..args.instances {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let bind = format!("127.0.0.1:{port}");
        let mut command = Command::new(&args.server_bin);
        command.args(["--bind", &bind, "--data-dir"]).arg(&data_dir).args(["--jwt-secret", &secret]);
        if let Some(url) = &args.database_url {
            command.args(["--database-url", url]);
        }
        if let Some(url) = &args.bus_url {
            command.args(["--bus-url", url]);
        }
        servers.push(Server(command.args(&args.server_args).stdout(std::process::Stdio::null()).spawn()?));
        wait_healthy(&bind).await?;
        base_urls.push(format!("http://{bind}"));
    }
    let pids: Vec<u32> = servers.iter().map(|s| s.0.id()).collect();
    // Every instance's memory together.
    let memory = || -> Result<Memory, BoxError> {
        pids.iter().try_fold(Memory::default(), |sum, pid| Ok(sum.plus(&Memory::of(*pid)?)))
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let url_of = |i: usize| base_urls[i % base_urls.len()].clone();
    if args.warm {
        // Connect and close every socket once, so the store's page cache already holds
        // these users and the heap has grown: the figure below is then the marginal cost
        // of a socket (it under-counts by whatever freed memory the allocator reuses).
        let cold = memory()?;
        let mut warm = Vec::with_capacity(users.len());
        for (i, (_, token)) in users.iter().enumerate() {
            let local = source_addr(i, args.source_addrs);
            let socket = connect(args.transport, args.group, &url_of(i), token, local).await;
            warm.push(socket.map_err(|e| format!("connect: {e}"))?);
        }
        let warm_rss = memory()?.rss;
        for socket in warm {
            socket.close().await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!("warm-up: VmRSS {} KiB before, {warm_rss} KiB with {} sockets", cold.rss, users.len());
    }
    let before = memory()?;
    // The server's own idle CPU (store upkeep, push polling), to tell the sockets' apart.
    let idle_baseline = if args.idle_seconds > 0 { Some(idle_cpu(&pids, args.idle_seconds).await?) } else { None };

    // Connect every socket; each reader task reports received messages' latency.
    let (tx, mut latency_rx) = mpsc::unbounded_channel();
    let latencies = Latencies { epoch: Instant::now(), tx };
    // Sends that failed, or were refused (acknowledged with an error).
    let errors = Arc::new(AtomicU64::new(0));
    let mut emitters = Vec::with_capacity(users.len());
    let mut readers = Vec::with_capacity(users.len());
    let (close_tx, close_rx) = watch::channel(false);
    let connect_started = Instant::now();
    for (c, chunk) in users.chunks(50).enumerate() {
        let mut pending = Vec::new();
        for (j, (id, token)) in chunk.iter().enumerate() {
            let (base_url, token, id) = (url_of(c * 50 + j), token.clone(), *id);
            let (transport, local) = (args.transport, source_addr(c * 50 + j, args.source_addrs));
            let group = args.group;
            pending.push(tokio::spawn(async move { (id, connect(transport, group, &base_url, &token, local).await) }));
        }
        for handle in pending {
            let (me, connected) = handle.await?;
            let socket = connected.map_err(|e| format!("connect: {e}"))?;
            let (emitter, reader) = socket.spawn_reader(me, latencies.clone(), &errors, close_rx.clone());
            emitters.push((me, emitter));
            readers.push(reader);
        }
    }
    println!(
        "connected {} sockets ({}) in {:.1} s",
        emitters.len(),
        transport_name(args.transport),
        connect_started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = memory()?;
    let sockets = emitters.len();
    #[allow(clippy::cast_precision_loss, reason = "figures for a report")]
    let per_socket = |before: u64, after: u64| after.saturating_sub(before) as f64 / sockets as f64;
    println!(
        "server VmRSS: {} KiB before, {} KiB with {sockets} idle sockets: {:.2} KiB per socket",
        before.rss,
        after.rss,
        per_socket(before.rss, after.rss)
    );
    println!(
        "  of which anonymous (heap, stacks) {:.2} KiB and file-backed (code paged in) {:.2} KiB per socket; \
         threads {} -> {}",
        per_socket(before.anon, after.anon),
        per_socket(before.file, after.file),
        before.threads,
        after.threads
    );

    if args.transport == Transport::Polling {
        // As many idle keep-alive connections again: the server's cost of an HTTP
        // connection, which a held GET has on top of its session.
        let mut idle = Vec::with_capacity(sockets);
        for i in 0..sockets {
            idle.push(polling::idle_connection(&url_of(i)).await?);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let with_idle = memory()?;
        let connection = per_socket(after.rss, with_idle.rss);
        println!(
            "an idle keep-alive HTTP connection (after one GET /healthz) adds {connection:.2} KiB \
             (anonymous {:.2}); so a session without its held GET's connection: {:.2} KiB",
            per_socket(after.anon, with_idle.anon),
            per_socket(before.rss, after.rss) - connection
        );
        drop(idle);
    }

    if let Some(baseline) = idle_baseline {
        let with_sockets = idle_cpu(&pids, args.idle_seconds).await?;
        #[allow(clippy::cast_precision_loss, reason = "figures for a report")]
        let per_socket_us = (with_sockets - baseline).max(0.0) * 1000.0 / sockets as f64;
        println!(
            "idle for {} s: server CPU {:.3}% of one core with {sockets} sockets, {:.3}% without: \
             {per_socket_us:.3} µs per socket per second",
            args.idle_seconds,
            with_sockets / 10.0,
            baseline / 10.0
        );
    }

    // Messages: the even user of each pair sends to the odd one, round robin.
    let total = args.rate * args.seconds;
    let text_chars = args.text_chars;
    let period = Duration::from_nanos(1_000_000_000 / args.rate.max(1));
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let pairs: Vec<(UserId, Emitter)> = emitters
        .chunks(2)
        .filter_map(|p| match p {
            [(_, from), (to, _)] => Some((*to, from.clone())),
            _ => None,
        })
        .collect();
    // Each message reaches one receiver, or every member of the group.
    let per_message = if group.is_some() { sockets as u64 } else { 1 };
    // This tool's own CPU too: it shares the machine with the server.
    let own = [std::process::id()];
    let (cpu_before, own_before) = (cpu_ticks(&pids)?, cpu_ticks(&own)?);
    let send_started = Instant::now();
    for i in 0..total {
        ticker.tick().await;
        let Some(index) = usize::try_from(i).ok() else { break };
        let mut text = format!("t:{} ", latencies.now());
        text.extend(std::iter::repeat_n('x', text_chars.saturating_sub(text.len())));
        let errors = Arc::clone(&errors);
        let sending = match group {
            Some(group) => {
                let from = emitters[index % sockets].1.clone();
                tokio::spawn(async move { from.send_group_message(group, &text).await })
            }
            None => {
                let Some((to, from)) = pairs.get(index % pairs.len()) else { break };
                let (to, from) = (*to, from.clone());
                tokio::spawn(async move { from.send_message(to, &text).await })
            }
        };
        tokio::spawn(async move {
            if let Ok(Err(err)) = sending.await {
                if errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 3 {
                    eprintln!("send failed: {err}");
                }
            }
        });
    }
    let send_secs = send_started.elapsed().as_secs_f64();
    let mut deliveries = Vec::with_capacity(usize::try_from(total * per_message).unwrap_or(0));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while (deliveries.len() as u64) < total * per_message {
        match tokio::time::timeout_at(deadline, latency_rx.recv()).await {
            Ok(Some(d)) => deliveries.push(d),
            _ => break,
        }
    }
    let cpu_ms = cpu_ticks(&pids)?.saturating_sub(cpu_before) * 1000 / CLOCK_TICKS_PER_SEC;
    let own_ms = cpu_ticks(&own)?.saturating_sub(own_before) * 1000 / CLOCK_TICKS_PER_SEC;
    let mut latencies: Vec<u64> = deliveries.iter().map(|(_, l)| *l).collect();
    latencies.sort_unstable();
    #[allow(clippy::cast_precision_loss, reason = "figures for a report")]
    let achieved = total as f64 / send_secs;
    println!(
        "messages: {total} sent at {achieved:.0}/s over {sockets} sockets, {} of {} deliveries, {} send errors",
        latencies.len(),
        total * per_message,
        errors.load(std::sync::atomic::Ordering::Relaxed)
    );
    let (p50, p90, p99, max) =
        (pct(&latencies, 0.5), pct(&latencies, 0.9), pct(&latencies, 0.99), pct(&latencies, 1.0));
    println!(
        "delivery latency (send -> message at each receiver): p50 {p50:.2} ms, p90 {p90:.2} ms, p99 {p99:.2} ms, \
         max {max:.2} ms"
    );
    if group.is_some() {
        // Per message: how many members it reached, and when its first and its last did.
        let mut reached: std::collections::HashMap<u64, (u64, u64, u64)> = std::collections::HashMap::new();
        for (sent_at, latency) in &deliveries {
            let entry = reached.entry(*sent_at).or_insert((0, u64::MAX, 0));
            *entry = (entry.0 + 1, entry.1.min(*latency), entry.2.max(*latency));
        }
        let everyone = || reached.values().filter(|(n, _, _)| *n == per_message);
        let mut to_first: Vec<u64> = everyone().map(|(_, first, _)| *first).collect();
        let mut to_last: Vec<u64> = everyone().map(|(_, _, last)| *last).collect();
        to_first.sort_unstable();
        to_last.sort_unstable();
        println!(
            "to the last of {per_message} members ({} messages reached all): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; \
             to the first: p50 {:.2} ms, p99 {:.2} ms",
            to_last.len(),
            pct(&to_last, 0.5),
            pct(&to_last, 0.99),
            pct(&to_last, 1.0),
            pct(&to_first, 0.5),
            pct(&to_first, 0.99)
        );
    }
    #[allow(clippy::cast_precision_loss, reason = "figures for a report")]
    let (per_msg, per_delivery) =
        (cpu_ms as f64 / total as f64, cpu_ms as f64 * 1000.0 / (total * per_message).max(1) as f64);
    println!(
        "server CPU: {cpu_ms} ms for the messages: {per_msg:.3} ms per message, {per_delivery:.1} µs per delivery"
    );
    #[allow(clippy::cast_precision_loss, reason = "figures for a report")]
    let own_per_delivery = own_ms as f64 * 1000.0 / (total * per_message).max(1) as f64;
    println!(
        "this tool's CPU meanwhile (sending, receiving, timing): {own_ms} ms, {own_per_delivery:.1} µs per delivery"
    );
    let after_messages = memory()?;
    println!(
        "server VmRSS after the messages: {} KiB: {:.2} KiB per socket over the first reading",
        after_messages.rss,
        per_socket(before.rss, after_messages.rss)
    );

    // Every socket leaves at once; then the server should give back what they held.
    let closing = Instant::now();
    let _ = close_tx.send(true);
    for reader in readers {
        let _ = reader.await;
    }
    println!("closed {sockets} sockets in {:.1} s", closing.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_secs(5)).await;
    let closed = memory()?;
    #[allow(clippy::cast_precision_loss, reason = "figures for a report")]
    let over = (closed.rss as f64 / before.rss.max(1) as f64 - 1.0) * 100.0;
    println!(
        "server VmRSS 5 s after closing them: {} KiB, {over:+.1}% over the reading before connecting ({} KiB)",
        closed.rss, before.rss
    );
    drop(servers);
    let _ = std::fs::remove_dir_all(&data_dir);
    Ok(())
}

/// The `p` quantile of sorted microseconds, in milliseconds.
fn pct(sorted: &[u64], p: f64) -> f64 {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index and figures"
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    #[allow(clippy::cast_precision_loss, reason = "figures")]
    sorted.get(i).map_or(f64::NAN, |us| *us as f64 / 1000.0)
}
