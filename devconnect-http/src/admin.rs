//! `devconnect-http admin …`: the operators' moderation tools, on the configured store,
//! also while servers run on it. Reports (list, show, resolve, dismiss), suspensions,
//! the audit log, and operators' tokens for the gRPC moderation calls. A suspension
//! made here ends the user's live sessions on every
//! running instance within a second (each reads the audit log; see the core's
//! `moderation` module).
//!
//! Every action is recorded under the operator's name: `--as NAME`, else
//! `DEVCONNECT_OPERATOR`, else the login name (`USER`).

use std::io::Write;

use devconnect_core::{AuditId, DevConnect, Error, ReportId, ReportStatus, UserId};

use crate::StartError;

/// Output formats of the listing commands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns, one line per item.
    #[default]
    Table,
    /// JSON, as the REST API writes these objects.
    Json,
}

/// Which reports `admin reports` lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Status {
    /// Waiting for an operator.
    #[default]
    Open,
    /// Acted on.
    Resolved,
    /// Found nothing to act on.
    Dismissed,
    /// All of them.
    All,
}

impl Status {
    fn report_status(self) -> Option<ReportStatus> {
        match self {
            Self::Open => Some(ReportStatus::Open),
            Self::Resolved => Some(ReportStatus::Resolved),
            Self::Dismissed => Some(ReportStatus::Dismissed),
            Self::All => None,
        }
    }
}

