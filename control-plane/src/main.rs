//! `control-plane`: Kubernetes-compatible API server replica on raft-store (not yet implemented: see issue 3).

fn main() {
    eprintln!("usage: control-plane <command> [flags]\n\nKubernetes-compatible API server replica on raft-store (not yet implemented: see issue 3).\nNothing runs yet; use the raft-store binary for the store.");
    std::process::exit(2);
}
