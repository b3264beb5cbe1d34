//! Compiles every `.proto` under `proto/` with protox (no `protoc` needed)
//! and generates tonic clients and servers.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/etcd/kv.proto",
        "proto/etcd/rpc.proto",
        "proto/raft_peer.proto",
        "proto/helmsman/api.proto",
        "proto/helmsman/agent.proto",
    ];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(files, ["proto"])?;
    // Watch events carry the shared JSON of an object without a copy.
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .bytes(".helmsman.api.v1.WatchEvent.object")
        .compile_fds(fds)?;
    Ok(())
}
