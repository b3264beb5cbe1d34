//! End-to-end: `chaos run` against real local clusters (real control-plane
//! processes, real kill -9 / SIGSTOP / partitions through chaos's proxies),
//! the planted-bug self-tests, and `chaos check` on saved histories.
//!
//! Needs the control-plane binary beside chaos (`cargo test --workspace`
//! builds it; alone: `cargo build -p control-plane` first).

use std::path::{Path, PathBuf};
use std::process::Command;

struct Outcome {
    code: i32,
    summary: String,
    stderr: String,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

fn chaos(args: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let exe = env!("CARGO_BIN_EXE_chaos");
    let cp = Path::new(exe).with_file_name("control-plane");
    assert!(cp.is_file(), "{} missing: build it first (cargo build -p control-plane)", cp.display());
    let o = Command::new(exe).args(args).arg("--out").arg(&out).output().expect("running chaos");
    let summary = std::fs::read_to_string(out.join("summary.txt")).unwrap_or_default();
    Outcome {
        code: o.status.code().unwrap_or(-1),
        summary,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        out,
        _dir: dir,
    }
}

/// The row of `checker` in the summary's checker table.
fn check_line<'a>(summary: &'a str, checker: &str) -> &'a str {
    summary
        .lines()
        .skip_while(|l| l.trim() != "checkers")
        .find(|l| l.split_whitespace().next() == Some(checker))
        .unwrap_or("")
}

#[test]
fn acceptance_run_passes_and_writes_the_report() {
    let o = chaos(&[
        "run",
        "--replicas",
        "3",
        "--duration",
        "60s",
        "--nemesis",
        "kill-leader,pause,partition",
        "--workload",
        "register,watch",
        "--seed",
        "7",
    ]);
    assert_eq!(o.code, 0, "chaos run failed\nsummary:\n{}\nstderr:\n{}", o.summary, o.stderr);
    let last = o.summary.trim_end().lines().last().unwrap_or("");
    assert!(last.starts_with("verdict: PASS"), "{last}");
    let html = std::fs::read_to_string(o.out.join("report.html")).expect("report.html");
    assert!(html.contains("<svg"), "the report has no timeline");
    let history = std::fs::read_to_string(o.out.join("history.jsonl")).expect("history");
    let faults = history.lines().filter(|l| l.contains("\"type\":\"fault\"")).count();
    assert!(faults >= 4, "only {faults} faults in 60 s");
    let ok_ops = history.lines().filter(|l| l.contains("\"type\":\"op\"") && l.contains("\"outcome\":\"ok\"")).count();
    assert!(ok_ops > 2000, "only {ok_ops} ok ops");
    // Progress was shown while running.
    assert!(o.stderr.contains("[   5s/60s]") || o.stderr.contains("s/60s] ops ok"), "{}", o.stderr);

    // `chaos check` agrees on the saved history...
    let hist = o.out.join("history.jsonl");
    let c = Command::new(env!("CARGO_BIN_EXE_chaos")).arg("check").arg(&hist).output().unwrap();
    assert_eq!(c.status.code(), Some(0), "{}", String::from_utf8_lossy(&c.stdout));
    // ...and catches a tampered one: an acknowledged read now returns a
    // value nobody wrote.
    let mut tampered = String::new();
    let mut done = false;
    for line in history.lines() {
        if !done
            && line.contains("\"f\":\"read\"")
            && line.contains("\"outcome\":\"ok\"")
            && line.contains("\"value\":")
        {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if v["value"].is_i64() {
                tampered.push_str(&line.replacen(&format!("\"value\":{}", v["value"]), "\"value\":-424242", 1));
                tampered.push('\n');
                done = true;
                continue;
            }
        }
        tampered.push_str(line);
        tampered.push('\n');
    }
    assert!(done, "no ok read with a value in the history");
    let bad = o.out.join("tampered.jsonl");
    std::fs::write(&bad, tampered).unwrap();
    let c = Command::new(env!("CARGO_BIN_EXE_chaos")).arg("check").arg(&bad).output().unwrap();
    let text = String::from_utf8_lossy(&c.stdout);
    assert_eq!(c.status.code(), Some(1), "{text}");
    assert!(text.contains("-424242"), "the failure does not name the bad read:\n{text}");
}

