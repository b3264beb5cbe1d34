//! Engine facts for the Node's capacity (`docker info`).

use bollard::Docker;

use super::error;
use crate::runtime::RuntimeError;

/// `(cores, memory bytes)` from `docker info` (`NCPU`, `MemTotal`).
pub(crate) async fn capacity(docker: &Docker) -> Result<(u32, u64), RuntimeError> {
    let info = docker.info().await.map_err(|e| error::on_engine("docker info", e))?;
    capacity_of(info.ncpu, info.mem_total)
}

/// `docker://<engine version>` for the Node's `containerRuntimeVersion`.
pub(crate) async fn version(docker: &Docker) -> Result<String, RuntimeError> {
    let v = docker.version().await.map_err(|e| error::on_engine("docker version", e))?;
    Ok(format!("docker://{}", v.version.unwrap_or_else(|| "unknown".into())))
}

/// Validates the two numbers (the engine reports them as signed).
pub(crate) fn capacity_of(ncpu: Option<i64>, mem_total: Option<i64>) -> Result<(u32, u64), RuntimeError> {
    let cores = ncpu.and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0);
    let mem = mem_total.and_then(|n| u64::try_from(n).ok()).filter(|n| *n > 0);
    match (cores, mem) {
        (Some(c), Some(m)) => Ok((c, m)),
        _ => Err(RuntimeError::Engine(format!(
            "docker info: engine reported no usable capacity (NCPU {ncpu:?}, MemTotal {mem_total:?})"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_requires_positive_numbers() {
        assert_eq!(capacity_of(Some(2), Some(4 << 30)), Ok((2, 4 << 30)));
        assert!(capacity_of(None, Some(1)).is_err());
        assert!(capacity_of(Some(0), Some(1)).is_err());
        assert!(capacity_of(Some(2), Some(-1)).is_err());
    }
}
