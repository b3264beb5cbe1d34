//! An existing cluster, as `control-plane up` describes it in
//! `DIR/cluster.json` (name, pid, API URL, store client URL, peer URL per
//! replica). Kill sends SIGKILL to the recorded pid and restart re-runs the
//! replica's own command line (read from `/proc/<pid>/cmdline` when
//! attaching, minus `--parent-pid`), so the restarted replica is a child of
//! chaos and logs to `LOGS/<name>.log`. Partitions need chaos's proxies
//! between the replicas, which an existing cluster does not have: use
//! `chaos run` for them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use futures::future::BoxFuture;
use parking_lot::Mutex;
use serde::Deserialize;
use tokio::process::{Child, Command};

use super::{signal, Capability, Harness, HarnessError, Member};

#[derive(Deserialize)]
struct ClusterJson {
    replicas: Vec<ReplicaJson>,
}

#[derive(Deserialize)]
struct ReplicaJson {
    name: String,
    pid: u32,
    api_url: String,
    store_client_url: String,
    #[serde(default)]
    peer_url: String,
}

struct Proc {
    pid: Option<u32>,
    child: Option<Child>,
    cmdline: Vec<String>,
    cwd: PathBuf,
}

/// A cluster chaos did not start.
pub struct AttachedCluster {
    members: Vec<Member>,
    procs: Mutex<Vec<Proc>>,
    logs: PathBuf,
    source: PathBuf,
}

fn read_cmdline(pid: u32) -> Result<(Vec<String>, PathBuf), String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map_err(|e| format!("reading /proc/{pid}/cmdline ({e}); is the replica running on this machine?"))?;
    let mut args: Vec<String> =
        raw.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    if let Some(p) = args.iter().position(|a| a == "--parent-pid") {
        args.drain(p..(p + 2).min(args.len()));
    }
    args.retain(|a| !a.starts_with("--parent-pid="));
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_else(|_| PathBuf::from("/"));
    Ok((args, cwd))
}

impl AttachedCluster {
    /// Reads `cluster_json` and the replicas' command lines.
    pub fn open(cluster_json: &Path, logs: &Path) -> Result<AttachedCluster, HarnessError> {
        let text = std::fs::read_to_string(cluster_json).map_err(|e| {
            HarnessError::Setup(format!(
                "reading {} ({e}); pass the cluster.json that `control-plane up` wrote in its data directory",
                cluster_json.display()
            ))
        })?;
        let cj: ClusterJson = serde_json::from_str(&text)
            .map_err(|e| HarnessError::Setup(format!("{} is not up's cluster.json: {e}", cluster_json.display())))?;
        if cj.replicas.is_empty() {
            return Err(HarnessError::Setup(format!("{} lists no replicas", cluster_json.display())));
        }
        std::fs::create_dir_all(logs).map_err(|e| HarnessError::Setup(format!("creating {}: {e}", logs.display())))?;
        let mut members = Vec::new();
        let mut procs = Vec::new();
        for r in cj.replicas {
            let (cmdline, cwd) =
                read_cmdline(r.pid).map_err(|message| HarnessError::Member { member: r.name.clone(), message })?;
            members.push(Member {
                name: r.name,
                client_url: r.store_client_url,
                api_url: r.api_url,
                peer_url: r.peer_url,
            });
            procs.push(Proc { pid: Some(r.pid), child: None, cmdline, cwd });
        }
        Ok(AttachedCluster { members, procs: Mutex::new(procs), logs: logs.to_path_buf(), source: cluster_json.into() })
    }

    fn pid(&self, i: usize) -> Result<u32, HarnessError> {
        self.procs.lock()[i]
            .pid
            .ok_or_else(|| HarnessError::Member { member: self.members[i].name.clone(), message: "not running".into() })
    }
}

async fn wait_gone(pid: u32) {
    for _ in 0..100 {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            return;
        }
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // A zombie (state Z) is dead; its parent reaps it.
            if stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')) {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

impl Harness for AttachedCluster {
    fn members(&self) -> &[Member] {
        &self.members
    }

    fn describe(&self) -> String {
        format!("{} replicas attached from {}", self.members.len(), self.source.display())
    }

    fn supports(&self, cap: Capability) -> bool {
        matches!(cap, Capability::Kill | Capability::Pause)
    }

    fn kill(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        Box::pin(async move {
            let (pid, child) = {
                let mut g = self.procs.lock();
                (g[i].pid.take(), g[i].child.take())
            };
            let name = self.members[i].name.clone();
            if let Some(mut c) = child {
                c.kill().await.map_err(|e| HarnessError::Member { member: name, message: format!("SIGKILL: {e}") })?;
            } else if let Some(pid) = pid {
                signal::send(pid, libc::SIGKILL).map_err(|message| HarnessError::Member { member: name, message })?;
                wait_gone(pid).await;
            }
            Ok(())
        })
    }

    fn restart(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        Box::pin(async move {
            let name = self.members[i].name.clone();
            let (args, cwd) = {
                let g = self.procs.lock();
                if g[i].pid.is_some() {
                    return Ok(());
                }
                (g[i].cmdline.clone(), g[i].cwd.clone())
            };
            let log_path = self.logs.join(format!("{name}.log"));
            let err = |message: String| HarnessError::Member { member: name.clone(), message };
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)
                .map_err(|e| err(format!("opening {}: {e}", log_path.display())))?;
            let log2 = log.try_clone().map_err(|e| err(e.to_string()))?;
            let (bin, rest) = args.split_first().ok_or_else(|| err("empty command line".into()))?;
            let child = Command::new(bin)
                .args(rest)
                .current_dir(cwd)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log2)
                .spawn()
                .map_err(|e| err(format!("restarting {bin}: {e}")))?;
            let mut g = self.procs.lock();
            g[i].pid = child.id();
            g[i].child = Some(child);
            Ok(())
        })
    }

    fn pause(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        Box::pin(async move {
            let pid = self.pid(i)?;
            signal::to_member(&self.members[i].name, pid, libc::SIGSTOP)
        })
    }

    fn resume(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        Box::pin(async move {
            let pid = self.pid(i)?;
            signal::to_member(&self.members[i].name, pid, libc::SIGCONT)
        })
    }

    fn set_partition(&self, links: &BTreeSet<(usize, usize)>) -> BoxFuture<'_, Result<(), HarnessError>> {
        let empty = links.is_empty();
        Box::pin(async move {
            if empty {
                Ok(())
            } else {
                Err(HarnessError::Unsupported(
                    "an attached cluster has no chaos proxies between its replicas, so it cannot be partitioned; \
                     use `chaos run` (or drop partition nemeses)"
                        .into(),
                ))
            }
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        // Replicas chaos restarted keep running (they belong to the
        // attached cluster); make sure none is left stopped.
        Box::pin(async move {
            let pids: Vec<u32> = self.procs.lock().iter().filter_map(|p| p.pid).collect();
            for pid in pids {
                let _ = signal::send(pid, libc::SIGCONT);
            }
        })
    }
}
