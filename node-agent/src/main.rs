//! `node-agent`: runs pods assigned to this node (see the library docs).

fn main() -> std::process::ExitCode {
    node_agent::cli::main()
}
