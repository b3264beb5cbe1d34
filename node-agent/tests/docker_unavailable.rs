//! Connecting with no engine at the address gives `Unavailable` with a
//! message that says what to do. Its own test binary: it sets `DOCKER_HOST`.

use node_agent::runtime::docker::{DockerRuntime, PAUSE_IMAGE};
use node_agent::runtime::RuntimeError;

#[tokio::test]
async fn no_engine_is_unavailable_with_advice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let address = format!("unix://{}/docker.sock", dir.path().display());
    // SAFETY: the only test in this binary; nothing reads the environment concurrently.
    unsafe { std::env::set_var("DOCKER_HOST", &address) };
    match DockerRuntime::connect(PAUSE_IMAGE.to_string()).await {
        Err(RuntimeError::Unavailable(m)) => {
            assert!(m.contains(&address), "{m}");
            assert!(m.contains("start the Docker daemon") && m.contains("--runtime hollow"), "{m}");
        }
        Err(other) => panic!("expected Unavailable, got {other:?}"),
        Ok(_) => panic!("connected to an engine at {address}"),
    }
}
