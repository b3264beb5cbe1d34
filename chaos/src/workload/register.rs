//! The register workload: reads, writes and compare-and-sets on many
//! independent keys through the store's etcd API, every write value unique
//! in the run. Each write (and successful CAS) also puts a log entry
//! `/chaos/log/<key>/<value>` in the same transaction, so an acknowledged
//! write leaves a permanent trace that the lost-write checker looks for.
//!
//! Keys rotate: the n-th operation goes to one of a few keys around
//! `n / ops_per_key`, so every key sees a bounded history with real
//! concurrency (which keeps the linearizability search small).
//! Each logical process sends one operation at a time to its own replica;
//! a process whose operation ended indeterminate is retired (the next op
//! comes from a fresh process id), as Jepsen does.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use proto::etcdserverpb::compare::{CompareResult, CompareTarget, TargetUnion};
use proto::etcdserverpb::request_op::Request as OpReq;
use proto::etcdserverpb::{Compare, PutRequest, RangeRequest, RequestOp, TxnRequest};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio_util::sync::CancellationToken;

use crate::cluster::Member;
use crate::etcd::{never_sent, status_text, write_failure, EtcdClient};
use crate::history::{FinalState, Op, OpKind, Outcome, Record};
use crate::recorder::Recorder;

/// Prefix of the registers.
pub const REG_PREFIX: &str = "/chaos/reg/";
/// Prefix of the write log.
pub const LOG_PREFIX: &str = "/chaos/log/";

/// Register workload settings.
#[derive(Debug, Clone)]
pub struct RegisterConfig {
    /// Concurrent clients.
    pub processes: usize,
    /// Total operations per second across clients (0 = as fast as they go).
    pub rate: u32,
    /// Roughly how many operations each key receives.
    pub ops_per_key: u64,
    /// How many keys are in use at once.
    pub keys_at_once: u64,
    /// Client-side timeout of one operation.
    pub op_timeout: Duration,
    /// Planted bug: reads are serializable (served from the replica's local
    /// state without asking the leader), which a partition makes stale.
    pub stale_reads: bool,
}

impl Default for RegisterConfig {
    fn default() -> Self {
        RegisterConfig {
            processes: 10,
            rate: 300,
            ops_per_key: 60,
            keys_at_once: 4,
            op_timeout: Duration::from_millis(1500),
            stale_reads: false,
        }
    }
}

/// State shared by the register clients.
#[derive(Default)]
struct Shared {
    counter: AtomicU64,
    next_value: AtomicI64,
    last_known: Mutex<HashMap<String, i64>>,
}

fn reg_key(key: &str) -> Vec<u8> {
    format!("{REG_PREFIX}{key}").into_bytes()
}

fn log_put(key: &str, value: i64) -> RequestOp {
    RequestOp {
        request: Some(OpReq::RequestPut(PutRequest {
            key: format!("{LOG_PREFIX}{key}/{value}").into_bytes(),
            value: Vec::new(),
            ..Default::default()
        })),
    }
}

fn reg_put(key: &str, value: i64) -> RequestOp {
    RequestOp {
        request: Some(OpReq::RequestPut(PutRequest {
            key: reg_key(key),
            value: value.to_string().into_bytes(),
            ..Default::default()
        })),
    }
}

/// Reads `key`; `Ok(value)` or the failure text.
async fn read(c: &mut EtcdClient, key: &str, serializable: bool) -> Result<Option<i64>, String> {
    let r =
        c.kv.range(RangeRequest { key: reg_key(key), serializable, ..Default::default() })
            .await
            .map_err(|s| status_text(&s))?
            .into_inner();
    match r.kvs.first() {
        None => Ok(None),
        Some(kv) => {
            let s = String::from_utf8_lossy(&kv.value);
            s.parse::<i64>().map(Some).map_err(|_| format!("register {key} holds {s:?}, not a number"))
        }
    }
}

