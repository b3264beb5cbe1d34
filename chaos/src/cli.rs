//! Command-line interface: `run`, `attach`, `check`, `report`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::cluster::attach::AttachedCluster;
use crate::cluster::docker::{DockerCluster, DockerConfig};
use crate::cluster::local::{find_binary, LocalCluster, LocalConfig};
use crate::cluster::Harness;
use crate::history::History;
use crate::nemesis::kind::parse_list;
use crate::nemesis::runner::Schedule;
use crate::run::{self, exit_code, Plant, RunConfig};
use crate::workload::register::RegisterConfig;
use crate::workload::watch::WatchConfig;
use crate::workload::WorkloadKind;

/// `chaos`: kill, pause and partition Helmsman replicas under load, and
/// check that nothing acknowledged was lost.
#[derive(Parser, Debug)]
#[command(
    name = "chaos",
    version,
    about,
    after_help = "Exit status: 0 every checker passed, 1 a checker failed, 2 a checker could not decide, 3 the run itself failed."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Start a cluster of local replicas (each on its own 127.0.0.x address,
    /// peer links through chaos's proxies) and test it.
    Run(RunArgs),
    /// Test a cluster started by `control-plane up` (kill and pause only).
    Attach(AttachArgs),
    /// Re-check a saved history.
    Check(CheckArgs),
    /// Re-render the summary and HTML report of a saved history.
    Report(ReportArgs),
}

/// Parses `500ms`, `60s`, `10m`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let v: f64 = num.parse().map_err(|_| format!("{s:?} is not a duration (e.g. 500ms, 60s, 10m)"))?;
    let secs = match unit {
        "ms" => v / 1000.0,
        "s" => v,
        "m" => v * 60.0,
        "h" => v * 3600.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use ms, s, m or h)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

fn parse_workloads(s: &str) -> Result<Vec<WorkloadKind>, String> {
    let v: Result<Vec<WorkloadKind>, String> =
        s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::parse).collect();
    let v = v?;
    if v.is_empty() {
        return Err("--workload needs at least one of: register, watch".into());
    }
    Ok(v)
}

fn parse_plants(s: &str) -> Result<Vec<Plant>, String> {
    s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::parse).collect()
}

/// Workload, nemesis and output flags shared by `run` and `attach`.
#[derive(Args, Debug, Clone)]
pub struct TestArgs {
    /// Length of the load phase (e.g. 60s, 10m).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Faults, comma separated: kill-leader, kill-random, kill-minority,
    /// pause, pause-leader, partition, partition-majority,
    /// partition-leader, partition-follower, partition-bridge,
    /// partition-one-way; or all / none.
    #[arg(long, default_value = "kill-leader,pause,partition")]
    pub nemesis: String,
    /// Workloads, comma separated: register, watch, objects (Deployments
    /// and ConfigMaps through the API, pods on hollow nodes chaos starts).
    #[arg(long, default_value = "register,watch")]
    pub workload: String,
    /// Seed of every random choice (schedule, keys, values).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Quiet time before each fault.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub interval: Duration,
    /// How long each fault lasts.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub fault_duration: Duration,
    /// Register clients.
    #[arg(long, default_value_t = 10)]
    pub processes: usize,
    /// Register operations per second, all clients together (0 = unthrottled).
    #[arg(long, default_value_t = 300)]
    pub rate: u32,
    /// Client timeout of one register operation.
    #[arg(long, default_value = "1500ms", value_parser = parse_duration)]
    pub op_timeout: Duration,
    /// Watchers on the store and on the API (each).
    #[arg(long, default_value_t = 3)]
    pub watchers: usize,
    /// Plant a bug to prove a checker catches it: stale-reads, lose-write,
    /// watch-gap, extra-pods (comma separated).
    #[arg(long, default_value = "")]
    pub plant: String,
    /// Linearizability search budget per key.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub check_budget: Duration,
    /// Output directory (history.jsonl, summary.txt, report.html, logs/).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `chaos run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Replicas to start.
    #[arg(long, default_value_t = 3)]
    pub replicas: usize,
    /// The control-plane binary (default: beside chaos, then PATH).
    #[arg(long)]
    pub control_plane: Option<PathBuf>,
    /// Raft election timeout of the replicas, ms.
    #[arg(long, default_value_t = 500)]
    pub election_timeout: u64,
    /// First loopback address octet: replicas use 127.0.0.N, N+1, ...
    #[arg(long, default_value_t = 11)]
    pub first_address: u8,
    /// Run the replicas in Docker containers on a private network (an image
    /// is built locally from the control-plane binary); partitions then
    /// disconnect replicas from that network.
    #[arg(long)]
    pub docker: bool,
    /// Docker mode: the network is 172.30.N.0/24.
    #[arg(long, default_value_t = 30)]
    pub docker_subnet: u8,
    /// Workload, nemesis and output flags.
    #[command(flatten)]
    pub test: TestArgs,
}

