//! Hollow agents: the protocol (registration, Lease, assignments, status,
//! graceful deletion) and failover, without containers.

use std::time::Duration;

use serde_json::Value;

use crate::common;
use crate::harness::*;

fn node_ready(n: &Value) -> bool {
    n["status"]["conditions"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hollow_agent_registers_runs_pods_and_survives_the_death_of_its_stream_replica() {
    let (tmp, dir, _up) = common::start_cluster().await;
    let node = format!("hollow-a-{}", std::process::id());
    let args: Vec<String> = vec![
        "--runtime".into(),
        "hollow".into(),
        "--node-name".into(),
        node.clone(),
        "--servers".into(),
        server_list(&dir),
        "--data-dir".into(),
        tmp.path().join("agent").display().to_string(),
        "--node-labels".into(),
        "zone=z1".into(),
    ];
    let agent = Agent::start(&args, &tmp.path().join("agent.log"));

    // The Node registers with the standard labels, capacity and Ready.
    let n = must_eventually("the node to be Ready", Duration::from_secs(30), || {
        get_json(&dir, &["node", &node]).filter(node_ready)
    })
    .await;
    assert_eq!(n["metadata"]["labels"]["kubernetes.io/hostname"], node.as_str());
    assert_eq!(n["metadata"]["labels"]["kubernetes.io/os"], "linux");
    assert_eq!(n["metadata"]["labels"]["zone"], "z1");
    assert!(n["metadata"]["labels"]["kubernetes.io/arch"].is_string());
    assert_eq!(n["status"]["capacity"]["cpu"], "4");
    // Its Lease is renewed in kube-node-lease.
    let lease = must_eventually("the node's Lease", Duration::from_secs(20), || {
        get_json(&dir, &["lease", "-n", "kube-node-lease", &node])
    })
    .await;
    assert_eq!(lease["spec"]["holderIdentity"], node.as_str());
    assert!(lease["spec"]["renewTime"].is_string());

    // A Deployment's pods run on it, with IPs and Ready.
    let (ok, out, err) =
        common::kubectl(&dir, &["create", "deployment", "web", "--image=helmsman/busybox:1.35", "--replicas=3"]);
    assert!(ok, "{out}{err}");
    must_eventually("3 running pods", Duration::from_secs(60), || {
        let p = pods(&dir, "default", "app=web");
        (p.len() == 3 && p.iter().all(running_ready)).then_some(())
    })
    .await;
    for p in pods(&dir, "default", "app=web") {
        assert_eq!(p["spec"]["nodeName"], node.as_str());
        assert!(p["status"]["podIP"].as_str().is_some_and(|ip| !ip.is_empty()), "{p}");
        assert!(p["status"]["containerStatuses"][0]["state"]["running"].is_object(), "{p}");
    }

    // Kill the replica serving the agent's stream: it resumes on another
    // and misses nothing.
    let server = agent.stream_server().expect("the agent logs which server its stream is on");
    let (name, pid) = replica_by_url(&dir, &server);
    let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    eprintln!("killed {name} ({server}), which served the stream");
    must_eventually("the stream to resume on another replica", Duration::from_secs(30), || {
        agent.stream_server().filter(|s| *s != server)
    })
    .await;
    let (ok, out, err) = common::kubectl(&dir, &["scale", "deployment", "web", "--replicas=6"]);
    assert!(ok, "{out}{err}");
    must_eventually("6 running pods after the failover", Duration::from_secs(60), || {
        let p = pods(&dir, "default", "app=web");
        (p.len() == 6 && p.iter().all(running_ready)).then_some(())
    })
    .await;

    // Graceful deletion completes through the agent.
    let victim = pods(&dir, "default", "app=web")[0]["metadata"]["name"].as_str().unwrap().to_string();
    let (ok, out, err) = common::kubectl(&dir, &["delete", "pod", &victim, "--wait=false"]);
    assert!(ok, "{out}{err}");
    must_eventually("the deleted pod to be removed by its node", Duration::from_secs(30), || {
        pods(&dir, "default", "app=web").iter().all(|p| p["metadata"]["name"] != victim.as_str()).then_some(())
    })
    .await;
    drop(agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hollow_fleet_runs_many_nodes_in_one_process() {
    let (tmp, dir, _up) = common::start_cluster().await;
    let prefix = format!("fleet-{}-", std::process::id());
    let args: Vec<String> = vec![
        "hollow".into(),
        "--count".into(),
        "20".into(),
        "--name-prefix".into(),
        prefix.clone(),
        "--servers".into(),
        server_list(&dir),
    ];
    let _fleet = Agent::start(&args, &tmp.path().join("fleet.log"));
    must_eventually("20 Ready hollow nodes", Duration::from_secs(60), || {
        let nodes = get_json(&dir, &["nodes"])?;
        let ready = nodes["items"]
            .as_array()?
            .iter()
            .filter(|n| n["metadata"]["name"].as_str().is_some_and(|s| s.starts_with(&prefix)) && node_ready(n))
            .count();
        (ready == 20).then_some(())
    })
    .await;
    let (ok, out, err) =
        common::kubectl(&dir, &["create", "deployment", "many", "--image=helmsman/busybox:1.35", "--replicas=60"]);
    assert!(ok, "{out}{err}");
    must_eventually("60 running pods", Duration::from_secs(90), || {
        let p = pods(&dir, "default", "app=many");
        (p.len() == 60 && p.iter().all(running_ready)).then_some(())
    })
    .await;
    let nodes: std::collections::HashSet<String> = pods(&dir, "default", "app=many")
        .iter()
        .map(|p| p["spec"]["nodeName"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(nodes.len() >= 10, "pods spread over the fleet: {nodes:?}");
}
