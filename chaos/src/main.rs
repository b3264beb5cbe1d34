//! `chaos` binary: parses flags and runs [`chaos::cli::main`].

use clap::Parser;

fn main() {
    let cli = chaos::cli::Cli::parse();
    let filter = std::env::var("CHAOS_LOG").unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chaos: cannot start the async runtime: {e}");
            std::process::exit(3);
        }
    };
    let code = rt.block_on(chaos::cli::main(cli));
    std::process::exit(code);
}
