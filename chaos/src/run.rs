//! One chaos run: wait for a healthy cluster, start the leadership
//! observer and the workloads, let the nemesis inject faults on its
//! schedule, stop the load, heal, read the final state and the reference
//! event sequences, check the history, and write `history.jsonl`,
//! `summary.txt` and `report.html` to the output directory.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use proto::etcdserverpb::DeleteRangeRequest;
use tokio_util::sync::CancellationToken;

use crate::cluster::Harness;
use crate::etcd::{status_text, EtcdClient};
use crate::history::{Outcome, Record, RunMeta};
use crate::nemesis::runner::{self, Schedule};
use crate::nemesis::NemesisKind;
use crate::observer::{self, LeaderView};
use crate::recorder::Recorder;
use crate::verdict::{Status, Verdict};
use crate::workload::objects::{self, ObjectsConfig};
use crate::workload::register::{self, RegisterConfig, LOG_PREFIX};
use crate::workload::watch::{self, WatchConfig};
use crate::workload::WorkloadKind;

/// A bug planted on purpose to prove a checker catches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plant {
    /// Register reads are serializable (local, possibly stale): caught by
    /// the linearizability checker once a partition isolates a replica.
    StaleReads,
    /// One acknowledged write's log entry is deleted behind the clients'
    /// backs before the final read: caught by the lost-write checker.
    LoseWrite,
    /// Watcher 0 drops the 5th event it receives: caught by the watch
    /// checker.
    WatchGap,
    /// Pods with a Deployment's labels are created behind the controllers'
    /// backs (as a second, unfenced controller would): caught by the
    /// controller checker.
    ExtraPods,
}

impl Plant {
    /// Its `--plant` name.
    pub fn name(self) -> &'static str {
        match self {
            Plant::StaleReads => "stale-reads",
            Plant::LoseWrite => "lose-write",
            Plant::WatchGap => "watch-gap",
            Plant::ExtraPods => "extra-pods",
        }
    }
}

impl FromStr for Plant {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "stale-reads" => Ok(Plant::StaleReads),
            "lose-write" => Ok(Plant::LoseWrite),
            "watch-gap" => Ok(Plant::WatchGap),
            "extra-pods" => Ok(Plant::ExtraPods),
            o => Err(format!("unknown planted bug {o:?}; choose from: stale-reads, lose-write, watch-gap, extra-pods")),
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Length of the load phase.
    pub duration: Duration,
    /// Fault kinds in the schedule.
    pub nemeses: Vec<NemesisKind>,
    /// Workloads.
    pub workloads: Vec<WorkloadKind>,
    /// Seed of every random choice.
    pub seed: u64,
    /// Output directory.
    pub out: PathBuf,
    /// Fault timing.
    pub schedule: Schedule,
    /// Register workload settings.
    pub register: RegisterConfig,
    /// Watch workload settings.
    pub watch: WatchConfig,
    /// Objects workload settings.
    pub objects: ObjectsConfig,
    /// Planted bugs.
    pub planted: Vec<Plant>,
    /// Linearizability search budget per key.
    pub check_budget: Duration,
    /// Harness description for the report.
    pub harness: String,
}

/// What a run produced.
#[derive(Debug)]
pub struct RunResult {
    /// Checker verdicts.
    pub verdicts: Vec<Verdict>,
    /// The plain-text summary.
    pub summary: String,
    /// Where the history was written.
    pub history: PathBuf,
    /// Where the HTML report was written.
    pub report: PathBuf,
}

/// Errors that stop a run before it can be checked.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The cluster never became healthy.
    #[error(transparent)]
    Harness(#[from] crate::cluster::HarnessError),
    /// Setting up a workload or reading the end state failed.
    #[error("{0}")]
    Workload(String),
    /// Writing results failed.
    #[error("{0}")]
    Output(String),
}

/// The exit status for a set of verdicts: 0 pass, 1 a checker failed,
/// 2 none failed but some could not decide.
pub fn exit_code(verdicts: &[Verdict]) -> i32 {
    if verdicts.iter().any(|v| v.status == Status::Fail) {
        1
    } else if verdicts.iter().any(|v| v.status == Status::Unknown) {
        2
    } else {
        0
    }
}

fn progress_line(
    rec: &Recorder,
    elapsed: Duration,
    total: Duration,
    doing: &str,
    view: &LeaderView,
    names: &[String],
) -> String {
    let (mut ok, mut fail, mut info, mut events, mut faults) = (0u64, 0u64, 0u64, 0u64, 0u64);
    rec.with(|rs| {
        for r in rs {
            match r {
                Record::Op(o) => match o.outcome {
                    Outcome::Ok => ok += 1,
                    Outcome::Fail => fail += 1,
                    Outcome::Info => info += 1,
                },
                Record::Watch(_) => events += 1,
                Record::Fault(_) => faults += 1,
                _ => {}
            }
        }
    });
    let leader = match view.leader(rec.now(), 1_000_000_000) {
        Some((term, l)) => format!("leader {} (term {term})", names[l]),
        None => "no leader".into(),
    };
    let doing = if doing.is_empty() { String::new() } else { format!(" | now: {doing}") };
    format!(
        "[{:>4}s/{}s] ops ok {ok} fail {fail} info {info} | watch events {events} | faults {faults} | {leader}{doing}",
        elapsed.as_secs(),
        total.as_secs()
    )
}