#[test]
fn planted_stale_reads_fail_the_linearizability_checker() {
    let o = chaos(&[
        "run",
        "--duration",
        "20s",
        "--nemesis",
        "partition-follower",
        "--workload",
        "register",
        "--interval",
        "3s",
        "--fault-duration",
        "6s",
        "--plant",
        "stale-reads",
        "--seed",
        "3",
    ]);
    assert_eq!(o.code, 1, "planted stale reads were not caught\n{}\n{}", o.summary, o.stderr);
    assert!(check_line(&o.summary, "linearizable").contains("FAIL"), "{}", o.summary);
    assert!(check_line(&o.summary, "no-lost-writes").contains("PASS"), "{}", o.summary);
}

#[test]
fn planted_lost_write_fails_the_lost_write_checker() {
    let o = chaos(&["run", "--duration", "8s", "--nemesis", "none", "--workload", "register", "--plant", "lose-write"]);
    assert_eq!(o.code, 1, "{}\n{}", o.summary, o.stderr);
    assert!(check_line(&o.summary, "no-lost-writes").contains("FAIL"), "{}", o.summary);
    assert!(o.summary.contains("is gone at the end"), "{}", o.summary);
}

#[test]
fn planted_watch_gap_fails_the_watch_checker() {
    let o = chaos(&[
        "run",
        "--duration",
        "8s",
        "--nemesis",
        "none",
        "--workload",
        "register,watch",
        "--plant",
        "watch-gap",
    ]);
    assert_eq!(o.code, 1, "{}\n{}", o.summary, o.stderr);
    assert!(check_line(&o.summary, "watch").contains("FAIL"), "{}", o.summary);
    assert!(o.summary.contains("watcher 0 (store): missed revision"), "{}", o.summary);
    assert!(check_line(&o.summary, "linearizable").contains("PASS"), "{}", o.summary);
}

#[test]
fn docker_mode_register_with_kill_and_disconnect() {
    // Replicas in containers on a private Docker network (image built from
    // the control-plane binary); partitions disconnect a replica.
    let o = chaos(&[
        "run",
        "--docker",
        "--docker-subnet",
        "41",
        "--duration",
        "30s",
        "--nemesis",
        "kill-leader,kill-random,partition-leader,partition-follower",
        "--workload",
        "register",
        "--interval",
        "3s",
        "--fault-duration",
        "4s",
        "--seed",
        "11",
    ]);
    assert_eq!(o.code, 0, "docker-mode run failed\nsummary:\n{}\nstderr:\n{}", o.summary, o.stderr);
    assert!(o.summary.contains("harness docker, 3 replicas"), "{}", o.summary);
    let history = std::fs::read_to_string(o.out.join("history.jsonl")).expect("history");
    let kinds: Vec<String> = history
        .lines()
        .filter(|l| l.contains("\"type\":\"fault\""))
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(kinds.len() >= 3, "faults: {kinds:?}");
    assert!(kinds.iter().any(|k| k.starts_with("kill")), "no kill: {kinds:?}");
    assert!(kinds.iter().any(|k| k.starts_with("partition")), "no disconnect: {kinds:?}");
    // Nothing left behind.
    let ps = Command::new("docker").args(["ps", "-aq", "--filter", "label=io.helmsman.chaos=1"]).output().unwrap();
    assert!(String::from_utf8_lossy(&ps.stdout).trim().is_empty(), "containers left behind");
}

#[test]
fn objects_workload_passes_with_hollow_nodes_under_faults() {
    let o = chaos(&[
        "run",
        "--duration",
        "30s",
        "--nemesis",
        "kill-leader,partition-leader,pause",
        "--workload",
        "objects,register",
        "--interval",
        "3s",
        "--fault-duration",
        "4s",
        "--seed",
        "21",
        "--first-address",
        "51",
    ]);
    assert_eq!(o.code, 0, "objects run failed\nsummary:\n{}\nstderr:\n{}", o.summary, o.stderr);
    assert!(check_line(&o.summary, "controllers").contains("PASS"), "{}", o.summary);
    let history = std::fs::read_to_string(o.out.join("history.jsonl")).expect("history");
    let converged =
        history.lines().filter(|l| l.contains("\"what\":\"converged\"") && l.contains("\"ok\":true")).count();
    assert_eq!(converged, 3, "every deployment converges");
    let counts = history.lines().filter(|l| l.contains("\"what\":\"pod_count\"")).count();
    assert!(counts > 10, "the observer saw only {counts} pod counts");
}

