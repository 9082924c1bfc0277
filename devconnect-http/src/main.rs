use clap::Parser as _;
use devconnect_http::config::Command;
use devconnect_http::{Config, StartError};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    match run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "devconnect-http failed");
            eprintln!("devconnect-http: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), StartError> {
    match &config.command {
        // Logs go to stderr (the default writer is stdout, which carries the report).
        Some(Command::Stats(args)) => {
            return devconnect_http::stats::run(&config, args, &mut std::io::stdout().lock()).await;
        }
        Some(Command::Admin(args)) => {
            return devconnect_http::admin::run(&config, args, &mut std::io::stdout()).await;
        }
        _ => {}
    }
    devconnect_server::init_tracing(&config.service.log).map_err(|e| StartError::Config(e.to_string()))?;
    devconnect_server::raise_descriptor_limit();
    let built = devconnect_http::build(&config).await?;
    tracing::info!(addr = %built.local_addr(), data_dir = %config.service.data_dir.display(), "listening");
    built.run(devconnect_server::shutdown_signal()).await
}
