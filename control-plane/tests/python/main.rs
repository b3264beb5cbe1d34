//! The Python `kubernetes` client (installed by `.ci/setup`) against a
//! 3-replica cluster started as `up` starts it: CRUD through CoreV1Api and
//! AppsV1Api, selectors, scale, watches with and without resourceVersion.

#[path = "../common/mod.rs"]
mod common;

use std::process::Command;

use common::*;

#[test]
fn python_kubernetes_client_works() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    let base = port_base();
    let _up = start_up(&dir, base + 24, base);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/client_test.py");
    let out =
        Command::new("python3").arg(script).arg(dir.join("kubeconfig")).output().expect("python3 must be installed");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        !text.contains("No module named 'kubernetes'"),
        "the Python kubernetes client is missing: run `bash .ci/setup` (pip install kubernetes)"
    );
    assert!(out.status.success() && text.contains("all checks passed"), "{text}");
}
