//! The agent survives itself and the control plane: kill -9 and restart
//! adopts the same containers; with every replica down its pods keep
//! running and the stream resumes afterwards without recreating anything.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common;
use crate::harness::*;

/// Container ids and restart counts of the pod named `name`.
fn snapshot(dir: &std::path::Path, name: &str) -> (String, Vec<String>, i64) {
    let p = pod(dir, "default", name).expect("pod exists");
    let uid = p["metadata"]["uid"].as_str().unwrap().to_string();
    let restarts = p["status"]["containerStatuses"][0]["restartCount"].as_i64().unwrap_or(-1);
    (uid.clone(), container_ids(&uid), restarts)
}

/// The command line of a running process.
fn cmdline(pid: u64) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap()
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_restart_adopts_containers_and_pods_outlive_the_control_plane() {
    let (tmp, dir, _up) = common::start_cluster().await;
    let node = format!("dk-res-{}", std::process::id());
    let _clean = NodeContainers(node.clone());
    let data = tmp.path().join("agent");
    let log = tmp.path().join("agent.log");
    let mut agent = start_docker_agent(&dir, &node, &data, &log);
    apply(
        &dir,
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: steady}}
spec:
  nodeName: {node}
  containers:
  - name: c
    image: helmsman/busybox:1.35
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
"#
        ),
    );
    must_eventually("the pod to run", Duration::from_secs(60), || pod(&dir, "default", "steady").filter(running_ready))
        .await;
    let (uid, ids, restarts) = snapshot(&dir, "steady");
    assert_eq!(ids.len(), 2, "a sandbox and one container: {ids:?}");
    assert_eq!(restarts, 0);

    // kill -9 the agent and start it again: same containers, no restart.
    agent.kill9();
    let mut agent = start_docker_agent(&dir, &node, &data, &log);
    must_eventually("the restarted agent to resume its stream", Duration::from_secs(30), || {
        (agent.log_text().matches("assignment stream open").count() >= 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, ids2, restarts2) = snapshot(&dir, "steady");
    assert_eq!(ids2, ids, "the same container ids after an agent restart");
    assert!(ids2.iter().all(|id| container_running(id)), "still running");
    assert_eq!(restarts2, 0, "no restart");
    assert!(running_ready(&pod(&dir, "default", "steady").unwrap()));

    // SIGTERM leaves pods running, too.
    let st = agent.terminate();
    assert!(st.success(), "clean exit on SIGTERM: {st:?}");
    assert!(ids.iter().all(|id| container_running(id)), "pods keep running after the agent stops");
    let agent = start_docker_agent(&dir, &node, &data, &log);

    // Every replica down for 60 s: pods keep running; on return the agent
    // resumes without recreating anything.
    let reps: Vec<Value> = common::replicas(&dir);
    let cmds: Vec<(Vec<String>, String)> =
        reps.iter().map(|r| (cmdline(r["pid"].as_u64().unwrap()), r["name"].as_str().unwrap().to_string())).collect();
    for r in &reps {
        let _ = Command::new("kill").args(["-KILL", &r["pid"].as_u64().unwrap().to_string()]).status();
    }
    let opened_before = agent.log_text().matches("assignment stream open").count();
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert!(ids.iter().all(|id| container_running(id)), "pods keep running with no control plane");
    assert!(agent.child.id() > 0);
    let mut restarted = Vec::new();
    for (cmd, name) in &cmds {
        let f = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(format!("{name}.log"))).unwrap();
        // Without --parent-pid: the test owns these replicas now.
        let args: Vec<&String> = {
            let mut v = Vec::new();
            let mut skip = false;
            for a in &cmd[1..] {
                if skip {
                    skip = false;
                    continue;
                }
                if a == "--parent-pid" {
                    skip = true;
                    continue;
                }
                v.push(a);
            }
            v
        };
        let child = Command::new(&cmd[0])
            .args(args)
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap();
        restarted.push(KillOnDrop(child));
    }
    must_eventually("the agent to resume its stream on a returned replica", Duration::from_secs(60), || {
        (agent.log_text().matches("assignment stream open").count() > opened_before).then_some(())
    })
    .await;
    must_eventually("the pod to be Running and Ready again", Duration::from_secs(60), || {
        pod(&dir, "default", "steady").filter(running_ready)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (uid2, ids3, restarts3) = snapshot(&dir, "steady");
    assert_eq!(uid2, uid);
    assert_eq!(ids3, ids, "nothing recreated after the control plane came back");
    assert_eq!(restarts3, 0);
    drop(agent);
    drop(restarted);
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
