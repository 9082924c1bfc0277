//! `devconnect-http stats`: engagement per day, read from the store, as a table or JSON.
//! It opens only the store (no secret, media or listener), so it can run beside a live
//! server on the same database.

use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveDate;
use devconnect_core::{Engagement, Error};

use crate::StartError;

/// Output formats of `stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns, one line per day.
    #[default]
    Table,
    /// The [`Engagement`] report as JSON.
    Json,
}

/// Options of `stats`. The database is the server's (`--database-url`, else
/// `sqlite://DATA_DIR/devconnect.db`); either may be given before or after `stats`.
#[derive(Clone, Debug, clap::Args)]
#[non_exhaustive]
pub struct StatsArgs {
    /// First UTC day, `YYYY-MM-DD`.
    #[arg(long)]
    pub from: NaiveDate,
    /// Last UTC day (inclusive), `YYYY-MM-DD`; at most 366 days after `--from`.
    #[arg(long)]
    pub to: NaiveDate,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Database URL, overriding the server's option of the same name.
    #[arg(long = "database-url", id = "stats_database_url", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Data directory, overriding the server's option of the same name.
    #[arg(long = "data-dir", id = "stats_data_dir")]
    pub data_dir: Option<PathBuf>,
}

/// Runs `stats` with the server's `config`, writing the report to `out`.
pub async fn run(config: &crate::Config, args: &StatsArgs, out: &mut impl Write) -> Result<(), StartError> {
    let mut service = config.service.clone();
    if let Some(dir) = &args.data_dir {
        service.data_dir.clone_from(dir);
    }
    if args.database_url.is_some() {
        service.database_url.clone_from(&args.database_url);
    }
    let url = service.config(crate::MEDIA_PREFIX).database_url();
    let store = devconnect_core::store::open(&url).await?;
    let report = devconnect_core::analytics::engagement(&*store, args.from, args.to).await;
    store.close().await?;
    let report = report.map_err(StartError::Stats)?;
    let written = match args.format {
        Format::Json => serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::other),
        Format::Table => write_table(out, &report),
    };
    written.and_then(|()| writeln!(out)).map_err(|e| StartError::Stats(Error::internal(e)))
}

fn write_table(out: &mut impl Write, report: &Engagement) -> std::io::Result<()> {
    write!(
        out,
        "{:<10}  {:>12}  {:>8}  {:>13}  {:>17}  {:>18}",
        "date", "active_users", "messages", "requests_sent", "requests_accepted", "median_accept_secs"
    )?;
    for day in &report.days {
        let median = day.median_accept_secs.map_or_else(|| "-".to_owned(), |s| format!("{s:.0}"));
        write!(
            out,
            "\n{:<10}  {:>12}  {:>8}  {:>13}  {:>17}  {:>18}",
            day.date, day.active_users, day.messages, day.requests_sent, day.requests_accepted, median
        )?;
    }
    Ok(())
}