async fn lose_one_write(h: &dyn Harness, rec: &Recorder) -> Result<String, String> {
    let victim = rec.with(|rs| {
        rs.iter().find_map(|r| match r {
            Record::Op(o) if o.workload == "register" && o.outcome == Outcome::Ok => match o.kind {
                crate::history::OpKind::Write { value } => Some((o.key.clone(), value)),
                _ => None,
            },
            _ => None,
        })
    });
    let Some((key, value)) = victim else { return Err("no acknowledged write to lose".into()) };
    let mut last = String::new();
    for m in h.members() {
        let mut c = EtcdClient::new(&m.client_url)?;
        let req = DeleteRangeRequest { key: format!("{LOG_PREFIX}{key}/{value}").into_bytes(), ..Default::default() };
        match tokio::time::timeout(Duration::from_secs(5), c.kv.delete_range(req)).await {
            Ok(Ok(_)) => return Ok(format!("deleted the log entry of the acknowledged write {value} to {key}")),
            Ok(Err(s)) => last = status_text(&s),
            Err(_) => last = "timed out".into(),
        }
    }
    Err(last)
}

/// Runs the whole test against `h` and writes the results to `cfg.out`.
pub async fn execute(h: Arc<dyn Harness>, cfg: &RunConfig) -> Result<RunResult, RunError> {
    std::fs::create_dir_all(&cfg.out).map_err(|e| RunError::Output(format!("creating {}: {e}", cfg.out.display())))?;
    let members = h.members().to_vec();
    let names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
    eprintln!("chaos: {}", h.describe());
    crate::health::wait_healthy(&members, Duration::from_secs(90), |s| eprintln!("chaos: {s}")).await?;
    eprintln!("chaos: cluster healthy; running {}s of load (seed {})", cfg.duration.as_secs(), cfg.seed);

    let rec = Recorder::new();
    rec.push(Record::Meta(RunMeta {
        seed: cfg.seed,
        replicas: names.clone(),
        duration_ms: cfg.duration.as_millis() as u64,
        nemeses: cfg.nemeses.iter().map(|k| k.name().to_string()).collect(),
        workloads: cfg.workloads.iter().map(|w| w.name().to_string()).collect(),
        started_unix_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
        planted: cfg.planted.iter().map(|p| p.name().to_string()).collect(),
        harness: cfg.harness.clone(),
    }));
    let view = LeaderView::default();
    let obs_stop = CancellationToken::new();
    let obs = tokio::spawn(observer::run(members.clone(), rec.clone(), view.clone(), obs_stop.clone()));

    let mut register_cfg = cfg.register.clone();
    register_cfg.stale_reads |= cfg.planted.contains(&Plant::StaleReads);
    let mut watch_cfg = cfg.watch.clone();
    watch_cfg.drop_event |= cfg.planted.contains(&Plant::WatchGap);
    let with_watch = cfg.workloads.contains(&WorkloadKind::Watch);
    let from = if with_watch {
        if watch_cfg.api_watchers > 0 {
            watch::ensure_namespace(&members).await.map_err(RunError::Workload)?;
        }
        watch::current_revision(&members).await.map_err(RunError::Workload)?
    } else {
        0
    };

    let with_objects = cfg.workloads.contains(&WorkloadKind::Objects);
    let mut hollow = None;
    let objects_stop = CancellationToken::new();
    let mut objects_observer = None;
    if with_objects {
        let log = cfg.out.join("logs").join("hollow-nodes.log");
        std::fs::create_dir_all(cfg.out.join("logs")).map_err(|e| RunError::Output(e.to_string()))?;
        hollow = Some(
            objects::start_hollow_nodes(&members, cfg.objects.nodes, "chaos-node-", &log)
                .map_err(RunError::Workload)?,
        );
        eprintln!("chaos: started {} hollow nodes (log {})", cfg.objects.nodes, log.display());
        objects::setup(&members, &cfg.objects).await.map_err(RunError::Workload)?;
        objects_observer = Some(tokio::spawn(objects::observe(members.clone(), rec.clone(), objects_stop.clone())));
    }

    let load_stop = CancellationToken::new();
    let mut load = Vec::new();
    if with_objects {
        load.push(tokio::spawn(objects::run(
            members.clone(),
            cfg.objects.clone(),
            cfg.seed,
            rec.clone(),
            load_stop.clone(),
        )));
    }
    if cfg.workloads.contains(&WorkloadKind::Register) {
        load.push(tokio::spawn(register::run(members.clone(), register_cfg, cfg.seed, rec.clone(), load_stop.clone())));
    }
    if with_watch {
        load.push(tokio::spawn(watch::run(members.clone(), watch_cfg.clone(), from, rec.clone(), load_stop.clone())));
    }
    let doing = Arc::new(Mutex::new(String::new()));
    let nem_stop = CancellationToken::new();
    let nemesis = tokio::spawn(runner::run(
        h.clone(),
        cfg.nemeses.clone(),
        cfg.schedule,
        view.clone(),
        rec.clone(),
        cfg.seed,
        nem_stop.clone(),
        doing.clone(),
    ));

    if with_objects && cfg.planted.contains(&Plant::ExtraPods) {
        // Let the Deployments settle first, so the overshoot is the plant's.
        tokio::time::sleep(Duration::from_secs(3)).await;
        objects::plant_extra_pods(&members, 4).await.map_err(RunError::Workload)?;
        eprintln!("chaos: planted bug: created 4 pods with deployment d0's labels behind the controllers' backs");
    }
    let started = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.tick().await;
    let mut nemesis_done = None;
    let deadline = started + cfg.duration;
    let mut nemesis = Some(nemesis);
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = tick.tick() => {
                eprintln!("chaos: {}", progress_line(&rec, started.elapsed(), cfg.duration, &doing.lock(), &view, &names));
            }
            r = async { nemesis.as_mut().expect("nemesis running").await }, if nemesis.is_some() => {
                nemesis = None;
                nemesis_done = Some(r);
            }
        }
    }
    nem_stop.cancel();
    let nemesis_result = match (nemesis, nemesis_done) {
        (Some(t), _) => t.await,
        (None, Some(r)) => r,
        (None, None) => Ok(Ok(0)),
    };
    let _ = h.set_partition(&Default::default()).await;
    load_stop.cancel();
    for t in load {
        let _ = t.await;
    }
    let nemesis_error = match nemesis_result {
        Ok(Ok(n)) => {
            eprintln!("chaos: load stopped after {} s; {n} faults injected and healed", started.elapsed().as_secs());
            None
        }
        Ok(Err(e)) => Some(e),
        Err(e) => Some(format!("nemesis task failed: {e}")),
    };
    if let Some(e) = &nemesis_error {
        eprintln!("chaos: the nemesis stopped early: {e}");
    }

    eprintln!("chaos: waiting for the healed cluster, then reading the final state");
    crate::health::wait_healthy(&members, Duration::from_secs(90), |s| eprintln!("chaos: {s}")).await?;
    if cfg.planted.contains(&Plant::LoseWrite) {
        let what = lose_one_write(h.as_ref(), &rec)
            .await
            .map_err(|e| RunError::Workload(format!("planting lose-write: {e}")))?;
        eprintln!("chaos: planted bug: {what}");
    }
    if cfg.workloads.contains(&WorkloadKind::Register) {
        register::final_reads(&members, &rec, Duration::from_secs(60)).await.map_err(RunError::Workload)?;
    }
    if with_watch {
        watch::references(&members, from, watch_cfg.api_watchers > 0, &rec).await.map_err(RunError::Workload)?;
    }
    if with_objects {
        if cfg.planted.contains(&Plant::ExtraPods) {
            objects::remove_planted_pods(&members).await;
        }
        eprintln!("chaos: waiting (up to 90 s) for every Deployment to converge");
        objects::convergence(&members, &cfg.objects, &rec, Duration::from_secs(90)).await;
        objects_stop.cancel();
        if let Some(t) = objects_observer {
            let _ = t.await;
        }
        if let Some(mut c) = hollow {
            let _ = c.kill().await;
        }
    }
    // A moment more of leader observations, then stop observing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    obs_stop.cancel();
    let _ = obs.await;

    let history = rec.snapshot();
    let hist_path = cfg.out.join("history.jsonl");
    history.save(&hist_path).map_err(|e| RunError::Output(e.to_string()))?;
    eprintln!("chaos: checking {} records", history.records.len());
    let mut verdicts = crate::checker::check_all(&history, cfg.check_budget);
    if let Some(e) = nemesis_error {
        verdicts.push(Verdict {
            checker: "nemesis".into(),
            status: Status::Unknown,
            checked: "fault schedule".into(),
            problems: vec![format!("the fault schedule stopped early: {e}")],
        });
    }
    let (summary, report) = write_reports(&history, &verdicts, &cfg.out)?;
    Ok(RunResult { verdicts, summary, history: hist_path, report })
}

/// Writes `summary.txt` and `report.html` next to the history.
pub fn write_reports(
    history: &crate::history::History,
    verdicts: &[Verdict],
    out: &std::path::Path,
) -> Result<(String, PathBuf), RunError> {
    let summary = crate::report::summary::text(history, verdicts);
    let seed = history.meta().map(|m| m.seed).unwrap_or(0);
    let html = crate::report::html::page(history, verdicts, &format!("chaos run, seed {seed}"));
    let s_path = out.join("summary.txt");
    let r_path = out.join("report.html");
    std::fs::write(&s_path, &summary).map_err(|e| RunError::Output(format!("writing {}: {e}", s_path.display())))?;
    std::fs::write(&r_path, html).map_err(|e| RunError::Output(format!("writing {}: {e}", r_path.display())))?;
    Ok((summary, r_path))
}
