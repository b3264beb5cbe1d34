//! Kubernetes' remotecommand WebSocket channel protocol, as `kubectl exec`
//! (client-go 1.30+) speaks it: pure encoding and decoding, no I/O.
//!
//! Guarantees:
//! - [`negotiate`] picks `v5.channel.k8s.io` over `v4.channel.k8s.io` over
//!   `channel.k8s.io` whatever order the client lists them in; anything else
//!   (e.g. the base64 variants) is not offered.
//! - Every binary message is one channel byte followed by the payload
//!   ([`encode`] / [`decode`]); v5 adds [`CLOSE`] whose payload is the one
//!   byte of the channel being closed.
//! - The error channel carries a metav1 `Status` exactly as the kubelet
//!   writes it ([`success_status`], [`failure_status`]; the agent writes
//!   exit codes with `node_agent::tunnel::exit_status` and the server passes
//!   them through), so kubectl maps it to its own exit code.

use serde_json::json;

/// Standard input (client → server).
pub const STDIN: u8 = 0;
/// Standard output (server → client).
pub const STDOUT: u8 = 1;
/// Standard error (server → client).
pub const STDERR: u8 = 2;
/// The final `Status` JSON (server → client).
pub const ERROR: u8 = 3;
/// Terminal size JSON `{"Width":80,"Height":24}` (client → server).
pub const RESIZE: u8 = 4;
/// v5 only: the payload's first byte names a channel with no more data.
pub const CLOSE: u8 = 255;

/// A remotecommand subprotocol this server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `v5.channel.k8s.io`: v4 plus the CLOSE channel (stdin half-close).
    V5,
    /// `v4.channel.k8s.io`: structured Status on the error channel.
    V4,
    /// `channel.k8s.io`: the original protocol (error channel carries text).
    V1,
}

impl Protocol {
    /// The subprotocol name sent in `Sec-WebSocket-Protocol`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::V5 => "v5.channel.k8s.io",
            Protocol::V4 => "v4.channel.k8s.io",
            Protocol::V1 => "channel.k8s.io",
        }
    }

    /// Whether the client may half-close stdin with [`CLOSE`].
    pub fn has_close(self) -> bool {
        self == Protocol::V5
    }

    /// Whether the error channel carries a JSON `Status` (v4 and later)
    /// rather than plain text.
    pub fn structured_errors(self) -> bool {
        self != Protocol::V1
    }
}

/// Chooses the best protocol among those the client requested (server
/// preference: v5, v4, v1). `None` when there is no common protocol.
pub fn negotiate<'a>(requested: impl IntoIterator<Item = &'a str>) -> Option<Protocol> {
    let requested: Vec<&str> = requested.into_iter().map(str::trim).collect();
    [Protocol::V5, Protocol::V4, Protocol::V1].into_iter().find(|p| requested.contains(&p.name()))
}

/// One decoded client → server message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame {
    /// Bytes for the process's stdin.
    Stdin(Vec<u8>),
    /// A terminal resize.
    Resize {
        /// Columns.
        width: u16,
        /// Rows.
        height: u16,
    },
    /// No more data on this channel (v5).
    Close(u8),
    /// A message on a channel the client should not write (ignored).
    Other(u8),
}

/// Why a client message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A binary message with no channel byte.
    #[error("empty remotecommand message")]
    Empty,
    /// A CLOSE message without the channel to close.
    #[error("close message without a channel")]
    CloseWithoutChannel,
    /// A resize message that is not `{"Width":w,"Height":h}`.
    #[error("invalid resize message: {0}")]
    Resize(String),
}

/// Frames `payload` for `channel`.
pub fn encode(channel: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 1);
    out.push(channel);
    out.extend_from_slice(payload);
    out
}

/// Decodes one binary client message.
pub fn decode(message: &[u8]) -> Result<ClientFrame, DecodeError> {
    let (&channel, payload) = message.split_first().ok_or(DecodeError::Empty)?;
    match channel {
        STDIN => Ok(ClientFrame::Stdin(payload.to_vec())),
        RESIZE => {
            let (width, height) = decode_resize(payload)?;
            Ok(ClientFrame::Resize { width, height })
        }
        CLOSE => payload.first().map(|&c| ClientFrame::Close(c)).ok_or(DecodeError::CloseWithoutChannel),
        other => Ok(ClientFrame::Other(other)),
    }
}