/// `chaos attach`.
#[derive(Args, Debug)]
pub struct AttachArgs {
    /// The cluster.json `control-plane up` wrote (DIR/cluster.json).
    #[arg(long)]
    pub cluster: PathBuf,
    /// Workload, nemesis and output flags.
    #[command(flatten)]
    pub test: TestArgs,
}

/// `chaos check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// A history.jsonl written by `chaos run` or `chaos attach`.
    pub history: PathBuf,
    /// Linearizability search budget per key.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub check_budget: Duration,
}

/// `chaos report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A history.jsonl written by `chaos run` or `chaos attach`.
    pub history: PathBuf,
    /// Where to write summary.txt and report.html (default: beside the history).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Linearizability search budget per key.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub check_budget: Duration,
}

fn default_out(seed: u64) -> PathBuf {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    PathBuf::from(format!("chaos-out/{stamp}-seed{seed}"))
}

fn run_config(t: &TestArgs, harness: String) -> Result<RunConfig, String> {
    let nemeses = parse_list(&t.nemesis)?;
    let workloads = parse_workloads(&t.workload)?;
    let planted = parse_plants(&t.plant)?;
    if t.processes == 0 {
        return Err("--processes must be at least 1".into());
    }
    Ok(RunConfig {
        duration: t.duration,
        nemeses,
        workloads,
        seed: t.seed,
        out: t.out.clone().unwrap_or_else(|| default_out(t.seed)),
        schedule: Schedule { interval: t.interval, hold: t.fault_duration },
        register: RegisterConfig {
            processes: t.processes,
            rate: t.rate,
            op_timeout: t.op_timeout,
            ..Default::default()
        },
        watch: WatchConfig { store_watchers: t.watchers, api_watchers: t.watchers, ..Default::default() },
        objects: Default::default(),
        planted,
        check_budget: t.check_budget,
        harness,
    })
}

fn finish(r: Result<run::RunResult, run::RunError>) -> i32 {
    match r {
        Ok(r) => {
            println!("{}", r.summary);
            println!("history: {}\nreport:  {}", r.history.display(), r.report.display());
            exit_code(&r.verdicts)
        }
        Err(e) => {
            eprintln!("chaos: {e}");
            3
        }
    }
}

async fn test(h: Arc<dyn Harness>, cfg: RunConfig) -> i32 {
    let r = run::execute(h.clone(), &cfg).await;
    h.shutdown().await;
    finish(r)
}

fn load(path: &Path) -> Result<History, i32> {
    History::load(path).map_err(|e| {
        eprintln!("chaos: {e}");
        3
    })
}

