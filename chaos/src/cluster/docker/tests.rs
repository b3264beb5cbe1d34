//! Tests against the real Docker engine of this machine.
//!
//! They need a reachable engine (they fail otherwise). The cluster test also
//! needs the real `control-plane` binary (`$CHAOS_CONTROL_PLANE_BIN`, default
//! beside the test binary) and fails when it is missing. Run it alone with
//! `cargo test -p chaos docker_cluster_end_to_end -- --nocapture`.
//! Everything a test creates is removed by a guard, also when it fails.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bollard::query_parameters::{
    CreateContainerOptionsBuilder, RemoveImageOptionsBuilder, WaitContainerOptionsBuilder,
};

use super::*;

/// Removes everything labelled with the run id (and an image, if set) when
/// dropped.
struct Guard {
    run_id: String,
    image: Option<String>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Err(e) = remove_run_blocking(&self.run_id) {
            eprintln!("cleanup of run {}: {e}", self.run_id);
        }
        if let Some(image) = &self.image {
            let _ = std::process::Command::new("docker").args(["rmi", "-f", image]).output();
        }
    }
}

fn test_run_id(tag: &str) -> String {
    format!("t{tag}-{}", default_run_id())
}

async fn wait_status(url: &str, want: u16, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    let mut last = String::new();
    while Instant::now() < deadline {
        match probe::http_status(url, "/readyz", Duration::from_secs(2)).await {
            Ok(code) if code == want => return Ok(()),
            Ok(code) => last = format!("status {code}"),
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(format!("{url}/readyz not {want} within {} s; last: {last}", within.as_secs()))
}

async fn wait_not_ready(url: &str, within: Duration) -> Result<String, String> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        match probe::http_status(url, "/readyz", Duration::from_secs(2)).await {
            Ok(200) => {}
            Ok(code) => return Ok(format!("status {code}")),
            Err(e) => return Ok(e),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(format!("{url}/readyz still 200 after {} s", within.as_secs()))
}

#[tokio::test]
async fn image_from_dynamic_binary_runs_in_a_container() {
    let docker = connect().await.expect("these tests need the Docker engine");
    let ls = PathBuf::from("/bin/ls");
    let expected_tag = image::image_tag(&std::fs::read(&ls).unwrap());
    let run_id = test_run_id("img");
    // Start from scratch so the build path is exercised.
    let _ =
        docker.remove_image(&expected_tag, Some(RemoveImageOptionsBuilder::default().force(true).build()), None).await;
    let _guard = Guard { run_id: run_id.clone(), image: Some(expected_tag.clone()) };

    let tag = ensure_image(&docker, &ls).await.unwrap();
    assert_eq!(tag, expected_tag);
    let first_id = docker.inspect_image(&tag).await.unwrap().id;
    // Second call reuses the tag.
    let t0 = Instant::now();
    assert_eq!(ensure_image(&docker, &ls).await.unwrap(), tag);
    assert_eq!(docker.inspect_image(&tag).await.unwrap().id, first_id);
    assert!(t0.elapsed() < Duration::from_secs(30));

    let name = format!("chaos-{run_id}-ls");
    let body = ContainerCreateBody {
        image: Some(tag.clone()),
        cmd: Some(vec!["-ld".into(), "/".into(), "/tmp".into(), "/data".into(), image::BINARY_IN_IMAGE.into()]),
        labels: Some(HashMap::from([
            (LABEL.to_string(), "1".to_string()),
            (LABEL_RUN.to_string(), run_id.clone()),
            (LABEL_PID.to_string(), std::process::id().to_string()),
        ])),
        ..Default::default()
    };
    docker.create_container(Some(CreateContainerOptionsBuilder::default().name(&name).build()), body).await.unwrap();
    docker.start_container(&name, None).await.unwrap();
    let mut wait =
        docker.wait_container(&name, Some(WaitContainerOptionsBuilder::default().condition("not-running").build()));
    let exit = wait.next().await.expect("wait answered");
    let logs = {
        let opts = LogsOptionsBuilder::default().stdout(true).stderr(true).tail("all").build();
        let chunks: Vec<_> = docker.logs(&name, Some(opts)).collect().await;
        chunks.into_iter().map(|c| c.unwrap().to_string()).collect::<String>()
    };
    let exit = exit.unwrap_or_else(|e| panic!("ls failed in the container: {e}; output: {logs}"));
    assert_eq!(exit.status_code, 0, "{logs}");
    let tmp_line = logs.lines().find(|l| l.ends_with(" /tmp")).unwrap_or_else(|| panic!("no /tmp line: {logs}"));
    assert!(tmp_line.starts_with("drwxrwxrwt"), "/tmp must be 1777: {tmp_line}");
    assert!(logs.lines().any(|l| l.starts_with('d') && l.ends_with(" /data")), "{logs}");
    assert!(logs.contains(image::BINARY_IN_IMAGE), "{logs}");
}

#[tokio::test]
async fn cleanup_removes_a_dead_runs_leftovers() {
    let docker = connect().await.expect("these tests need the Docker engine");
    let run_id = test_run_id("left");
    let _guard = Guard { run_id: run_id.clone(), image: None };
    let mut cfg = DockerConfig::new("/bin/true", 1);
    cfg.run_id = run_id.clone();
    cfg.subnet_octet = 232;
    // A network left by a "dead" chaos process (pid that cannot exist).
    let stale = format!("chaos-{run_id}-stale");
    let labels = HashMap::from([
        (LABEL.to_string(), "1".to_string()),
        (LABEL_RUN.to_string(), format!("{run_id}-old")),
        (LABEL_PID.to_string(), u32::MAX.to_string()),
    ]);
    docker
        .create_network(NetworkCreateRequest { name: stale.clone(), labels: Some(labels), ..Default::default() })
        .await
        .unwrap();
    // And one of a live run that must survive.
    let live = format!("chaos-{run_id}-live");
    let live_labels = HashMap::from([
        (LABEL.to_string(), "1".to_string()),
        (LABEL_RUN.to_string(), run_id.clone()),
        (LABEL_PID.to_string(), std::process::id().to_string()),
    ]);
    let mut other_cfg = cfg.clone();
    other_cfg.run_id = format!("{run_id}-other");
    docker
        .create_network(NetworkCreateRequest { name: live.clone(), labels: Some(live_labels), ..Default::default() })
        .await
        .unwrap();
    remove_leftovers(&docker, &other_cfg).await.unwrap();
    assert_eq!(docker_status(&docker.inspect_network(&stale, None).await.unwrap_err()), Some(404));
    assert!(docker.inspect_network(&live, None).await.is_ok(), "a live run's network must survive");
    // The guard removes `live` (it carries this test's run id).
}

/// The control-plane binary beside this test binary (`cargo test --workspace`
/// builds it), or `$CHAOS_CONTROL_PLANE_BIN`.
fn control_plane_binary() -> PathBuf {
    let path = std::env::var_os("CHAOS_CONTROL_PLANE_BIN").map(PathBuf::from).unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("test exe");
        exe.parent().and_then(|d| d.parent()).expect("target dir").join("control-plane")
    });
    assert!(path.is_file(), "{} missing: build it first (cargo build -p control-plane)", path.display());
    path
}

