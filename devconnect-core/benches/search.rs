//! Developer search on a generated SQLite database (by default 1,000,000 users: too many
//! to build inside a benchmark, so `searchgen` of `devconnect-tools` writes it once):
//! the first page and page 100 of `q=rust`, `skills=rust,go`, `location=berlin` and the
//! prefix `q=ja`, one search at a time, as `viewer@search.test`.
//!
//! ```text
//! cargo run --release -p devconnect-tools --bin searchgen -- --data-dir /tmp/search-1m
//! DEVCONNECT_SEARCH_DB=/tmp/search-1m/devconnect.db cargo bench -p devconnect-core --bench search
//! ```
//!
//! Besides criterion's estimates, it prints each case's p50 and p99 over
//! `DEVCONNECT_SEARCH_SAMPLES` (default 500) searches, since the goals are percentiles.

#![expect(clippy::print_stderr, reason = "a benchmark reports its percentiles")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use devconnect_core::search::SearchQuery;
use devconnect_core::store::sqlite::SqliteStore;
use devconnect_core::testkit::service;
use devconnect_core::{DevConnect, Store, UserId};
use tokio::runtime::Runtime;

/// The searches measured: a name, and how to ask it.
fn queries() -> Vec<(&'static str, SearchQuery)> {
    let q = |text: &str| SearchQuery { q: Some(text.to_owned()), ..SearchQuery::default() };
    vec![
        ("q_rust", q("rust")),
        ("skills_rust_go", SearchQuery { skills: vec!["rust".into(), "go".into()], ..SearchQuery::default() }),
        ("location_berlin", SearchQuery { location: Some("berlin".into()), ..SearchQuery::default() }),
        ("q_ja_prefix", q("ja")),
    ]
}

/// The service over the generated database and the searcher, timing the open (which
/// checks the order of the search index).
fn open(rt: &Runtime) -> Option<(DevConnect, UserId)> {
    let Ok(path) = std::env::var("DEVCONNECT_SEARCH_DB") else {
        eprintln!("search bench: set DEVCONNECT_SEARCH_DB to a database written by searchgen; skipped");
        return None;
    };
    rt.block_on(async {
        let started = Instant::now();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.ok()?);
        eprintln!("opened {path} in {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
        let viewer = store.user_by_email("viewer@search.test").await.ok()??.me.profile.id;
        Some((service(store).ok()?, viewer))
    })
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(at).map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
}

fn search(c: &mut Criterion) {
    let Ok(rt) = Runtime::new() else { return };
    let Some((app, viewer)) = open(&rt) else { return };
    let samples: usize = std::env::var("DEVCONNECT_SEARCH_SAMPLES").ok().and_then(|s| s.parse().ok()).unwrap_or(500);
    let mut group = c.benchmark_group("search");
    for (name, query) in queries() {
        for page in [1, 100] {
            let query = SearchQuery { page: Some(page), ..query.clone() };
            let mut times = Vec::with_capacity(samples);
            let mut found = 0;
            for _ in 0..samples {
                let started = Instant::now();
                found = rt.block_on(app.search_users(viewer, &query)).map_or(0, |p| p.results.len());
                times.push(started.elapsed());
            }
            times.sort();
            eprintln!(
                "search/{name}/page_{page}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({found} results)",
                percentile(&times, 0.5),
                percentile(&times, 0.99),
                percentile(&times, 1.0),
            );
            group.bench_function(format!("{name}/page_{page}"), |b| {
                b.to_async(&rt).iter(|| async { app.search_users(viewer, &query).await.map(|p| p.results.len()) });
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = search
}
criterion_main!(benches);
