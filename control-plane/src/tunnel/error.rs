//! Errors of log and exec sessions, each with the HTTP code and Kubernetes
//! `Status.reason` the REST layer answers with.

/// Why a log or exec request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TunnelError {
    /// No agent of the pod's node has a tunnel to this replica (503).
    #[error("no node agent for node {0} is connected to this replica; is the agent running?")]
    NoAgent(String),
    /// The request is malformed: a bad query value, an unknown container,
    /// no WebSocket upgrade (400).
    #[error("{0}")]
    BadRequest(String),
    /// The options are well formed but not valid, e.g. a negative
    /// `tailLines` (422, as `PodLogOptions "p" is invalid: ...`).
    #[error("{0}")]
    Invalid(String),
    /// The agent refused or failed the session; `code` is the one it put in
    /// its final Status (400 for "container not found"-like errors, 500
    /// otherwise).
    #[error("{message}")]
    Agent {
        /// HTTP code from the agent's Status (500 when it gave none).
        code: u16,
        /// The agent's message.
        message: String,
    },
    /// The tunnel carrying the session went away, or the session's reader
    /// fell too far behind and the session was cut (503).
    #[error("{0}")]
    Lost(String),
}

impl TunnelError {
    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            TunnelError::NoAgent(_) | TunnelError::Lost(_) => 503,
            TunnelError::BadRequest(_) => 400,
            TunnelError::Invalid(_) => 422,
            TunnelError::Agent { code, .. } if (400..600).contains(code) => *code,
            TunnelError::Agent { .. } => 500,
        }
    }

    /// The Kubernetes `Status.reason` for [`code`](Self::code).
    pub fn reason(&self) -> &'static str {
        reason_for(self.code())
    }
}

/// The `metav1.StatusReason` Kubernetes uses for an HTTP code.
pub fn reason_for(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        410 => "Expired",
        422 => "Invalid",
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "InternalError",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_agent_is_503_with_advice() {
        let e = TunnelError::NoAgent("n1".into());
        assert_eq!((e.code(), e.reason()), (503, "ServiceUnavailable"));
        assert_eq!(e.to_string(), "no node agent for node n1 is connected to this replica; is the agent running?");
    }

    #[test]
    fn codes_and_reasons() {
        assert_eq!(TunnelError::BadRequest("x".into()).code(), 400);
        assert_eq!(TunnelError::Invalid("x".into()).reason(), "Invalid");
        assert_eq!(TunnelError::Lost("x".into()).code(), 503);
        let agent = |code| TunnelError::Agent { code, message: "m".into() };
        assert_eq!((agent(400).code(), agent(400).reason()), (400, "BadRequest"));
        assert_eq!((agent(500).code(), agent(500).reason()), (500, "InternalError"));
        // A code that is not an error code is an internal error.
        assert_eq!((agent(200).code(), agent(0).reason()), (500, "InternalError"));
    }
}