/// Runs the command; returns the process exit status.
pub async fn main(cli: Cli) -> i32 {
    match cli.cmd {
        Cmd::Run(a) => {
            let binary = match find_binary(a.control_plane.as_deref()) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("chaos: {e}");
                    return 3;
                }
            };
            let mode = if a.docker { "docker" } else { "local" };
            let cfg = match run_config(&a.test, format!("{mode}, {} replicas", a.replicas)) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("chaos: {e}");
                    return 3;
                }
            };
            if a.docker {
                let mut dc = DockerConfig::new(binary, a.replicas);
                dc.election_timeout_ms = a.election_timeout;
                dc.subnet_octet = a.docker_subnet;
                return match DockerCluster::start(dc).await {
                    Ok(c) => {
                        let c = Arc::new(c);
                        let r = run::execute(c.clone(), &cfg).await;
                        if let Err(e) = c.save_logs(&cfg.out.join("logs")).await {
                            eprintln!("chaos: saving replica logs: {e}");
                        }
                        c.shutdown().await;
                        // Images of older binaries are 100+ MB each.
                        if let Ok(gone) =
                            crate::cluster::docker::image::remove_stale_images(c.docker(), c.image()).await
                        {
                            if !gone.is_empty() {
                                eprintln!("chaos: removed {} image(s) of older binaries", gone.len());
                            }
                        }
                        finish(r)
                    }
                    Err(e) => {
                        eprintln!("chaos: {e}");
                        3
                    }
                };
            }
            let local = LocalConfig {
                binary,
                replicas: a.replicas,
                dir: cfg.out.clone(),
                election_timeout_ms: a.election_timeout,
                first_octet: a.first_address,
            };
            match LocalCluster::start(local).await {
                Ok(c) => test(Arc::new(c), cfg).await,
                Err(e) => {
                    eprintln!("chaos: {e}");
                    3
                }
            }
        }
        Cmd::Attach(a) => {
            let cfg = match run_config(&a.test, format!("attached to {}", a.cluster.display())) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("chaos: {e}");
                    return 3;
                }
            };
            match AttachedCluster::open(&a.cluster, &cfg.out.join("logs")) {
                Ok(c) => {
                    let skipped: Vec<&str> = cfg
                        .nemeses
                        .iter()
                        .filter(|k| !c.supports(crate::nemesis::runner::needs(**k)))
                        .map(|k| k.name())
                        .collect();
                    if !skipped.is_empty() {
                        eprintln!(
                            "chaos: an attached cluster cannot be partitioned (no chaos proxies between its replicas); \
                             skipping {}",
                            skipped.join(", ")
                        );
                    }
                    test(Arc::new(c), cfg).await
                }
                Err(e) => {
                    eprintln!("chaos: {e}");
                    3
                }
            }
        }
        Cmd::Check(a) => {
            let h = match load(&a.history) {
                Ok(h) => h,
                Err(c) => return c,
            };
            let verdicts = crate::checker::check_all(&h, a.check_budget);
            println!("{}", crate::report::summary::text(&h, &verdicts));
            exit_code(&verdicts)
        }
        Cmd::Report(a) => {
            let h = match load(&a.history) {
                Ok(h) => h,
                Err(c) => return c,
            };
            let verdicts = crate::checker::check_all(&h, a.check_budget);
            let out = a.out.unwrap_or_else(|| a.history.parent().map(Path::to_path_buf).unwrap_or_default());
            if let Err(e) = std::fs::create_dir_all(&out) {
                eprintln!("chaos: creating {}: {e}", out.display());
                return 3;
            }
            match run::write_reports(&h, &verdicts, &out) {
                Ok((summary, report)) => {
                    println!("{summary}");
                    println!("report: {}", report.display());
                    exit_code(&verdicts)
                }
                Err(e) => {
                    eprintln!("chaos: {e}");
                    3
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("7").unwrap(), Duration::from_secs(7));
        assert!(parse_duration("fast").unwrap_err().contains("not a duration"));
        assert!(parse_duration("3d").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn the_acceptance_command_parses() {
        let cli = Cli::try_parse_from([
            "chaos",
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
        ])
        .unwrap();
        let Cmd::Run(a) = cli.cmd else { panic!() };
        let cfg = run_config(&a.test, String::new()).unwrap();
        assert_eq!(cfg.seed, 7);
        assert_eq!(cfg.nemeses.len(), 3);
        assert_eq!(cfg.workloads, vec![WorkloadKind::Register, WorkloadKind::Watch]);
    }

    #[test]
    fn bad_workload_and_plant_are_explained() {
        let t = |w: &str, p: &str| {
            let cli = Cli::try_parse_from(["chaos", "run", "--workload", w, "--plant", p]).unwrap();
            let Cmd::Run(a) = cli.cmd else { panic!() };
            run_config(&a.test, String::new()).unwrap_err()
        };
        assert!(t("register,bank", "").contains("unknown workload \"bank\""));
        assert!(t("register", "gremlins").contains("unknown planted bug"));
    }
}
