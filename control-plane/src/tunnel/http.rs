//! The REST faces of `pods/{name}/log` and `pods/{name}/exec`, called by
//! the router once it has read the pod.
//!
//! Guarantees:
//! - Query options are parsed as Kubernetes does: booleans are false only
//!   for `0`/`false`; integers must parse (else 400 with Go's message);
//!   values out of range give 422 `PodLogOptions "p" is invalid: ...`.
//! - Logs: the status line is sent only after the agent accepted the
//!   session, so agent-side errors (unknown container, no previous
//!   container) become proper error responses; then `text/plain` chunks
//!   are forwarded as they arrive. Dropping the response (client gone)
//!   closes the session at the agent. An error after the status line ends
//!   the body early (logged). A client that stops reading for
//!   [`READER_PATIENCE`](super::READER_PATIENCE) has its session cut.
//! - Exec: WebSocket only (`v5.channel.k8s.io`, `v4.channel.k8s.io`,
//!   `channel.k8s.io`); a request without a WebSocket upgrade (e.g. an old
//!   kubectl's SPDY) gets 400 and no command is started. The socket always
//!   ends with a Status on the error channel; errors after the upgrade
//!   (agent-side) are reported there, so kubectl prints them.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use proto::agent::{session_open, Channel, ExecRequest, LogRequest, SessionOpen};
use serde_json::Value;

use super::remotecommand::{self, ClientFrame, Protocol};
use super::{Session, TunnelError, Tunnels};

/// A pod's container on a node, resolved by the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodTarget {
    /// `spec.nodeName`.
    pub node: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub pod: String,
    /// The container (see [`pick_container`]).
    pub container: String,
}

impl PodTarget {
    /// Resolves the target from the pod's JSON and the requested container
    /// (the `container` query parameter). Errors are 400s with the API
    /// server's messages; a pod without a node has no logs or exec.
    pub fn from_pod(pod: &Value, requested: Option<&str>) -> Result<PodTarget, TunnelError> {
        let container = pick_container(pod, requested).map_err(TunnelError::BadRequest)?;
        let name = str_at(pod, &["metadata", "name"]);
        let node = str_at(pod, &["spec", "nodeName"]);
        if node.is_empty() {
            return Err(TunnelError::BadRequest(format!("pod {name} does not have a host assigned")));
        }
        Ok(PodTarget {
            node: node.to_string(),
            namespace: str_at(pod, &["metadata", "namespace"]).to_string(),
            pod: name.to_string(),
            container,
        })
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str).unwrap_or_default()
}