#[test]
fn planted_extra_pods_fail_the_controller_checker() {
    let o = chaos(&[
        "run",
        "--duration",
        "8s",
        "--nemesis",
        "none",
        "--workload",
        "objects",
        "--plant",
        "extra-pods",
        "--first-address",
        "61",
    ]);
    assert_eq!(o.code, 1, "{}\n{}", o.summary, o.stderr);
    assert!(check_line(&o.summary, "controllers").contains("FAIL"), "{}", o.summary);
    assert!(o.summary.contains("deployment d0 had"), "{}", o.summary);
}

/// Kills every process whose command line mentions `dir` (replicas that
/// chaos restarted belong to no `up` any more).
fn kill_processes_under(dir: &Path) {
    let needle = dir.display().to_string();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) else { continue };
        if String::from_utf8_lossy(&cmd).contains(&needle) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

#[test]
fn attach_tests_a_cluster_started_by_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cluster");
    let exe = env!("CARGO_BIN_EXE_chaos");
    let cp = Path::new(exe).with_file_name("control-plane");
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = 20000 + (free % 20000);
    let mut up = Command::new(&cp)
        .args(["up", "--no-agent", "--port", &(base + 100).to_string(), "--base-port", &base.to_string()])
        .arg("--data-dir")
        .arg(&data)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let cluster_json = data.join("cluster.json");
    for _ in 0..600 {
        if cluster_json.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(cluster_json.exists(), "up wrote no cluster.json");
    let out = dir.path().join("out");
    let o = Command::new(exe)
        .args(["attach", "--cluster"])
        .arg(&cluster_json)
        .args(["--duration", "20s", "--nemesis", "kill-random,pause,partition", "--workload", "register,watch"])
        .args(["--interval", "2s", "--fault-duration", "3s", "--seed", "5", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let _ = up.kill();
    let _ = up.wait();
    kill_processes_under(&data);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let summary = std::fs::read_to_string(out.join("summary.txt")).unwrap_or_default();
    assert_eq!(o.status.code(), Some(0), "attach failed\n{summary}\n{stderr}");
    assert!(stderr.contains("cannot be partitioned"), "{stderr}");
    let history = std::fs::read_to_string(out.join("history.jsonl")).unwrap();
    assert!(
        history.contains("\"kind\":\"kill-random\"") || history.contains("\"kind\":\"pause\""),
        "no fault injected"
    );
}

#[test]
fn membership_changes_remove_wipe_and_re_add_replicas() {
    let o = chaos(&[
        "run",
        "--duration",
        "25s",
        "--nemesis",
        "membership",
        "--workload",
        "register,watch",
        "--interval",
        "3s",
        "--fault-duration",
        "4s",
        "--seed",
        "2",
        "--first-address",
        "81",
    ]);
    assert_eq!(o.code, 0, "membership run failed\nsummary:\n{}\nstderr:\n{}", o.summary, o.stderr);
    let history = std::fs::read_to_string(o.out.join("history.jsonl")).expect("history");
    let changes = history.lines().filter(|l| l.contains("\"kind\":\"membership\"")).count();
    assert!(changes >= 2, "only {changes} membership changes");
    // Every replica serves at the end (a re-added replica is not stopped by
    // the old configuration it replays while catching up).
    for r in ["r0", "r1", "r2"] {
        let log = std::fs::read_to_string(o.out.join("logs").join(format!("{r}.log"))).unwrap_or_default();
        let last_start = log.rfind("replica serving").unwrap_or(0);
        assert!(!log[last_start..].contains("removed from the cluster"), "{r} stopped after being re-added");
    }
}
