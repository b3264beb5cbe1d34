//! `node-agent`: node agent running pods in Docker (not yet implemented: see issue 5).

fn main() {
    eprintln!("usage: node-agent <command> [flags]\n\nnode agent running pods in Docker (not yet implemented: see issue 5).\nNothing runs yet; use the raft-store binary for the store.");
    std::process::exit(2);
}
