//! The DevConnect gRPC server binary; see `devconnect_grpc::Config` for its flags.

use clap::Parser as _;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = devconnect_grpc::Config::parse();
    match devconnect_grpc::run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("devconnect-grpc: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
