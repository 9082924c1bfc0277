use clap::Parser as _;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let options = devconnect_tui::config::Options::parse();
    match devconnect_tui::run(options).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("devconnect-tui: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