#[tokio::test]
async fn docker_cluster_end_to_end() {
    run_cluster_test(control_plane_binary(), "e2e", 231).await;
}

#[tokio::test]
async fn stale_images_are_removed_but_the_kept_one_stays() {
    let docker = connect().await.expect("these tests need the Docker engine");
    let ls = PathBuf::from("/bin/ls");
    let built = ensure_image(&docker, &ls).await.unwrap();
    let _g0 = Guard { run_id: test_run_id("stale0"), image: Some(built.clone()) };
    let id = docker.inspect_image(&built).await.unwrap().id.unwrap();
    // A private repository, so the real image cache is not touched.
    let repo = format!("helmsman/chaos-test-{}", std::process::id());
    let (keep, stale) = (format!("{repo}:keep"), format!("{repo}:stale"));
    let _g1 = Guard { run_id: test_run_id("stale1"), image: Some(keep.clone()) };
    let _g2 = Guard { run_id: test_run_id("stale2"), image: Some(stale.clone()) };
    for tag in ["keep", "stale"] {
        let opts = bollard::query_parameters::TagImageOptionsBuilder::default().repo(&repo).tag(tag).build();
        docker.tag_image(&id, Some(opts)).await.unwrap();
    }
    let removed = image::remove_stale_tags(&docker, &repo, &keep).await.unwrap();
    assert_eq!(removed, vec![stale.clone()]);
    assert_eq!(docker_status(&docker.inspect_image(&stale).await.unwrap_err()), Some(404));
    assert!(docker.inspect_image(&keep).await.is_ok());
    assert!(docker.inspect_image(&built).await.is_ok(), "other repositories are untouched");
}

