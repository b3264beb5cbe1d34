use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_streams_and_exit_code() {
    let c = must_start().await;
    let r = must_run(&c, &["exec", "p", "--", "sh", "-c", "echo hi; echo err >&2; exit 3"], None).await;
    assert_eq!(r.code, Some(3), "{r:?}");
    assert_eq!(r.stdout, "hi\n");
    assert!(r.stderr.starts_with("err\n"), "{r:?}");
    assert!(r.stderr.contains("command terminated with exit code 3"), "{r:?}");

    let ok = must_run(&c, &["exec", "multi", "-c", "a", "--", "echo", "fine"], None).await;
    assert_eq!((ok.code, ok.stdout.as_str()), (Some(0), "fine\n"), "{ok:?}");
    must_wait("sessions closed", || c.tunnels.session_count() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_with_stdin() {
    let c = must_start().await;
    let input = b"hello\nworld\n".repeat(2000);
    let r = must_run(&c, &["exec", "-i", "p", "--", "cat"], Some(&input)).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout.as_bytes(), &input[..]);

    let r = must_run(&c, &["exec", "-i", "p", "--", "sh", "-c", "wc -l; exit 0"], Some(b"a\nb\nc\n")).await;
    assert_eq!((r.code, r.stdout.trim()), (Some(0), "3"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_failure_inside_the_agent_is_reported() {
    let c = must_start().await;
    let r = must_run(&c, &["exec", "p", "--", "/no/such/binary"], None).await;
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(r.stderr.contains(r#"exec: "/no/such/binary""#), "{r:?}");
}
