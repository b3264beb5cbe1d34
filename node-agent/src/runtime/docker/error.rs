//! Mapping bollard errors to [`RuntimeError`], keeping the engine's own
//! message. Pure functions; every call site says which operation failed.
//!
//! Rules: a 404 answer is [`RuntimeError::NotFound`] (except where the
//! caller maps it itself, e.g. create); failures to reach the engine are
//! [`RuntimeError::Unavailable`]; everything else is the variant the caller
//! picks ([`RuntimeError::Engine`] by default) with `"<op>: <message>"`.

use bollard::errors::Error as BollardError;

use crate::runtime::RuntimeError;

/// HTTP status of an engine answer, when the error is one.
pub(crate) fn status_of(e: &BollardError) -> Option<u16> {
    match e {
        BollardError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// The engine's message (the body of an error answer, a stream error, or
/// the client's own description when the engine said nothing).
pub(crate) fn engine_message(e: &BollardError) -> String {
    match e {
        BollardError::DockerResponseServerError { message, .. } => message.trim().to_string(),
        BollardError::DockerStreamError { error } => error.trim().to_string(),
        BollardError::DockerContainerWaitError { error, code } if error.is_empty() => format!("exit code {code}"),
        BollardError::DockerContainerWaitError { error, .. } => error.trim().to_string(),
        other => other.to_string(),
    }
}

/// True when the error means the engine could not be reached at all.
pub(crate) fn is_unreachable(e: &BollardError) -> bool {
    matches!(
        e,
        BollardError::HyperLegacyError { .. }
            | BollardError::HyperResponseError { .. }
            | BollardError::IOError { .. }
            | BollardError::SocketNotFoundError(_)
            | BollardError::RequestTimeoutError
    )
}

/// Maps an error of an operation on container (or exec) `id`: 404 →
/// NotFound(id), unreachable → Unavailable, else `Engine("<op> <id>: <msg>")`.
pub(crate) fn on_container(op: &str, id: &str, e: BollardError) -> RuntimeError {
    map_with(op, id, e, RuntimeError::Engine)
}

/// Like [`on_container`] but with `wrap` choosing the variant of the
/// generic case (e.g. [`RuntimeError::Start`]).
pub(crate) fn map_with(op: &str, id: &str, e: BollardError, wrap: fn(String) -> RuntimeError) -> RuntimeError {
    if status_of(&e) == Some(404) {
        return RuntimeError::NotFound(id.to_string());
    }
    if is_unreachable(&e) {
        return RuntimeError::Unavailable(format!("{op} {id}: {e}"));
    }
    wrap(format!("{op} {id}: {}", engine_message(&e)))
}

/// Maps an error of an engine-wide operation (info, list): unreachable →
/// Unavailable, else `Engine("<op>: <msg>")`.
pub(crate) fn on_engine(op: &str, e: BollardError) -> RuntimeError {
    if is_unreachable(&e) {
        return RuntimeError::Unavailable(format!("{op}: {e}"));
    }
    RuntimeError::Engine(format!("{op}: {}", engine_message(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(status_code: u16, message: &str) -> BollardError {
        BollardError::DockerResponseServerError { status_code, message: message.to_string() }
    }

    #[test]
    fn not_found_names_the_container() {
        let e = on_container("inspect container", "abc", server(404, "No such container: abc"));
        assert_eq!(e, RuntimeError::NotFound("abc".into()));
    }

    #[test]
    fn other_status_keeps_engine_message_and_variant() {
        let e =
            map_with("start container", "abc", server(500, "OCI runtime create failed: boom\n"), RuntimeError::Start);
        assert_eq!(e, RuntimeError::Start("start container abc: OCI runtime create failed: boom".into()));
        let e = on_engine("list containers", server(500, "disk full"));
        assert_eq!(e, RuntimeError::Engine("list containers: disk full".into()));
    }

    #[test]
    fn unreachable_is_unavailable() {
        let e = on_engine("info", BollardError::SocketNotFoundError("/var/run/docker.sock".into()));
        assert!(matches!(e, RuntimeError::Unavailable(m) if m.contains("/var/run/docker.sock")));
        let e = on_container("stop container", "x", BollardError::RequestTimeoutError);
        assert!(matches!(e, RuntimeError::Unavailable(_)));
    }

    #[test]
    fn stream_error_message_is_the_engines() {
        let e = BollardError::DockerStreamError { error: "manifest unknown".into() };
        assert_eq!(engine_message(&e), "manifest unknown");
        assert_eq!(status_of(&e), None);
    }
}
