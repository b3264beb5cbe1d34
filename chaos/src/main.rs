//! `chaos`: fault injection and history checking for Helmsman clusters (not yet implemented: see issue 6).

fn main() {
    eprintln!("usage: chaos <command> [flags]\n\nfault injection and history checking for Helmsman clusters (not yet implemented: see issue 6).\nNothing runs yet; use the raft-store binary for the store.");
    std::process::exit(2);
}