/// Decodes a resize payload `{"Width":80,"Height":24}` (client-go's
/// `TerminalSize` JSON).
pub fn decode_resize(payload: &[u8]) -> Result<(u16, u16), DecodeError> {
    #[derive(serde::Deserialize)]
    struct Size {
        #[serde(rename = "Width")]
        width: u16,
        #[serde(rename = "Height")]
        height: u16,
    }
    let s: Size = serde_json::from_slice(payload).map_err(|e| DecodeError::Resize(e.to_string()))?;
    Ok((s.width, s.height))
}

/// The Status the kubelet sends when the command exited 0.
pub fn success_status() -> Vec<u8> {
    json!({"metadata": {}, "status": "Success"}).to_string().into_bytes()
}

/// A failure Status with an HTTP `code` and `reason` (e.g. 500
/// InternalError); kubectl prints `message`.
pub fn failure_status(code: u16, reason: &str, message: &str) -> Vec<u8> {
    json!({
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
    .to_string()
    .into_bytes()
}

/// What a Status on the error channel says, as far as the server needs to
/// know (to map session errors to HTTP responses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSummary {
    /// `status == "Success"`.
    pub success: bool,
    /// `code`, when present.
    pub code: Option<u16>,
    /// `message` (empty when absent).
    pub message: String,
}

/// Reads the fields of a Status JSON; `None` when it is not one.
pub fn summarize_status(payload: &[u8]) -> Option<StatusSummary> {
    let v: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let status = v.get("status")?.as_str()?;
    Some(StatusSummary {
        success: status == "Success",
        code: v.get("code").and_then(|c| c.as_u64()).and_then(|c| u16::try_from(c).ok()),
        message: v.get("message").and_then(|m| m.as_str()).unwrap_or_default().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiate_prefers_v5_regardless_of_client_order() {
        assert_eq!(negotiate(["v4.channel.k8s.io", "v5.channel.k8s.io"]), Some(Protocol::V5));
        assert_eq!(negotiate(["channel.k8s.io", "v4.channel.k8s.io"]), Some(Protocol::V4));
        assert_eq!(negotiate([" channel.k8s.io"]), Some(Protocol::V1));
        assert_eq!(negotiate(["base64.channel.k8s.io", "SPDY/3.1"]), None);
        assert_eq!(negotiate([]), None);
    }

    #[test]
    fn protocol_capabilities() {
        assert!(Protocol::V5.has_close());
        assert!(!Protocol::V4.has_close());
        assert!(Protocol::V4.structured_errors());
        assert!(!Protocol::V1.structured_errors());
        assert_eq!(Protocol::V5.name(), "v5.channel.k8s.io");
    }

    #[test]
    fn encode_prefixes_channel() {
        assert_eq!(encode(STDOUT, b"hi"), vec![1, b'h', b'i']);
        assert_eq!(encode(ERROR, b""), vec![3]);
    }

    #[test]
    fn decode_client_frames() {
        assert_eq!(decode(&[0, b'a', b'b']), Ok(ClientFrame::Stdin(b"ab".to_vec())));
        assert_eq!(decode(&[0]), Ok(ClientFrame::Stdin(vec![])));
        assert_eq!(decode(&[255, 0]), Ok(ClientFrame::Close(0)));
        assert_eq!(decode(&[255]), Err(DecodeError::CloseWithoutChannel));
        assert_eq!(decode(&[]), Err(DecodeError::Empty));
        assert_eq!(decode(&[1, b'x']), Ok(ClientFrame::Other(1)));
        let mut resize = vec![4];
        resize.extend_from_slice(br#"{"Width":80,"Height":24}"#);
        assert_eq!(decode(&resize), Ok(ClientFrame::Resize { width: 80, height: 24 }));
        assert!(matches!(decode(&[4, b'{']), Err(DecodeError::Resize(_))));
    }

    #[test]
    fn success_status_matches_kubelet() {
        assert_eq!(String::from_utf8(success_status()).unwrap(), r#"{"metadata":{},"status":"Success"}"#);
    }

    #[test]
    fn summarize_reads_status_fields() {
        let s = summarize_status(&failure_status(400, "BadRequest", "container c not found")).unwrap();
        assert_eq!(s, StatusSummary { success: false, code: Some(400), message: "container c not found".into() });
        let s = summarize_status(&success_status()).unwrap();
        assert!(s.success);
        assert_eq!(s.code, None);
        assert_eq!(summarize_status(b"not json"), None);
        assert_eq!(summarize_status(b"{}"), None);
    }
}
