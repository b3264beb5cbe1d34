//! `control-plane`: run one replica, or a local cluster with `up`.

use clap::{Parser, Subcommand};
use control_plane::{replica, up};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "control-plane",
    version,
    about = "Helmsman control plane: API-server replicas that are their own replicated store"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run one replica (a raft-store member plus the API).
    Replica(Box<replica::ReplicaFlags>),
    /// Start a local cluster of replicas and print how to use it.
    Up(up::UpFlags),
}

fn main() {
    let cli = Cli::parse();
    let log_level = match &cli.cmd {
        Cmd::Replica(f) => f.store.log_level.clone(),
        Cmd::Up(_) => "warn".to_string(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&log_level).unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let code = rt.block_on(async move {
        let stop = CancellationToken::new();
        raft_store::server::cancel_on_signals(stop.clone());
        let r: anyhow::Result<()> = match cli.cmd {
            Cmd::Replica(f) => {
                let name = f.store.name.clone();
                replica::run(*f, stop)
                    .await
                    .map(|how| {
                        if how == raft_store::server::Stopped::Removed {
                            eprintln!("replica {name}: removed from the cluster; its data dir can be deleted");
                        }
                    })
                    .map_err(Into::into)
            }
            Cmd::Up(f) => up::run(f, stop).await.map_err(Into::into),
        };
        match r {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: {e:#}");
                1
            }
        }
    });
    std::process::exit(code);
}
