//! `raft-store`: one member of a raft-store cluster.

use clap::Parser;
use raft_store::cli::{split_list, Flags};
use raft_store::server::{Member, Stopped};
use tokio_util::sync::CancellationToken;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

#[tokio::main]
async fn run() -> anyhow::Result<()> {
    let flags = Flags::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&flags.log_level).unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cfg = flags.store_config().map_err(|e| anyhow::anyhow!("{e}"))?;
    let shutdown = CancellationToken::new();
    let member = Member::start(cfg, &flags.listen_peer_urls, &split_list(&flags.listen_client_urls), shutdown.clone())
        .await
        .map_err(|e| anyhow::anyhow!("raft-store {}: {e}", flags.name))?;
    tracing::info!(
        name = %flags.name,
        id = format!("{:x}", member.store.id),
        client = %flags.advertise_client_urls,
        peer = %flags.initial_advertise_peer_urls,
        "raft-store member serving"
    );
    raft_store::server::cancel_on_signals(shutdown);
    match member.wait().await {
        Stopped::Shutdown => Ok(()),
        Stopped::Removed => {
            eprintln!(
                "raft-store {}: this member was removed from the cluster; its data dir can be deleted",
                flags.name
            );
            Ok(())
        }
    }
}