/// Performs one operation; returns its outcome, the kind with the read
/// value filled in, and the error text.
async fn perform(c: &mut EtcdClient, key: &str, kind: OpKind, stale: bool) -> (Outcome, OpKind, Option<String>) {
    match kind {
        OpKind::Read { .. } => match read(c, key, stale).await {
            Ok(v) => (Outcome::Ok, OpKind::Read { value: v }, None),
            // A failed read changed nothing.
            Err(e) => (Outcome::Fail, kind, Some(e)),
        },
        OpKind::Write { value } => {
            let txn = TxnRequest {
                compare: vec![],
                success: vec![reg_put(key, value), log_put(key, value)],
                failure: vec![],
            };
            match c.kv.txn(txn).await {
                Ok(_) => (Outcome::Ok, kind, None),
                Err(s) => (write_failure(&s), kind, Some(status_text(&s))),
            }
        }
        OpKind::Cas { from, to } => {
            let txn = TxnRequest {
                compare: vec![Compare {
                    result: CompareResult::Equal as i32,
                    target: CompareTarget::Value as i32,
                    key: reg_key(key),
                    target_union: Some(TargetUnion::Value(from.to_string().into_bytes())),
                    range_end: vec![],
                }],
                success: vec![reg_put(key, to), log_put(key, to)],
                failure: vec![],
            };
            match c.kv.txn(txn).await {
                Ok(r) if r.get_ref().succeeded => (Outcome::Ok, kind, None),
                Ok(_) => (Outcome::Fail, kind, Some("compare failed".into())),
                Err(s) => (write_failure(&s), kind, Some(status_text(&s))),
            }
        }
    }
}

