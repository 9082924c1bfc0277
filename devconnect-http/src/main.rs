use clap::Parser as _;
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
    devconnect_http::init_tracing(&config.service.log)?;
    let built = devconnect_http::build(&config).await?;
    tracing::info!(addr = %built.local_addr(), data_dir = %config.service.data_dir.display(), "listening");
    built.run(devconnect_http::shutdown_signal()).await
}
