//! Running commands in a container: collected (probes, hooks) or
//! interactive (`kubectl exec`).
//!
//! Guarantees: [`exec`] returns stdout and stderr separately, each capped
//! at [`OUTPUT_CAP`] bytes (the rest is read and dropped), and the exit
//! code from the engine; when `timeout` passes first it returns what was
//! read with exit code `None` (the engine has no way to kill an exec; the
//! process is left to finish). [`exec_session`] pumps stdin (closing it
//! when the sender is dropped), output and terminal resizes, and sends the
//! exit code after the last output chunk was handed over.

use std::time::Duration;

use bollard::container::LogOutput;
use bollard::exec::{ResizeExecOptions, StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use bollard::Docker;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::error;
use crate::runtime::{ExecOutput, ExecSession, Output, RuntimeError};

/// Most bytes kept of each of stdout and stderr by [`exec`].
pub const OUTPUT_CAP: usize = 64 * 1024;

/// How long to wait for the engine to record an exec's exit code after its
/// output ended.
const EXIT_CODE_WAIT: Duration = Duration::from_secs(10);

/// Appends `chunk` to `buf` up to `cap` bytes in total.
pub(crate) fn push_capped(buf: &mut Vec<u8>, chunk: &[u8], cap: usize) {
    let room = cap.saturating_sub(buf.len());
    buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
}

/// Which stream a chunk is from and its bytes (stdin echoes are dropped).
fn split(o: LogOutput) -> Option<(Output, Bytes)> {
    match o {
        LogOutput::StdOut { message } | LogOutput::Console { message } => Some((Output::Stdout, message)),
        LogOutput::StdErr { message } => Some((Output::Stderr, message)),
        LogOutput::StdIn { .. } => None,
    }
}

/// Creates and starts an attached exec; returns its id, output and input.
async fn start(
    docker: &Docker,
    id: &str,
    cmd: &[String],
    stdin: bool,
    tty: bool,
) -> Result<(String, StartExecResults), RuntimeError> {
    let config = ExecConfig {
        attach_stdin: Some(stdin),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(tty),
        cmd: Some(cmd.to_vec()),
        ..Default::default()
    };
    let created = docker.create_exec(id, config).await.map_err(|e| error::on_container("exec in container", id, e))?;
    let opts = StartExecOptions { detach: false, tty, output_capacity: None };
    let started =
        docker.start_exec(&created.id, Some(opts)).await.map_err(|e| error::on_container("start exec in", id, e))?;
    Ok((created.id, started))
}

/// The exit code of a finished exec, polling briefly while the engine still
/// reports it running.
async fn exit_code(docker: &Docker, container: &str, exec_id: &str) -> Result<i64, RuntimeError> {
    let deadline = Instant::now() + EXIT_CODE_WAIT;
    loop {
        let i = docker.inspect_exec(exec_id).await.map_err(|e| error::on_container("inspect exec in", container, e))?;
        match (i.running, i.exit_code) {
            (Some(false), Some(code)) => return Ok(code),
            _ if Instant::now() >= deadline => {
                return Err(RuntimeError::Engine(format!(
                    "exec in {container}: output ended but the engine reports no exit code after {EXIT_CODE_WAIT:?}"
                )))
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Reads `output` into the two capped buffers until it ends.
async fn collect<S>(
    mut output: S,
    stdout: &mut Vec<u8>,
    stderr: &mut Vec<u8>,
    container: &str,
) -> Result<(), RuntimeError>
where
    S: Stream<Item = Result<LogOutput, bollard::errors::Error>> + Unpin,
{
    while let Some(item) = output.next().await {
        let item = item.map_err(|e| error::on_container("read exec output of", container, e))?;
        match split(item) {
            Some((Output::Stdout, b)) => push_capped(stdout, &b, OUTPUT_CAP),
            Some((Output::Stderr, b)) => push_capped(stderr, &b, OUTPUT_CAP),
            None => {}
        }
    }
    Ok(())
}

/// See [`Runtime::exec`](crate::runtime::Runtime::exec).
pub(crate) async fn exec(
    docker: &Docker,
    id: &str,
    cmd: &[String],
    timeout: Duration,
) -> Result<ExecOutput, RuntimeError> {
    let deadline = Instant::now() + timeout;
    let run = async {
        let (exec_id, started) = start(docker, id, cmd, false, false).await?;
        let StartExecResults::Attached { output, .. } = started else {
            return Err(RuntimeError::Engine(format!("exec in {id}: the engine detached an attached exec")));
        };
        Ok((exec_id, output))
    };
    let (exec_id, output) = match tokio::time::timeout_at(deadline, run).await {
        Ok(r) => r?,
        Err(_) => return Ok(ExecOutput { exit_code: None, stdout: Vec::new(), stderr: Vec::new() }),
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    match tokio::time::timeout_at(deadline, collect(output, &mut stdout, &mut stderr, id)).await {
        Ok(r) => r?,
        Err(_) => {
            tracing::debug!(container = %id, timeout_ms = timeout.as_millis() as u64, "exec timed out");
            return Ok(ExecOutput { exit_code: None, stdout, stderr });
        }
    }
    let code = exit_code(docker, id, &exec_id).await?;
    Ok(ExecOutput { exit_code: Some(code), stdout, stderr })
}

/// See [`Runtime::exec_session`](crate::runtime::Runtime::exec_session).
pub(crate) async fn exec_session(
    docker: &Docker,
    id: &str,
    cmd: &[String],
    stdin: bool,
    tty: bool,
) -> Result<ExecSession, RuntimeError> {
    let (exec_id, started) = start(docker, id, cmd, stdin, tty).await?;
    let StartExecResults::Attached { mut output, mut input } = started else {
        return Err(RuntimeError::Engine(format!("exec in {id}: the engine detached an attached exec")));
    };

    let stdin_tx = if stdin {
        let (tx, mut rx) = mpsc::channel::<Bytes>(16);
        let container = id.to_string();
        tokio::spawn(async move {
            while let Some(chunk) = rx.recv().await {
                if let Err(e) = input.write_all(&chunk).await {
                    tracing::debug!(container = %container, error = %e, "exec stdin closed by the engine");
                    return;
                }
            }
            // Sender dropped: half-close, so the process sees end of input.
            if let Err(e) = input.shutdown().await {
                tracing::debug!(container = %container, error = %e, "closing exec stdin failed");
            }
        });
        Some(tx)
    } else {
        None
    };

    let resize_tx = if tty {
        let (tx, mut rx) = mpsc::channel::<(u16, u16)>(4);
        let docker = docker.clone();
        let exec_id = exec_id.clone();
        tokio::spawn(async move {
            while let Some((width, height)) = rx.recv().await {
                if let Err(e) = docker.resize_exec(&exec_id, ResizeExecOptions { height, width }).await {
                    tracing::debug!(exec = %exec_id, error = %error::engine_message(&e), "exec resize failed");
                }
            }
        });
        Some(tx)
    } else {
        None
    };

    let (out_tx, out_rx) = mpsc::channel::<(Output, Bytes)>(64);
    let (exit_tx, exit_rx) = oneshot::channel();
    let docker = docker.clone();
    let container = id.to_string();
    tokio::spawn(async move {
        let mut result = Ok(());
        while let Some(item) = output.next().await {
            match item {
                Ok(o) => {
                    if let Some(chunk) = split(o) {
                        // A dropped receiver only means nobody reads; keep
                        // draining so the exit code is still reported.
                        let _ = out_tx.send(chunk).await;
                    }
                }
                Err(e) => {
                    result = Err(error::on_container("read exec output of", &container, e));
                    break;
                }
            }
        }
        drop(out_tx);
        let exit = match result {
            Ok(()) => exit_code(&docker, &container, &exec_id).await,
            Err(e) => Err(e),
        };
        let _ = exit_tx.send(exit);
    });

    Ok(ExecSession { stdin: stdin_tx, output: out_rx, resize: resize_tx, exit: exit_rx })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_buffer_keeps_the_first_bytes() {
        let mut b = Vec::new();
        push_capped(&mut b, b"hello", 8);
        push_capped(&mut b, b"world", 8);
        assert_eq!(b, b"hellowor");
        push_capped(&mut b, b"more", 8);
        assert_eq!(b, b"hellowor");
    }

    #[test]
    fn stdin_echo_is_dropped() {
        assert_eq!(split(LogOutput::StdIn { message: Bytes::from_static(b"x") }), None);
        assert_eq!(
            split(LogOutput::Console { message: Bytes::from_static(b"t") }),
            Some((Output::Stdout, Bytes::from_static(b"t")))
        );
        assert_eq!(
            split(LogOutput::StdErr { message: Bytes::from_static(b"e") }),
            Some((Output::Stderr, Bytes::from_static(b"e")))
        );
    }
}
