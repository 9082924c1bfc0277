//! The server under test: its process, its health, and what `/proc` says of its CPU time
//! and memory.

use std::io::{Read as _, Write as _};
use std::process::Child;
use std::time::{Duration, Instant};

use crate::BoxError;

/// Kills the server when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The servers' CPU time per second (ms/s) over `seconds` of doing nothing here.
pub async fn idle_cpu(pids: &[u32], seconds: u64) -> Result<f64, BoxError> {
    let (before, started) = (cpu_ticks(pids)?, Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let ms = cpu_ticks(pids)?.saturating_sub(before) * 1000 / CLOCK_TICKS_PER_SEC;
    #[allow(clippy::cast_precision_loss, reason = "figures for a report")]
    Ok(ms as f64 / started.elapsed().as_secs_f64())
}

/// Clock ticks per second of `/proc/PID/stat`'s times (`USER_HZ`, 100 on Linux).
pub const CLOCK_TICKS_PER_SEC: u64 = 100;

/// User and system CPU time (clock ticks) the servers have used, from `/proc/PID/stat`.
pub fn cpu_ticks(pids: &[u32]) -> Result<u64, BoxError> {
    pids.iter().try_fold(0, |sum, pid| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name (which may hold spaces, in parentheses).
        let fields: Vec<&str> = stat.rsplit_once(')').ok_or("bad stat")?.1.split_whitespace().collect();
        let ticks = |i: usize| -> Result<u64, BoxError> { Ok(fields.get(i).ok_or("short stat")?.parse::<u64>()?) };
        // utime and stime: fields 14 and 15, 12 and 13 after the name and state.
        Ok(sum + ticks(11)? + ticks(12)?)
    })
}

pub async fn wait_healthy(bind: &str) -> Result<(), BoxError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let bind = bind.to_owned();
        let ok = tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
            let mut stream = std::net::TcpStream::connect(&bind)?;
            stream.write_all(format!("GET /healthz HTTP/1.0\r\nHost: {bind}\r\n\r\n").as_bytes())?;
            let mut reply = String::new();
            stream.read_to_string(&mut reply)?;
            Ok(reply.starts_with("HTTP/1.1 200") || reply.starts_with("HTTP/1.0 200"))
        })
        .await?;
        if ok.unwrap_or(false) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("the server did not become healthy".into())
}

/// A server's memory (KiB) and thread count, from `/proc/PID/status`.
#[derive(Clone, Copy, Default)]
pub struct Memory {
    pub rss: u64,
    pub anon: u64,
    pub file: u64,
    pub threads: u64,
}

impl Memory {
    pub fn of(pid: u32) -> Result<Self, BoxError> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let field = |name: &str| -> Result<u64, BoxError> {
            let line = status.lines().find(|l| l.starts_with(name)).ok_or_else(|| format!("no {name}"))?;
            Ok(line.split_whitespace().nth(1).ok_or_else(|| format!("bad {name}"))?.parse()?)
        };
        Ok(Self {
            rss: field("VmRSS:")?,
            anon: field("RssAnon:")?,
            file: field("RssFile:")?,
            threads: field("Threads:")?,
        })
    }

    pub fn plus(self, other: &Self) -> Self {
        Self {
            rss: self.rss + other.rss,
            anon: self.anon + other.anon,
            file: self.file + other.file,
            threads: self.threads + other.threads,
        }
    }
}