/// How the listing commands page and print.
#[derive(Clone, Debug, clap::Args)]
pub struct Listing {
    /// Start after this id (the last one of the previous page).
    #[arg(long)]
    pub after: Option<String>,
    /// At most this many (up to 500).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Options of `admin`.
#[derive(Clone, Debug, clap::Args)]
#[non_exhaustive]
pub struct AdminArgs {
    /// The operator's name, recorded in the audit log [default: DEVCONNECT_OPERATOR, else USER].
    #[arg(long = "as", env = "DEVCONNECT_OPERATOR", global = true)]
    pub operator: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub action: AdminCommand,
}

/// The moderation commands.
#[derive(Clone, Debug, clap::Subcommand)]
#[non_exhaustive]
pub enum AdminCommand {
    /// List reports, oldest first.
    Reports {
        /// Which ones.
        #[arg(long, value_enum, default_value_t = Status::Open)]
        status: Status,
        #[command(flatten)]
        listing: Listing,
    },
    /// Show one report with the reported content as it was (JSON).
    Report {
        /// The report's id.
        id: String,
    },
    /// Close a report as acted on.
    Resolve {
        /// The report's id.
        id: String,
        /// What was done.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Close a report as needing nothing.
    Dismiss {
        /// The report's id.
        id: String,
        /// Why.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Suspend a user: no login, tokens and live sessions end everywhere, hidden from
    /// feeds and member lists; their messages stay.
    Suspend {
        /// The user's id.
        user: String,
        /// Why.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Lift a suspension.
    Unsuspend {
        /// The user's id.
        user: String,
        /// Why.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Delete a user's account and photo: profile, requests, connections, blocks and
    /// group memberships go, live sessions end everywhere; their messages stay, from a
    /// placeholder marked deleted.
    Delete {
        /// The user's id.
        user: String,
        /// Why.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Print an operator's token for the gRPC moderation calls (signed with the
    /// server's secret; no login can make one).
    Token {
        /// How long it is valid, in minutes (at most 1440).
        #[arg(long, default_value_t = 60)]
        ttl_minutes: u64,
    },
    /// List the moderation actions, oldest first.
    Audit {
        #[command(flatten)]
        listing: Listing,
    },
}

/// Runs `admin` with the server's `config`, writing what it shows to `out`.
pub async fn run(config: &crate::Config, args: &AdminArgs, out: &mut impl Write) -> Result<(), StartError> {
    let mut core = config.core();
    // One command, not an instance: it joins no bus (instances learn of its actions from
    // the audit log).
    core.bus = None;
    let app = DevConnect::open(core).await?;
    let result = execute(&app, args, out).await;
    app.close().await?;
    result.map_err(StartError::Admin)
}

async fn execute(app: &DevConnect, args: &AdminArgs, out: &mut impl Write) -> Result<(), Error> {
    let operator = || {
        args.operator
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .ok_or(Error::validation("as", "name the operator with --as NAME (or DEVCONNECT_OPERATOR)"))
    };
    let written = match &args.action {
        AdminCommand::Reports { status, listing: Listing { after, limit, format } } => {
            let after = after.as_deref().map(|id| ReportId::parse("after", id)).transpose()?;
            let reports = app.reports(status.report_status(), after, Some(*limit)).await?;
            match format {
                Format::Json => json(out, &reports),
                Format::Table => reports_table(out, &reports),
            }
        }
        AdminCommand::Report { id } => json(out, &app.report_by_id(ReportId::parse("id", id)?).await?),
        AdminCommand::Resolve { id, note } | AdminCommand::Dismiss { id, note } => {
            let outcome = match args.action {
                AdminCommand::Resolve { .. } => ReportStatus::Resolved,
                _ => ReportStatus::Dismissed,
            };
            let report = app.close_report(&operator()?, ReportId::parse("id", id)?, outcome, note).await?;
            writeln!(out, "report {} {}", report.id, report.status)
        }
        AdminCommand::Suspend { user, note } => {
            app.suspend(&operator()?, UserId::parse("user", user)?, note).await?;
            writeln!(out, "user {user} suspended")
        }
        AdminCommand::Unsuspend { user, note } => {
            app.unsuspend(&operator()?, UserId::parse("user", user)?, note).await?;
            writeln!(out, "user {user} unsuspended")
        }
        AdminCommand::Delete { user, note } => {
            app.delete_user(&operator()?, UserId::parse("user", user)?, note).await?;
            writeln!(out, "user {user} deleted")
        }
        AdminCommand::Token { ttl_minutes } => {
            let ttl = std::time::Duration::from_secs(ttl_minutes.saturating_mul(60));
            writeln!(out, "{}", app.issue_operator_token(&operator()?, ttl)?)
        }
        AdminCommand::Audit { listing: Listing { after, limit, format } } => {
            let after = after.as_deref().map(|id| AuditId::parse("after", id)).transpose()?;
            let entries = app.audit(after, Some(*limit)).await?;
            match format {
                Format::Json => json(out, &entries),
                Format::Table => audit_table(out, &entries),
            }
        }
    };
    written.map_err(Error::internal)
}

fn json(out: &mut impl Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::other)?;
    writeln!(out)
}

fn reports_table(out: &mut impl Write, reports: &[devconnect_core::Report]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<24}  {:<9}  {:<7}  {:<21}  {:<24}  {:<24}  created",
        "id", "status", "kind", "reason", "reporter", "target"
    )?;
    for r in reports {
        let created = r.created_at.format("%Y-%m-%d %H:%M");
        writeln!(
            out,
            "{:<24}  {:<9}  {:<7}  {:<21}  {:<24}  {:<24}  {created}",
            r.id.to_hex(),
            r.status.as_str(),
            r.kind.as_str(),
            r.reason.as_str(),
            r.reporter_id.to_hex(),
            r.target_id
        )?;
    }
    Ok(())
}

fn audit_table(out: &mut impl Write, entries: &[devconnect_core::AuditEntry]) -> std::io::Result<()> {
    writeln!(out, "{:<24}  {:<16}  {:<20}  {:<14}  {:<24}  note", "id", "at", "actor", "action", "target")?;
    for e in entries {
        let at = e.at.format("%Y-%m-%d %H:%M");
        // A note may hold newlines: one line per entry.
        let note = e.note.replace('\n', " ");
        writeln!(
            out,
            "{:<24}  {at:<16}  {:<20}  {:<14}  {:<24}  {note}",
            e.id.to_hex(),
            e.actor,
            e.action.as_str(),
            e.target_id
        )?;
    }
    Ok(())
}