async fn run_cluster_test(binary: PathBuf, tag: &str, octet: u8) {
    let mut cfg = DockerConfig::new(binary, 3);
    cfg.run_id = test_run_id(tag);
    cfg.subnet_octet = octet;
    let _guard = Guard { run_id: cfg.run_id.clone(), image: None };
    let cluster = DockerCluster::start(cfg.clone()).await.unwrap();
    let logs_dir = std::env::temp_dir().join(format!("chaos-docker-logs-{}", cfg.run_id));
    let result = scenario(&cluster).await;
    if result.is_err() {
        let _ = cluster.save_logs(&logs_dir).await;
    }
    cluster.shutdown().await;
    if let Err(e) = result {
        panic!("{e}; replica logs in {}", logs_dir.display());
    }
    let docker = cluster.docker();
    for i in 0..3 {
        let err = docker.inspect_container(cluster.container_name(i).unwrap(), None).await.unwrap_err();
        assert_eq!(docker_status(&err), Some(404));
    }
    assert_eq!(docker_status(&docker.inspect_network(cluster.network_name(), None).await.unwrap_err()), Some(404));
}

/// Drives every lever.
async fn scenario(cluster: &DockerCluster) -> Result<(), String> {
    let cfg = cluster.config();
    assert!(cluster.supports(Capability::Kill) && cluster.supports(Capability::Partition));
    assert!(!cluster.supports(Capability::Membership));
    assert_eq!(
        cluster.describe(),
        format!("3 replicas in Docker containers on network chaos-{} ({})", cfg.run_id, cfg.subnet())
    );
    cluster.wait_ready(Duration::from_secs(180)).await.map_err(|e| e.to_string())?;
    let api: Vec<String> = cluster.members().iter().map(|m| m.api_url.clone()).collect();

    // Kill and restart r0.
    cluster.kill(0).await.map_err(|e| e.to_string())?;
    if cluster.is_running(0).await.map_err(|e| e.to_string())? {
        return Err("r0 still running after kill".into());
    }
    if let Ok(200) = probe::http_status(&api[0], "/readyz", Duration::from_secs(2)).await {
        return Err("r0 answered 200 after kill".into());
    }
    cluster.restart(0).await.map_err(|e| e.to_string())?;
    wait_status(&api[0], 200, Duration::from_secs(120)).await?;

    // Pause and resume r1.
    cluster.pause(1).await.map_err(|e| e.to_string())?;
    match probe::http_status(&api[1], "/readyz", Duration::from_secs(2)).await {
        Err(e) if e.contains("no answer") => {}
        other => return Err(format!("paused r1 answered: {other:?}")),
    }
    cluster.resume(1).await.map_err(|e| e.to_string())?;
    wait_status(&api[1], 200, Duration::from_secs(60)).await?;

    // Isolate r2, then heal.
    let isolate2: BTreeSet<(usize, usize)> = [(0, 2), (2, 0), (1, 2), (2, 1)].into_iter().collect();
    cluster.set_partition(&isolate2).await.map_err(|e| e.to_string())?;
    if cluster.connected_ip(2).await.map_err(|e| e.to_string())?.is_some() {
        return Err("r2 still attached to the network".into());
    }
    if cluster.connected_ip(0).await.map_err(|e| e.to_string())? != Some(cfg.ip(0)) {
        return Err("r0 lost its address".into());
    }
    if cluster.disconnected() != BTreeSet::from([2]) {
        return Err(format!("disconnected set {:?}", cluster.disconnected()));
    }
    let why = wait_not_ready(&api[2], Duration::from_secs(60)).await?;
    eprintln!("isolated r2: {why}");
    // r0 and r1 keep a quorum.
    wait_status(&api[0], 200, Duration::from_secs(60)).await?;
    cluster.set_partition(&BTreeSet::new()).await.map_err(|e| e.to_string())?;
    if cluster.connected_ip(2).await.map_err(|e| e.to_string())? != Some(cfg.ip(2)) {
        return Err("r2 not reattached with its fixed address".into());
    }
    wait_status(&api[2], 200, Duration::from_secs(120)).await?;

    // A single link cannot be cut.
    match cluster.set_partition(&[(0, 1)].into_iter().collect()).await {
        Err(HarnessError::Unsupported(m)) if m.contains("cannot block single links") => {}
        other => return Err(format!("single-link partition: {other:?}")),
    }
    if !cluster.disconnected().is_empty() {
        return Err("a refused partition changed the network".into());
    }

    // Logs can be saved.
    let dir = std::env::temp_dir().join(format!("chaos-docker-logs-ok-{}", cfg.run_id));
    let files = cluster.save_logs(&dir).await.map_err(|e| e.to_string())?;
    let ok = files.len() == 3 && files.iter().all(|f| f.exists());
    let _ = std::fs::remove_dir_all(&dir);
    if !ok {
        return Err(format!("save_logs wrote {files:?}"));
    }

    // Leave one replica killed and one paused: shutdown must still remove them.
    cluster.kill(0).await.map_err(|e| e.to_string())?;
    cluster.pause(1).await.map_err(|e| e.to_string())?;
    Ok(())
}