fn names(pod: &Value, field: &str) -> Vec<String> {
    pod.get("spec")
        .and_then(|s| s.get(field))
        .and_then(Value::as_array)
        .map(|cs| cs.iter().filter_map(|c| c.get("name")?.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The container a log or exec request addresses: the requested one if the
/// pod has it (app or init container); else the only container; else the
/// one named by annotation `kubectl.kubernetes.io/default-container`; else
/// an error listing the choices, worded as the API server words it.
pub fn pick_container(pod: &Value, requested: Option<&str>) -> Result<String, String> {
    let pod_name = str_at(pod, &["metadata", "name"]);
    let containers = names(pod, "containers");
    let inits = names(pod, "initContainers");
    if let Some(c) = requested.filter(|c| !c.is_empty()) {
        if containers.iter().chain(&inits).any(|n| n == c) {
            return Ok(c.to_string());
        }
        return Err(format!("container {c} is not valid for pod {pod_name}"));
    }
    if containers.len() == 1 {
        return Ok(containers[0].clone());
    }
    let default = str_at(pod, &["metadata", "annotations", "kubectl.kubernetes.io/default-container"]);
    if !default.is_empty() && containers.iter().chain(&inits).any(|n| n == default) {
        return Ok(default.to_string());
    }
    if containers.is_empty() {
        return Err(format!("a container name must be specified for pod {pod_name}"));
    }
    let mut msg =
        format!("a container name must be specified for pod {pod_name}, choose one of: [{}]", containers.join(" "));
    if !inits.is_empty() {
        msg.push_str(&format!(" or one of the init containers: [{}]", inits.join(" ")));
    }
    Err(msg)
}

/// Kubernetes' query boolean: false only for `0` and `false` (any case).
fn query_bool(v: &str) -> bool {
    !(v == "0" || v.eq_ignore_ascii_case("false"))
}

fn query_int(v: &str) -> Result<i64, TunnelError> {
    v.parse::<i64>().map_err(|_| {
        let what = if v.trim_start_matches(['-', '+']).chars().all(|c| c.is_ascii_digit()) && !v.is_empty() {
            "value out of range"
        } else {
            "invalid syntax"
        };
        TunnelError::BadRequest(format!("strconv.ParseInt: parsing {v:?}: {what}"))
    })
}

/// Parses `pods/log` query options into a [`LogRequest`]
/// (`sinceTime` becomes seconds before now).
pub fn parse_log_options(query: &HashMap<String, String>, pod: &str) -> Result<LogRequest, TunnelError> {
    let flag = |k: &str| query.get(k).is_some_and(|v| query_bool(v));
    let int = |k: &str| query.get(k).map(|v| query_int(v)).transpose();
    let tail = int("tailLines")?;
    let since = int("sinceSeconds")?;
    let limit = int("limitBytes")?;
    let since_time = match query.get("sinceTime") {
        Some(t) => Some(
            chrono::DateTime::parse_from_rfc3339(t)
                .map_err(|e| TunnelError::BadRequest(format!("parsing time {t:?}: {e}")))?,
        ),
        None => None,
    };
    let mut errs = Vec::new();
    if let Some(t) = tail.filter(|t| *t < 0) {
        errs.push(format!("tailLines: Invalid value: {t}: must be greater than or equal to 0"));
    }
    if let Some(l) = limit.filter(|l| *l < 1) {
        errs.push(format!("limitBytes: Invalid value: {l}: must be greater than 0"));
    }
    if since.is_some() && since_time.is_some() {
        errs.push("Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified".to_string());
    } else if let Some(s) = since.filter(|s| *s < 1) {
        errs.push(format!("sinceSeconds: Invalid value: {s}: must be greater than 0"));
    }
    match errs.len() {
        0 => {}
        1 => return Err(TunnelError::Invalid(format!("PodLogOptions {pod:?} is invalid: {}", errs[0]))),
        _ => return Err(TunnelError::Invalid(format!("PodLogOptions {pod:?} is invalid: [{}]", errs.join(", ")))),
    }
    let since_seconds = match (since, since_time) {
        (Some(s), _) => s,
        (None, Some(t)) => {
            (chrono::Utc::now().signed_duration_since(t).num_milliseconds() + 999).div_euclid(1000).max(1)
        }
        (None, None) => 0,
    };
    Ok(LogRequest {
        follow: flag("follow"),
        tail_lines: tail.unwrap_or(-1),
        timestamps: flag("timestamps"),
        previous: flag("previous"),
        since_seconds,
        limit_bytes: limit.unwrap_or(0),
    })
}

/// Parses `pods/exec` query options (`command` repeats) into an
/// [`ExecRequest`], with the API server's errors.
pub fn parse_exec_options(query: &[(String, String)]) -> Result<ExecRequest, TunnelError> {
    let flag = |k: &str| query.iter().find(|(q, _)| q == k).is_some_and(|(_, v)| query_bool(v));
    let req = ExecRequest {
        command: query.iter().filter(|(k, _)| k == "command").map(|(_, v)| v.clone()).collect(),
        stdin: flag("stdin"),
        stdout: flag("stdout"),
        stderr: flag("stderr"),
        tty: flag("tty"),
    };
    if req.command.is_empty() {
        return Err(TunnelError::BadRequest("you must specify at least 1 command".to_string()));
    }
    if !(req.stdin || req.stdout || req.stderr) {
        return Err(TunnelError::BadRequest("you must specify at least 1 of stdin, stdout, stderr".to_string()));
    }
    Ok(req)
}

/// Maps an agent's failure Status (ERROR channel) to an error.
fn status_error(payload: &[u8]) -> Option<TunnelError> {
    let s = remotecommand::summarize_status(payload)?;
    (!s.success).then(|| TunnelError::Agent { code: s.code.unwrap_or(500), message: s.message })
}

/// `GET pods/{name}/log`: streams the container's log as `text/plain`.
pub async fn logs(
    tunnels: &Tunnels,
    target: PodTarget,
    query: &HashMap<String, String>,
) -> Result<Response, TunnelError> {
    let request = parse_log_options(query, &target.pod)?;
    let open = SessionOpen {
        session: 0,
        namespace: target.namespace,
        pod: target.pod,
        container: target.container,
        request: Some(session_open::Request::Logs(request)),
    };
    let mut session = tunnels.open(&target.node, open).await?;
    // Wait for the ready frame (or an error) before committing to 200.
    let first = loop {
        match session.recv().await? {
            Some((Channel::Stdout | Channel::Stderr, data)) => break Some(data),
            Some((Channel::Error, payload)) => match status_error(&payload) {
                Some(e) => return Err(e),
                None => break None,
            },
            Some(_) => continue,
            None => break None,
        }
    };
    let body = match first {
        None => Body::empty(),
        Some(first) => Body::from_stream(log_chunks(first, session)),
    };
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(body)
        .expect("static response parts are valid"))
}

/// The log body: `first`, then every output chunk until the session ends.
fn log_chunks(first: Bytes, session: Session) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let head = futures::stream::iter((!first.is_empty()).then_some(Ok(first)));
    let rest = futures::stream::unfold(Some(session), |session| async move {
        let mut session = session?;
        loop {
            match session.recv().await {
                Ok(Some((Channel::Stdout | Channel::Stderr, data))) if !data.is_empty() => {
                    return Some((Ok(data), Some(session)));
                }
                Ok(Some((Channel::Error, payload))) => {
                    if let Some(e) = status_error(&payload) {
                        tracing::warn!(session = session.id(), error = %e, "log stream ended with an error");
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(e) => {
                    tracing::warn!(session = session.id(), error = %e, "log stream ended early");
                    return None;
                }
            }
        }
    });
    head.chain(rest)
}

/// `GET pods/{name}/exec` with a WebSocket upgrade: runs the command in the
/// container and pumps the remotecommand channels. `ws` is `None` when
/// the request is not a WebSocket upgrade (then 400, nothing started).
pub async fn exec(
    tunnels: &Tunnels,
    target: PodTarget,
    query: &[(String, String)],
    ws: Option<WebSocketUpgrade>,
) -> Result<Response, TunnelError> {
    let request = parse_exec_options(query)?;
    let Some(mut ws) = ws else {
        if !tunnels.has_agent(&target.node) {
            return Err(TunnelError::NoAgent(target.node));
        }
        return Err(TunnelError::BadRequest(
            "Upgrade request required: exec needs a WebSocket upgrade (v5.channel.k8s.io or v4.channel.k8s.io); \
             SPDY is not supported"
                .to_string(),
        ));
    };
    let requested: Vec<&str> = ws.requested_protocols().filter_map(|p| p.to_str().ok()).collect();
    let protocol = remotecommand::negotiate(requested).ok_or_else(|| {
        TunnelError::BadRequest(
            "unable to negotiate a remotecommand subprotocol; this server speaks v5.channel.k8s.io, \
             v4.channel.k8s.io and channel.k8s.io"
                .to_string(),
        )
    })?;
    let open = SessionOpen {
        session: 0,
        namespace: target.namespace,
        pod: target.pod,
        container: target.container,
        request: Some(session_open::Request::Exec(request)),
    };
    let session = tunnels.open(&target.node, open).await?;
    ws.set_selected_protocol(HeaderValue::from_static(protocol.name()));
    Ok(ws.on_upgrade(move |socket| pump(socket, session, protocol)))
}

/// Earliest time after the upgrade at which the final status is sent.
const STATUS_NOT_BEFORE: std::time::Duration = std::time::Duration::from_millis(250);

/// Moves frames between the WebSocket and the session until the session
/// ends (then sends the final Status and closes) or the client goes away
/// (then drops the session, which closes it at the agent).
async fn pump(socket: WebSocket, session: Session, protocol: Protocol) {
    let upgraded = tokio::time::Instant::now();
    let id = session.id();
    let (mut sink, mut stream) = socket.split();
    let (writer, mut reader) = session.into_split();
    let mut final_status: Option<Bytes> = None;
    let status = loop {
        tokio::select! {
            frame = reader.recv() => match frame {
                Ok(Some((channel @ (Channel::Stdout | Channel::Stderr), data))) => {
                    if data.is_empty() {
                        continue;
                    }
                    // The same race as the final status (see below).
                    tokio::time::sleep_until(upgraded + STATUS_NOT_BEFORE).await;
                    let msg = Message::Binary(remotecommand::encode(channel as u8, &data).into());
                    if sink.send(msg).await.is_err() {
                        tracing::debug!(session = id, "exec client went away");
                        return;
                    }
                }
                Ok(Some((Channel::Error, payload))) => final_status = Some(payload),
                Ok(Some(_)) => {}
                Ok(None) => break final_status.unwrap_or_else(|| remotecommand::success_status().into()),
                Err(e) => {
                    break final_status
                        .unwrap_or_else(|| remotecommand::failure_status(e.code(), e.reason(), &e.to_string()).into())
                }
            },
            msg = stream.next() => match msg {
                Some(Ok(Message::Binary(data))) => {
                    let sent = match remotecommand::decode(&data) {
                        Ok(ClientFrame::Stdin(bytes)) if !bytes.is_empty() => writer.send(Channel::Stdin, bytes).await,
                        Ok(ClientFrame::Resize { width, height }) => {
                            let json = serde_json::json!({"Width": width, "Height": height}).to_string();
                            writer.send(Channel::Resize, json).await
                        }
                        Ok(ClientFrame::Close(remotecommand::STDIN)) if protocol.has_close() => {
                            writer.send(Channel::CloseStdin, Vec::new()).await
                        }
                        Ok(_) => Ok(()),
                        Err(e) => {
                            tracing::debug!(session = id, error = %e, "undecodable exec message ignored");
                            Ok(())
                        }
                    };
                    if let Err(e) = sent {
                        tracing::debug!(session = id, error = %e, "exec input not delivered");
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                    tracing::debug!(session = id, "exec client closed the socket");
                    return;
                }
                Some(Ok(_)) => {}
            },
        }
    };
    let payload = if protocol.structured_errors() {
        Some(status.to_vec())
    } else {
        // The original protocol carries only the text of a failure.
        remotecommand::summarize_status(&status).filter(|s| !s.success).map(|s| s.message.into_bytes())
    };
    if let Some(payload) = payload {
        // kubectl's WebSocket client registers its streams only after the
        // upgrade; a status sent at once (a command that fails to start)
        // can arrive before, and is then discarded ("Unknown stream id 3").
        tokio::time::sleep_until(upgraded + STATUS_NOT_BEFORE).await;
        let _ = sink.send(Message::Binary(remotecommand::encode(remotecommand::ERROR, &payload).into())).await;
    }
    let _ = sink.send(Message::Close(Some(CloseFrame { code: 1000, reason: "".into() }))).await;
    drop(writer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(containers: &[&str], inits: &[&str], default: Option<&str>) -> Value {
        let list = |n: &[&str]| n.iter().map(|n| json!({"name": n, "image": "busybox"})).collect::<Vec<_>>();
        let mut p = json!({
            "metadata": {"name": "web-1", "namespace": "default"},
            "spec": {"nodeName": "n1", "containers": list(containers), "initContainers": list(inits)},
        });
        if let Some(d) = default {
            p["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/default-container": d});
        }
        p
    }

    #[test]
    fn pick_the_only_container() {
        assert_eq!(pick_container(&pod(&["a"], &["init"], None), None), Ok("a".into()));
        assert_eq!(pick_container(&pod(&["a"], &[], None), Some("")), Ok("a".into()));
    }

    #[test]
    fn pick_requested_app_or_init_container() {
        let p = pod(&["a", "b"], &["init"], None);
        assert_eq!(pick_container(&p, Some("b")), Ok("b".into()));
        assert_eq!(pick_container(&p, Some("init")), Ok("init".into()));
        assert_eq!(pick_container(&p, Some("x")), Err("container x is not valid for pod web-1".into()));
    }

    #[test]
    fn several_containers_need_a_choice_or_the_annotation() {
        let p = pod(&["a", "b"], &[], None);
        assert_eq!(
            pick_container(&p, None),
            Err("a container name must be specified for pod web-1, choose one of: [a b]".into())
        );
        let p = pod(&["a", "b"], &["i1", "i2"], None);
        assert_eq!(
            pick_container(&p, None),
            Err("a container name must be specified for pod web-1, choose one of: [a b] or one of the init containers: [i1 i2]"
                .into())
        );
        assert_eq!(pick_container(&pod(&["a", "b"], &[], Some("b")), None), Ok("b".into()));
        // An annotation naming no container is ignored.
        assert!(pick_container(&pod(&["a", "b"], &[], Some("zz")), None).is_err());
        assert_eq!(
            pick_container(&pod(&[], &[], None), None),
            Err("a container name must be specified for pod web-1".into())
        );
    }

    #[test]
    fn target_needs_a_node() {
        let mut p = pod(&["a"], &[], None);
        let t = PodTarget::from_pod(&p, None).unwrap();
        assert_eq!(
            t,
            PodTarget { node: "n1".into(), namespace: "default".into(), pod: "web-1".into(), container: "a".into() }
        );
        p["spec"]["nodeName"] = json!("");
        assert_eq!(
            PodTarget::from_pod(&p, None),
            Err(TunnelError::BadRequest("pod web-1 does not have a host assigned".into()))
        );
        assert_eq!(
            PodTarget::from_pod(&p, Some("zz")),
            Err(TunnelError::BadRequest("container zz is not valid for pod web-1".into()))
        );
    }

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn log_options_defaults_and_flags() {
        let r = parse_log_options(&q(&[]), "p").unwrap();
        assert_eq!(
            r,
            LogRequest {
                follow: false,
                tail_lines: -1,
                timestamps: false,
                previous: false,
                since_seconds: 0,
                limit_bytes: 0
            }
        );
        let r = parse_log_options(
            &q(&[
                ("follow", "true"),
                ("tailLines", "2"),
                ("timestamps", "1"),
                ("previous", "False"),
                ("limitBytes", "10"),
            ]),
            "p",
        )
        .unwrap();
        assert_eq!(
            r,
            LogRequest {
                follow: true,
                tail_lines: 2,
                timestamps: true,
                previous: false,
                since_seconds: 0,
                limit_bytes: 10
            }
        );
        assert_eq!(parse_log_options(&q(&[("sinceSeconds", "30")]), "p").unwrap().since_seconds, 30);
        assert_eq!(parse_log_options(&q(&[("tailLines", "0")]), "p").unwrap().tail_lines, 0);
    }

    #[test]
    fn log_options_since_time_becomes_seconds() {
        let t = (chrono::Utc::now() - chrono::Duration::seconds(120)).to_rfc3339();
        let s = parse_log_options(&q(&[("sinceTime", &t)]), "p").unwrap().since_seconds;
        assert!((120..=122).contains(&s), "{s}");
        let future = (chrono::Utc::now() + chrono::Duration::seconds(60)).to_rfc3339();
        assert_eq!(parse_log_options(&q(&[("sinceTime", &future)]), "p").unwrap().since_seconds, 1);
        assert!(matches!(parse_log_options(&q(&[("sinceTime", "yesterday")]), "p"), Err(TunnelError::BadRequest(_))));
    }

    #[test]
    fn log_options_bad_values() {
        assert_eq!(
            parse_log_options(&q(&[("tailLines", "abc")]), "p"),
            Err(TunnelError::BadRequest(r#"strconv.ParseInt: parsing "abc": invalid syntax"#.into()))
        );
        assert_eq!(
            parse_log_options(&q(&[("limitBytes", "99999999999999999999")]), "p"),
            Err(TunnelError::BadRequest(
                r#"strconv.ParseInt: parsing "99999999999999999999": value out of range"#.into()
            ))
        );
        assert_eq!(
            parse_log_options(&q(&[("tailLines", "-1")]), "web-1"),
            Err(TunnelError::Invalid(
                r#"PodLogOptions "web-1" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0"#
                    .into()
            ))
        );
        assert_eq!(
            parse_log_options(&q(&[("sinceSeconds", "0"), ("limitBytes", "0")]), "p"),
            Err(TunnelError::Invalid(
                r#"PodLogOptions "p" is invalid: [limitBytes: Invalid value: 0: must be greater than 0, sinceSeconds: Invalid value: 0: must be greater than 0]"#
                    .into()
            ))
        );
        let t = chrono::Utc::now().to_rfc3339();
        assert!(matches!(
            parse_log_options(&q(&[("sinceSeconds", "5"), ("sinceTime", &t)]), "p"),
            Err(TunnelError::Invalid(m)) if m.contains("at most one of `sinceTime` or `sinceSeconds`")
        ));
    }

    #[test]
    fn exec_options() {
        let query: Vec<(String, String)> =
            [("command", "sh"), ("command", "-c"), ("command", "echo hi"), ("stdout", "true"), ("stdin", "false")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let r = parse_exec_options(&query).unwrap();
        assert_eq!(r.command, vec!["sh", "-c", "echo hi"]);
        assert!(r.stdout && !r.stdin && !r.stderr && !r.tty);
        assert_eq!(
            parse_exec_options(&[("stdout".into(), "true".into())]),
            Err(TunnelError::BadRequest("you must specify at least 1 command".into()))
        );
        assert_eq!(
            parse_exec_options(&[("command".into(), "ls".into())]),
            Err(TunnelError::BadRequest("you must specify at least 1 of stdin, stdout, stderr".into()))
        );
    }

    #[test]
    fn agent_status_maps_to_errors() {
        let bad = remotecommand::failure_status(400, "BadRequest", "container c is not running");
        assert_eq!(
            status_error(&bad),
            Some(TunnelError::Agent { code: 400, message: "container c is not running".into() })
        );
        assert_eq!(status_error(&remotecommand::success_status()), None);
        let no_code = br#"{"metadata":{},"status":"Failure","message":"m"}"#;
        assert_eq!(status_error(no_code).map(|e| e.code()), Some(500));
    }
}
