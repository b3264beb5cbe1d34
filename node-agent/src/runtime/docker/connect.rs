//! Connecting to the local Docker engine and negotiating the API version.
//!
//! Guarantee: when no engine answers, the error is
//! [`RuntimeError::Unavailable`] and says which address was tried and what
//! to do (start the daemon, or run the agent with the hollow runtime).

use bollard::Docker;

use crate::runtime::RuntimeError;

/// The socket bollard's local defaults use when `DOCKER_HOST` is not a
/// `unix://` address.
const DEFAULT_ADDRESS: &str = "unix:///var/run/docker.sock";

/// The address `Docker::connect_with_local_defaults` dials, given the value
/// of `DOCKER_HOST`.
pub(crate) fn local_address(docker_host: Option<&str>) -> String {
    match docker_host {
        Some(h) if h.starts_with("unix://") => h.to_string(),
        _ => DEFAULT_ADDRESS.to_string(),
    }
}

/// The message of an unreachable engine.
pub(crate) fn unavailable(address: &str, cause: &str) -> RuntimeError {
    RuntimeError::Unavailable(format!(
        "no Docker engine at {address} ({cause}): start the Docker daemon, or run the agent with --runtime hollow"
    ))
}

/// Connects and negotiates the API version (the engine's, when older than
/// bollard's).
pub(crate) async fn connect() -> Result<Docker, RuntimeError> {
    let address = local_address(std::env::var("DOCKER_HOST").ok().as_deref());
    let docker = Docker::connect_with_local_defaults().map_err(|e| unavailable(&address, &e.to_string()))?;
    let docker = docker.negotiate_version().await.map_err(|e| unavailable(&address, &e.to_string()))?;
    let version = docker.client_version();
    tracing::info!(address = %address, api_version = %version, "connected to Docker engine");
    Ok(docker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_follows_unix_docker_host_only() {
        assert_eq!(local_address(None), DEFAULT_ADDRESS);
        assert_eq!(local_address(Some("tcp://1.2.3.4:2375")), DEFAULT_ADDRESS);
        assert_eq!(local_address(Some("unix:///run/user/1000/docker.sock")), "unix:///run/user/1000/docker.sock");
    }

    #[test]
    fn unavailable_says_what_to_do() {
        let RuntimeError::Unavailable(m) = unavailable(DEFAULT_ADDRESS, "Socket not found") else {
            panic!("wrong variant");
        };
        assert!(m.contains(DEFAULT_ADDRESS) && m.contains("Socket not found"), "{m}");
        assert!(m.contains("start the Docker daemon") && m.contains("--runtime hollow"), "{m}");
    }
}
