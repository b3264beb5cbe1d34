//! The real `etcdctl` 3.4 against a 3-member cluster, through a follower and
//! through the leader.

use std::time::Duration;

use crate::harness::{etcdctl, must_etcdctl, Cluster};

fn lines(s: &str) -> Vec<&str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcdctl_kv_txn_watch_lease_compaction_snapshot() {
    let c = Cluster::start(3, &[]);
    let leader = c.must_leader(Duration::from_secs(20)).await;
    let follower = (leader + 1) % 3;
    let l = c.members[leader].endpoint();
    let f = c.members[follower].endpoint();

    // put through a follower, get through the leader and the follower
    assert_eq!(must_etcdctl(&f, &["put", "/app/a", "1"]).trim(), "OK");
    assert_eq!(must_etcdctl(&l, &["put", "/app/b", "2"]).trim(), "OK");
    assert_eq!(lines(&must_etcdctl(&l, &["get", "/app/a"])), ["/app/a", "1"]);
    assert_eq!(lines(&must_etcdctl(&f, &["get", "/app/b"])), ["/app/b", "2"]);
    assert_eq!(lines(&must_etcdctl(&f, &["get", "--prefix", "/app/"])), ["/app/a", "1", "/app/b", "2"]);
    assert_eq!(lines(&must_etcdctl(&l, &["get", "--prefix", "/app/", "--keys-only"])), ["/app/a", "/app/b"]);
    let v: serde_json::Value =
        serde_json::from_str(&must_etcdctl(&l, &["get", "--prefix", "/app/", "-w", "json"])).expect("json");
    assert_eq!(v["count"].as_i64(), Some(2));

    // history: get --rev sees the old value
    let json = must_etcdctl(&f, &["put", "/app/a", "1b", "-w", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let rev2 = v["header"]["revision"].as_i64().expect("revision");
    let old = must_etcdctl(&l, &["get", "/app/a", "-w", "json", &format!("--rev={}", rev2 - 1)]);
    assert!(old.contains(&base64("1")) && !old.contains(&base64("1b")), "{old}");
    assert_eq!(lines(&must_etcdctl(&l, &["get", "/app/a"])), ["/app/a", "1b"]);

    // delete
    assert_eq!(must_etcdctl(&f, &["del", "/app/b"]).trim(), "1");
    assert!(must_etcdctl(&l, &["get", "/app/b"]).trim().is_empty());

    // txn: compare succeeds, then fails
    let (ok, out, err) =
        etcdctl(&f, &["txn"], Some("value(\"/app/a\") = \"1b\"\n\nput /app/t yes\n\nput /app/t no\n\n"));
    assert!(ok, "{err}");
    assert_eq!(lines(&out), ["SUCCESS", "OK"]);
    let (ok, out, err) =
        etcdctl(&l, &["txn"], Some("value(\"/app/a\") = \"zzz\"\n\nput /app/t yes\n\nput /app/t no\n\n"));
    assert!(ok, "{err}");
    assert_eq!(lines(&out), ["FAILURE", "OK"]);
    assert_eq!(lines(&must_etcdctl(&l, &["get", "/app/t"])), ["/app/t", "no"]);

    // watch --rev replays history in order (through the follower)
    let (_, out, _) = etcdctl_timeout(&f, &["watch", "--prefix", "/app/", "--rev", "1"], 3);
    assert_eq!(
        lines(&out),
        [
            "PUT", "/app/a", "1", "PUT", "/app/b", "2", "PUT", "/app/a", "1b", "DELETE", "/app/b", "PUT", "/app/t",
            "yes", "PUT", "/app/t", "no"
        ],
        "watch --rev output"
    );

    // leases: grant, attach, keep-alive, time-to-live, expiry deletes keys
    let out = must_etcdctl(&f, &["lease", "grant", "4"]);
    let id = out.split_whitespace().nth(1).expect("lease id").to_string();
    assert!(out.contains("granted with TTL(4s)"), "{out}");
    must_etcdctl(&f, &["put", "--lease", &id, "/app/leased", "x"]);
    let ttl = must_etcdctl(&l, &["lease", "timetolive", &id, "--keys"]);
    assert!(ttl.contains("attached keys([/app/leased])"), "{ttl}");
    let ka = must_etcdctl(&f, &["lease", "keep-alive", "--once", &id]);
    assert!(ka.contains(&format!("lease {id} keepalived with TTL(4)")), "{ka}");
    assert!(must_etcdctl(&l, &["lease", "list"]).contains(&id));
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if must_etcdctl(&f, &["get", "/app/leased"]).trim().is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "leased key not deleted after expiry");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(must_etcdctl(&l, &["lease", "timetolive", &id]).contains("already expired"));

    // endpoint status: three members, exactly one leader
    let st = must_etcdctl(&c.endpoints(), &["endpoint", "status", "-w", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st).expect("json");
    let arr = v.as_array().expect("array");
    assert_eq!(arr.len(), 3);
    let leaders: Vec<u64> = arr.iter().map(|e| e["Status"]["leader"].as_u64().unwrap()).collect();
    assert!(leaders.iter().all(|x| *x == leaders[0] && *x != 0), "{st}");
    let members = must_etcdctl(&f, &["member", "list"]);
    assert_eq!(lines(&members).len(), 3, "{members}");
    for m in &c.members {
        assert!(
            members.contains(&format!("started, {}, {}, {}, false", m.name, m.peer_url(), m.client_url())),
            "{members}"
        );
    }

    // snapshot save: etcdctl verifies the trailing sha256 itself
    let snap = c.dir.path().join("snap.db");
    let out = must_etcdctl(&f, &["snapshot", "save", snap.to_str().unwrap()]);
    assert!(out.contains("Snapshot saved at"), "{out}");
    let len = std::fs::metadata(&snap).expect("snapshot file").len();
    assert_eq!(len % 512, 32);

    // compaction, then a watch from before the compact revision is refused
    let rev = serde_json::from_str::<serde_json::Value>(&must_etcdctl(&l, &["get", "/app/a", "-w", "json"])).unwrap()
        ["header"]["revision"]
        .as_i64()
        .unwrap();
    assert!(must_etcdctl(&f, &["compaction", &rev.to_string()]).contains(&format!("compacted revision {rev}")));
    let (ok, out, err) = etcdctl_timeout(&f, &["watch", "--rev", "2", "/app/a"], 5);
    assert!(!ok, "watch below the compact revision must fail: {out}");
    assert!((out.clone() + &err).contains("required revision has been compacted"), "{out}{err}");
    let (ok, _, err) = etcdctl(&l, &["get", "/app/a", "--rev=2"], None);
    assert!(!ok && err.contains("required revision has been compacted"), "{err}");
    // reads at the compact revision still work
    assert_eq!(lines(&must_etcdctl(&l, &["get", "/app/a", &format!("--rev={rev}")])), ["/app/a", "1b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcdctl_member_add_and_remove() {
    let mut c = Cluster::start(3, &[]);
    let leader = c.must_leader(Duration::from_secs(20)).await;
    let f = c.members[(leader + 1) % 3].endpoint();
    c.must_put(0, "before", "join", Duration::from_secs(10)).await;

    // add a 4th member through a follower, then start it with state=existing
    c.members.push(crate::harness::MemberProc {
        name: "m4".into(),
        client_port: crate::harness::free_port(),
        peer_port: crate::harness::free_port(),
        data_dir: c.dir.path().join("m4"),
        log: c.dir.path().join("m4.log"),
        child: None,
        extra: vec![],
    });
    let peer = c.members[3].peer_url();
    let out = must_etcdctl(&f, &["member", "add", "m4", &format!("--peer-urls={peer}")]);
    assert!(out.contains("ETCD_INITIAL_CLUSTER_STATE=\"existing\""), "{out}");
    let id = out.split_whitespace().nth(1).expect("member id").to_string();
    assert!(must_etcdctl(&f, &["member", "list"]).contains(&format!("{id}, unstarted, , {peer}")));
    let ic = out
        .lines()
        .find(|l| l.starts_with("ETCD_INITIAL_CLUSTER="))
        .unwrap()
        .trim_start_matches("ETCD_INITIAL_CLUSTER=")
        .trim_matches('"')
        .to_string();
    c.spawn(3, "existing", Some(ic));
    // the new member catches up and serves reads of old data
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while c.local_get(3, "before").await.as_deref() != Some(b"join".as_slice()) {
        assert!(std::time::Instant::now() < deadline, "new member did not catch up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let list = must_etcdctl(&f, &["member", "list"]);
        if list.contains(&format!("{id}, started, m4, {peer}")) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "m4 never published its name: {list}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    c.must_put(3, "via", "m4", Duration::from_secs(10)).await;

    // remove it: it leaves the list and the process stops by itself
    let out = must_etcdctl(&f, &["member", "remove", &id]);
    // etcdctl prints ids as %16x: a leading zero nibble becomes a space
    let words: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(&words[..3], ["Member", id.as_str(), "removed"], "{out}");
    assert!(!must_etcdctl(&f, &["member", "list"]).contains(&id));
    let mut child = c.members[3].child.take().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "removed member exit status {st}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "removed member kept running");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(c.log_text(3).contains("removed from the cluster"));
    // the remaining three still work
    c.must_put(0, "after", "remove", Duration::from_secs(10)).await;
}

fn etcdctl_timeout(endpoints: &str, args: &[&str], secs: u64) -> (bool, String, String) {
    let mut full =
        vec!["-s", "KILL", &*Box::leak(secs.to_string().into_boxed_str()), "etcdctl", "--endpoints", endpoints];
    full.extend_from_slice(args);
    let out = std::process::Command::new("timeout").args(&full).env("ETCDCTL_API", "3").output().expect("timeout(1)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn base64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for ch in b.chunks(3) {
        let n =
            (u32::from(ch[0]) << 16) | (u32::from(*ch.get(1).unwrap_or(&0)) << 8) | u32::from(*ch.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= ch.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