/// Runs the workload until `stop`.
pub async fn run(members: Vec<Member>, cfg: RegisterConfig, seed: u64, rec: Recorder, stop: CancellationToken) {
    let shared = Arc::new(Shared { next_value: AtomicI64::new(1), ..Default::default() });
    let mut tasks = Vec::new();
    for p in 0..cfg.processes {
        let m = members[p % members.len()].clone();
        let (cfg, rec, stop, shared) = (cfg.clone(), rec.clone(), stop.clone(), shared.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(mut client) = EtcdClient::new(&m.client_url) else { return };
            let mut rng = StdRng::seed_from_u64(seed ^ (0x9e37_79b9_7f4a_7c15u64.wrapping_mul(p as u64 + 1)));
            let mut process = p as u32;
            let pace = if cfg.rate == 0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(cfg.processes as f64 / cfg.rate as f64)
            };
            let mut next = tokio::time::Instant::now() + pace.mul_f64(rng.gen::<f64>());
            while !stop.is_cancelled() {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep_until(next) => {}
                }
                next = next.max(tokio::time::Instant::now() - pace) + pace;
                let n = shared.counter.fetch_add(1, Ordering::Relaxed);
                let key = format!("k{:06}", n / cfg.ops_per_key + rng.gen_range(0..cfg.keys_at_once));
                let known = shared.last_known.lock().get(&key).copied();
                let roll: f64 = rng.gen();
                let kind = if roll < 0.5 {
                    OpKind::Read { value: None }
                } else if roll < 0.75 || known.is_none() {
                    OpKind::Write { value: shared.next_value.fetch_add(1, Ordering::Relaxed) }
                } else {
                    let from = known.unwrap_or_default();
                    OpKind::Cas { from, to: shared.next_value.fetch_add(1, Ordering::Relaxed) }
                };
                let invoke = rec.now();
                let r = tokio::time::timeout(cfg.op_timeout, perform(&mut client, &key, kind.clone(), cfg.stale_reads))
                    .await;
                let complete = rec.now();
                let (outcome, kind, error) = match r {
                    Ok(x) => x,
                    Err(_) => {
                        let o = if matches!(kind, OpKind::Read { .. }) { Outcome::Fail } else { Outcome::Info };
                        (o, kind, Some(format!("no answer within {} ms", cfg.op_timeout.as_millis())))
                    }
                };
                if outcome == Outcome::Ok {
                    let v = match &kind {
                        OpKind::Read { value } => *value,
                        OpKind::Write { value } => Some(*value),
                        OpKind::Cas { to, .. } => Some(*to),
                    };
                    if let Some(v) = v {
                        shared.last_known.lock().insert(key.clone(), v);
                    }
                }
                let refused = error.as_deref().is_some_and(never_sent);
                rec.push(Record::Op(Op {
                    process,
                    workload: "register".into(),
                    key,
                    kind,
                    invoke,
                    complete,
                    outcome,
                    replica: m.name.clone(),
                    error,
                }));
                if outcome == Outcome::Info {
                    process += cfg.processes as u32;
                }
                if refused {
                    // The replica is down: don't spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// After the run, with every fault healed: reads every register used
/// (linearizably, recorded as ordinary ops so the linearizability checker
/// covers them) and every write-log entry, recording a [`FinalState`].
pub async fn final_reads(members: &[Member], rec: &Recorder, deadline: Duration) -> Result<(), String> {
    let keys: Vec<String> = rec.with(|rs| {
        let mut k: Vec<String> = rs
            .iter()
            .filter_map(|r| match r {
                Record::Op(o) if o.workload == "register" => Some(o.key.clone()),
                _ => None,
            })
            .collect();
        k.sort();
        k.dedup();
        k
    });
    let give_up = tokio::time::Instant::now() + deadline;
    let mut clients = Vec::new();
    for m in members {
        clients.push((m.name.clone(), EtcdClient::new(&m.client_url)?));
    }
    let mut turn = 0usize;
    let mut last_err = String::new();
    let mut pending: Vec<String> = keys;
    while let Some(key) = pending.last().cloned() {
        if tokio::time::Instant::now() > give_up {
            return Err(format!("final reads did not complete within {} s: {last_err}", deadline.as_secs()));
        }
        let (name, c) = &mut clients[turn % members.len()];
        let invoke = rec.now();
        let r = tokio::time::timeout(Duration::from_secs(2), read(c, &key, false)).await;
        let complete = rec.now();
        match r {
            Ok(Ok(v)) => {
                rec.push(Record::Op(Op {
                    process: u32::MAX,
                    workload: "register".into(),
                    key: key.clone(),
                    kind: OpKind::Read { value: v },
                    invoke,
                    complete,
                    outcome: Outcome::Ok,
                    replica: name.clone(),
                    error: None,
                }));
                pending.pop();
            }
            Ok(Err(e)) => {
                last_err = format!("{name}: {e}");
                turn += 1;
            }
            Err(_) => {
                last_err = format!("{name}: timed out");
                turn += 1;
            }
        }
    }
    // The write log, paged.
    let mut logged: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let end = prefix_end(LOG_PREFIX.as_bytes());
    let mut from = LOG_PREFIX.as_bytes().to_vec();
    loop {
        if tokio::time::Instant::now() > give_up {
            return Err(format!("reading the write log did not complete within {} s: {last_err}", deadline.as_secs()));
        }
        let (name, c) = &mut clients[turn % members.len()];
        let req = RangeRequest {
            key: from.clone(),
            range_end: end.clone(),
            limit: 5000,
            keys_only: true,
            ..Default::default()
        };
        match tokio::time::timeout(Duration::from_secs(5), c.kv.range(req)).await {
            Ok(Ok(r)) => {
                let r = r.into_inner();
                for kv in &r.kvs {
                    let k = String::from_utf8_lossy(&kv.key);
                    if let Some((key, v)) = k.trim_start_matches(LOG_PREFIX).rsplit_once('/') {
                        if let Ok(v) = v.parse::<i64>() {
                            logged.entry(key.to_string()).or_default().push(v);
                        }
                    }
                }
                match (r.more, r.kvs.last()) {
                    (true, Some(last)) => {
                        from = last.key.clone();
                        from.push(0);
                    }
                    _ => break,
                }
            }
            Ok(Err(s)) => {
                last_err = format!("{name}: {}", status_text(&s));
                turn += 1;
            }
            Err(_) => {
                last_err = format!("{name}: timed out");
                turn += 1;
            }
        }
    }
    for v in logged.values_mut() {
        v.sort_unstable();
    }
    rec.push(Record::Final(FinalState { at: rec.now(), logged }));
    Ok(())
}

/// The end of the range of keys starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}
