//! The run summary: what ran, what was injected, how available the cluster
//! stayed, who led, and what every checker concluded.
//!
//! [`summarize`] computes it once as data ([`Summary`], serializable);
//! [`render_text`] lays it out as aligned plain text (no ANSI colours) and
//! [`crate::report::html`] as HTML tables with the same content.
//!
//! Guarantees: pure and deterministic; the last line of [`text`] is always
//! [`verdict_line`], e.g. `verdict: PASS — 12,345 ops checked` or
//! `verdict: FAIL (linearizable, watch) — 12,345 ops checked`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::unavailability::{self, DelayStats, FaultAvailability, KindStats};
use super::{out, secs, thousands};
use crate::history::{History, Nanos, Outcome, RunMeta};
use crate::verdict::{Status, Verdict};

/// How many problems per checker the summary table shows.
pub const MAX_PROBLEMS: usize = 5;

/// Operation counts for one workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadStats {
    /// Workload name.
    pub workload: String,
    /// Ops invoked.
    pub total: usize,
    /// Ops that completed ok.
    pub ok: usize,
    /// Ops that definitely failed.
    pub fail: usize,
    /// Ops with unknown outcome.
    pub info: usize,
    /// `ok` divided by the run length in seconds (0 for an empty run).
    pub ok_per_sec: f64,
}

/// A change of the highest-term leader anyone reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaderChange {
    /// When the new leader was first reported.
    pub at: Nanos,
    /// Its term.
    pub term: u64,
    /// The new leader.
    pub leader: String,
    /// Member that reported it.
    pub observer: String,
    /// Another leader had already been reported for this same term
    /// (two leaders in one term: a Raft safety violation or a confused observer).
    pub contested: bool,
}

/// Everything the summary shows, as data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Run metadata, if the history has it.
    pub meta: Option<RunMeta>,
    /// Run length: the latest op completion time.
    pub run_length: Nanos,
    /// Op counts per workload, sorted by workload name.
    pub workloads: Vec<WorkloadStats>,
    /// Availability around each fault, in history order.
    pub faults: Vec<FaultAvailability>,
    /// Availability aggregated per fault kind, sorted by kind.
    pub kinds: Vec<KindStats>,
    /// Distinct `(term, leader)` pairs with a known leader in `Leader` records.
    pub leader_pairs: usize,
    /// Changes of the highest-term leader, in time order.
    pub leader_changes: Vec<LeaderChange>,
    /// The checkers' verdicts, in the order given.
    pub verdicts: Vec<Verdict>,
    /// Overall verdict (see [`overall`]).
    pub overall: Status,
    /// Number of client ops in the history.
    pub ops: usize,
}

/// `PASS`, `FAIL` or `UNKNOWN`.
pub fn status_word(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Unknown => "UNKNOWN",
    }
}

/// Overall status: `Fail` if any verdict failed, else `Unknown` if any is
/// unknown or there are no verdicts at all, else `Pass`.
pub fn overall(verdicts: &[Verdict]) -> Status {
    if verdicts.iter().any(|v| v.status == Status::Fail) {
        Status::Fail
    } else if verdicts.is_empty() || verdicts.iter().any(|v| v.status == Status::Unknown) {
        Status::Unknown
    } else {
        Status::Pass
    }
}

/// The final line: `verdict: PASS — N ops checked`,
/// `verdict: FAIL (a, b) — N ops checked` naming the failing checkers, or
/// `verdict: UNKNOWN (c) — N ops checked` naming the undecided ones
/// (`(no checkers ran)` with no verdicts). `N` is the number of client ops
/// in the history, with thousands separators.
pub fn verdict_line(verdicts: &[Verdict], ops: usize) -> String {
    let status = overall(verdicts);
    let names = |s: Status| verdicts.iter().filter(|v| v.status == s).map(|v| v.checker.as_str()).collect::<Vec<_>>();
    let which = match status {
        Status::Pass => String::new(),
        Status::Fail => format!(" ({})", names(Status::Fail).join(", ")),
        Status::Unknown if verdicts.is_empty() => " (no checkers ran)".to_string(),
        Status::Unknown => format!(" ({})", names(Status::Unknown).join(", ")),
    };
    format!("verdict: {}{} — {} ops checked", status_word(status), which, thousands(ops as u64))
}

/// Changes of the highest-term known leader, from `Leader` records in time
/// order: a record changes it when it names a leader and its term is above
/// the current one, or equal to it with a different leader (`contested`).
/// Records without a leader or with a lower term are ignored.
pub fn leader_changes(h: &History) -> Vec<LeaderChange> {
    let mut obs: Vec<_> = h.leaders().collect();
    obs.sort_by_key(|l| l.at);
    let mut current: Option<(u64, &str)> = None;
    let mut out = Vec::new();
    for l in obs {
        let Some(leader) = l.leader.as_deref() else { continue };
        let contested = match current {
            None => false,
            Some((term, _)) if l.term > term => false,
            Some((term, who)) if l.term == term && who != leader => true,
            Some(_) => continue,
        };
        current = Some((l.term, leader));
        out.push(LeaderChange {
            at: l.at,
            term: l.term,
            leader: leader.to_string(),
            observer: l.observer.clone(),
            contested,
        });
    }
    out
}

/// Computes the summary of a run.
pub fn summarize(h: &History, verdicts: &[Verdict]) -> Summary {
    let run_length = h.ops().map(|o| o.complete).max().unwrap_or(0);
    let mut per: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for o in h.ops() {
        let c = per.entry(o.workload.as_str()).or_default();
        c[match o.outcome {
            Outcome::Ok => 0,
            Outcome::Fail => 1,
            Outcome::Info => 2,
        }] += 1;
    }
    let rate = |ok: usize| if run_length == 0 { 0.0 } else { ok as f64 / (run_length as f64 / 1e9) };
    let workloads = per
        .into_iter()
        .map(|(w, [ok, fail, info])| WorkloadStats {
            workload: w.to_string(),
            total: ok + fail + info,
            ok,
            fail,
            info,
            ok_per_sec: rate(ok),
        })
        .collect();
    let faults = unavailability::per_fault(h);
    let kinds = unavailability::by_kind(&faults);
    let pairs: BTreeSet<(u64, &str)> = h.leaders().filter_map(|l| Some((l.term, l.leader.as_deref()?))).collect();
    Summary {
        meta: h.meta().cloned(),
        run_length,
        workloads,
        faults,
        kinds,
        leader_pairs: pairs.len(),
        leader_changes: leader_changes(h),
        verdicts: verdicts.to_vec(),
        overall: overall(verdicts),
        ops: h.ops().count(),
    }
}

/// A table of strings, rendered with padded columns.
pub(crate) struct Table {
    /// Column headings.
    pub header: Vec<String>,
    /// Per column: right-align (numbers) or left-align.
    pub right: Vec<bool>,
    /// Cells, row by row.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Lines (header first), columns separated by two spaces, each line
    /// prefixed by `indent` and without trailing spaces.
    pub fn lines(&self, indent: &str) -> Vec<String> {
        let cols = self.header.len();
        let mut width = vec![0; cols];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (w, cell) in width.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        std::iter::once(&self.header)
            .chain(&self.rows)
            .map(|row| {
                let mut line = indent.to_string();
                for (i, cell) in row.iter().enumerate().take(cols) {
                    if i > 0 {
                        line.push_str("  ");
                    }
                    let pad = " ".repeat(width[i] - cell.chars().count());
                    if self.right.get(i).copied().unwrap_or(false) {
                        line.push_str(&pad);
                        line.push_str(cell);
                    } else {
                        line.push_str(cell);
                        line.push_str(&pad);
                    }
                }
                line.trim_end().to_string()
            })
            .collect()
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn opt_delay(d: Option<unavailability::Delay>) -> String {
    d.map_or_else(|| "-".to_string(), |d| d.to_string())
}

/// The ops-per-workload table (with an `all` row when there are several).
pub(crate) fn workload_table(s: &Summary) -> Table {
    let mut rows: Vec<Vec<String>> = s
        .workloads
        .iter()
        .map(|w| {
            vec![
                w.workload.clone(),
                thousands(w.total as u64),
                thousands(w.ok as u64),
                thousands(w.fail as u64),
                thousands(w.info as u64),
                format!("{:.2}", w.ok_per_sec),
            ]
        })
        .collect();
    if s.workloads.len() > 1 {
        let sum = |f: fn(&WorkloadStats) -> usize| thousands(s.workloads.iter().map(f).sum::<usize>() as u64);
        let rate: f64 = s.workloads.iter().map(|w| w.ok_per_sec).sum();
        rows.push(vec![
            "all".into(),
            sum(|w| w.total),
            sum(|w| w.ok),
            sum(|w| w.fail),
            sum(|w| w.info),
            format!("{rate:.2}"),
        ]);
    }
    Table {
        header: strings(&["workload", "total", "ok", "fail", "info", "ok/s"]),
        right: vec![false, true, true, true, true, true],
        rows,
    }
}

/// The faults-per-kind table.
pub(crate) fn fault_table(s: &Summary) -> Table {
    Table {
        header: strings(&["kind", "count", "healed"]),
        right: vec![false, true, true],
        rows: s
            .kinds
            .iter()
            .map(|k| vec![k.kind.clone(), thousands(k.count as u64), thousands(k.healed as u64)])
            .collect(),
    }
}

/// The unavailability/recovery-per-kind table (seconds, 3 decimals).
pub(crate) fn unavailability_table(s: &Summary) -> Table {
    let cells = |d: &DelayStats| [opt_delay(d.p50), opt_delay(d.p99), opt_delay(d.max)];
    Table {
        header: strings(&[
            "kind",
            "faults",
            "unavail p50",
            "unavail p99",
            "unavail max",
            "recovery p50",
            "recovery p99",
            "recovery max",
        ]),
        right: vec![false, true, true, true, true, true, true, true],
        rows: s
            .kinds
            .iter()
            .map(|k| {
                let mut row = vec![k.kind.clone(), thousands(k.count as u64)];
                row.extend(cells(&k.unavailable));
                row.extend(cells(&k.recovery));
                row
            })
            .collect(),
    }
}

/// The checker table (problems are listed separately).
pub(crate) fn checker_table(s: &Summary) -> Table {
    Table {
        header: strings(&["checker", "verdict", "checked"]),
        right: vec![false, false, false],
        rows: s
            .verdicts
            .iter()
            .map(|v| vec![v.checker.clone(), status_word(v.status).to_string(), v.checked.clone()])
            .collect(),
    }
}

/// The first [`MAX_PROBLEMS`] problems of `v`, then `… and N more` if any were left out.
pub(crate) fn shown_problems(v: &Verdict) -> Vec<String> {
    let mut shown: Vec<String> = v.problems.iter().take(MAX_PROBLEMS).cloned().collect();
    if v.problems.len() > MAX_PROBLEMS {
        shown.push(format!("… and {} more", thousands((v.problems.len() - MAX_PROBLEMS) as u64)));
    }
    shown
}

/// One line describing the run's metadata (empty without metadata).
pub(crate) fn meta_line(s: &Summary) -> String {
    let mut parts = Vec::new();
    if let Some(m) = &s.meta {
        parts.push(format!("seed {}", m.seed));
        if !m.replicas.is_empty() {
            parts.push(format!("replicas {}", m.replicas.join(", ")));
        }
        if !m.workloads.is_empty() {
            parts.push(format!("workloads {}", m.workloads.join(", ")));
        }
        if !m.nemeses.is_empty() {
            parts.push(format!("nemeses {}", m.nemeses.join(", ")));
        }
        if !m.harness.is_empty() {
            parts.push(format!("harness {}", m.harness));
        }
        parts.push(format!("planned {} s", secs(m.duration_ms * 1_000_000)));
        if !m.planted.is_empty() {
            parts.push(format!("PLANTED BUGS {}", m.planted.join(", ")));
        }
    }
    parts.push(format!("ran {} s", secs(s.run_length)));
    parts.join(" · ")
}

/// One line about leadership.
pub(crate) fn leader_line(s: &Summary) -> String {
    let contested = s.leader_changes.iter().filter(|c| c.contested).count();
    let mut line = format!(
        "leader changes observed: {} distinct (term, leader) pairs; highest-term leader changed {} times",
        s.leader_pairs,
        s.leader_changes.len()
    );
    if contested > 0 {
        out!(line, "; {contested} terms with two leaders reported");
    }
    line
}

fn push_section(outp: &mut String, title: &str, t: &Table) {
    out!(outp, "\n{title}\n");
    if t.rows.is_empty() {
        outp.push_str("  none\n");
        return;
    }
    for l in t.lines("  ") {
        out!(outp, "{l}\n");
    }
}

/// Renders a [`Summary`] as aligned plain text ending with [`verdict_line`].
pub fn render_text(s: &Summary) -> String {
    let mut o = String::new();
    out!(o, "chaos run summary\n{}\n", meta_line(s));
    push_section(&mut o, "operations", &workload_table(s));
    push_section(&mut o, "faults injected", &fault_table(s));
    push_section(&mut o, "unavailability after fault / recovery after heal (seconds)", &unavailability_table(s));
    out!(o, "\n{}\n", leader_line(s));
    let checkers = checker_table(s);
    o.push_str("\ncheckers\n");
    if s.verdicts.is_empty() {
        o.push_str("  none\n");
    } else {
        let lines = checkers.lines("  ");
        out!(o, "{}\n", lines[0]);
        for (line, v) in lines.iter().skip(1).zip(&s.verdicts) {
            out!(o, "{line}\n");
            for p in shown_problems(v) {
                let bullet = if p.starts_with('…') { "  " } else { "- " };
                out!(o, "      {bullet}{}\n", p.replace('\n', "\n        "));
            }
        }
    }
    out!(o, "\n{}", verdict_line(&s.verdicts, s.ops));
    o
}

/// The plain-text summary of a run: ops per workload, faults per kind,
/// unavailability per fault kind, leader changes, checker table, and a last
/// line from [`verdict_line`]. No trailing newline.
pub fn text(h: &History, verdicts: &[Verdict]) -> String {
    render_text(&summarize(h, verdicts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Outcome::{Fail, Info, Ok};
    use crate::history::{Record, RunMeta};
    use crate::report::testutil::{fault, leader, op};

    fn verdicts(statuses: &[(&str, Status)]) -> Vec<Verdict> {
        statuses
            .iter()
            .map(|(c, s)| Verdict { checker: c.to_string(), status: *s, checked: "some ops".into(), problems: vec![] })
            .collect()
    }

    fn many_ops(n: u64) -> History {
        History { records: (0..n).map(|i| op((i % 4) as u32, "register", "k", i, i + 1, Ok)).collect() }
    }

    fn last_line(s: &str) -> &str {
        s.lines().last().unwrap_or_default()
    }

    #[test]
    fn final_line_pass_fail_unknown() {
        let h = many_ops(12_345);
        let pass = text(&h, &verdicts(&[("linearizable", Status::Pass), ("watch", Status::Pass)]));
        assert_eq!(last_line(&pass), "verdict: PASS — 12,345 ops checked");
        let fail = text(
            &h,
            &verdicts(&[("linearizable", Status::Fail), ("no-lost-writes", Status::Unknown), ("watch", Status::Fail)]),
        );
        assert_eq!(last_line(&fail), "verdict: FAIL (linearizable, watch) — 12,345 ops checked");
        let unknown = text(&h, &verdicts(&[("linearizable", Status::Unknown), ("watch", Status::Pass)]));
        assert_eq!(last_line(&unknown), "verdict: UNKNOWN (linearizable) — 12,345 ops checked");
        assert_eq!(last_line(&text(&h, &[])), "verdict: UNKNOWN (no checkers ran) — 12,345 ops checked");
        assert!(!pass.ends_with('\n'));
    }

    #[test]
    fn overall_status_precedence() {
        assert_eq!(overall(&verdicts(&[("a", Status::Pass)])), Status::Pass);
        assert_eq!(overall(&verdicts(&[("a", Status::Unknown), ("b", Status::Fail)])), Status::Fail);
        assert_eq!(overall(&verdicts(&[("a", Status::Unknown), ("b", Status::Pass)])), Status::Unknown);
        assert_eq!(overall(&[]), Status::Unknown);
    }

    fn sample() -> History {
        let mut records = vec![Record::Meta(RunMeta {
            seed: 42,
            replicas: vec!["r0".into(), "r1".into(), "r2".into()],
            duration_ms: 20_000,
            harness: "local".into(),
            ..RunMeta::default()
        })];
        // register: p0, p1 every 500 ms for 20 s; fail inside the kill at 10–12 s.
        for p in 0..2u32 {
            for i in 0..40u64 {
                let t = i * 500 + u64::from(p) * 100;
                let outcome = if t == 11_100 {
                    Info
                } else if (10_000..11_200).contains(&t) {
                    Fail
                } else {
                    Ok
                };
                records.push(op(p, "register", "k", t, t + 50, outcome));
            }
        }
        records.push(op(7, "objects", "deploy/a", 0, 20_000, Ok));
        records.push(fault("kill", 10_000, Some(12_000)));
        records.push(fault("kill", 19_700, None)); // no ok op invoked after it
        records.push(fault("pause", 3_000, Some(3_500)));
        records.push(leader(100, "r0", 1, Some("r0")));
        records.push(leader(200, "r1", 1, Some("r0")));
        records.push(leader(10_500, "r1", 2, None));
        records.push(leader(11_000, "r1", 2, Some("r1")));
        records.push(leader(11_100, "r0", 1, Some("r0"))); // stale
        records.push(leader(16_000, "r2", 3, Some("r2")));
        History { records }
    }

    #[test]
    fn summary_counts_ops_faults_and_leaders() {
        let s = summarize(&sample(), &[]);
        assert_eq!(s.run_length, 20_000_000_000);
        assert_eq!(s.ops, 81);
        let reg = s.workloads.iter().find(|w| w.workload == "register").expect("register row");
        // p0 fails at 10.0, 10.5, 11.0; p1 fails at 10.1, 10.6 and is left in doubt at 11.1.
        assert_eq!((reg.total, reg.fail, reg.info), (80, 5, 1));
        assert_eq!(reg.ok, 74);
        assert!((reg.ok_per_sec - 3.7).abs() < 1e-9);
        assert_eq!(s.kinds.len(), 2);
        assert_eq!((s.kinds[0].kind.as_str(), s.kinds[0].count, s.kinds[0].healed), ("kill", 2, 1));
        assert_eq!(s.leader_pairs, 3);
        let changes: Vec<(u64, &str)> = s.leader_changes.iter().map(|c| (c.term, c.leader.as_str())).collect();
        assert_eq!(changes, [(1, "r0"), (2, "r1"), (3, "r2")]);
    }

    #[test]
    fn text_shows_tables_with_aligned_columns() {
        let mut v = verdicts(&[("linearizable", Status::Fail), ("watch", Status::Pass)]);
        v[0].problems = (1..=8).map(|i| format!("problem number {i}")).collect();
        let t = text(&sample(), &v);
        assert!(t.contains("seed 42 · replicas r0, r1, r2"), "{t}");
        // First ok invoked at or after 10 s: p0 at 11.5 s completes 11.55 s.
        let kill_row = t
            .lines()
            .skip_while(|l| !l.starts_with("unavailability after fault"))
            .find(|l| l.trim_start().starts_with("kill "))
            .expect("kill row");
        assert!(kill_row.contains("1.550"), "{kill_row}");
        assert!(kill_row.contains("never (run ended)"), "{kill_row}");
        assert!(t.contains("leader changes observed: 3 distinct (term, leader) pairs"));
        assert!(t.contains("- problem number 5"));
        assert!(!t.contains("problem number 6"));
        assert!(t.contains("… and 3 more"));
        assert!(!t.contains('\x1b'), "no ANSI escapes");
        // The ops table: every line has the same width because numbers are right-aligned.
        let start = t.lines().position(|l| l == "operations").expect("operations section") + 1;
        let table: Vec<&str> = t.lines().skip(start).take_while(|l| !l.is_empty()).collect();
        assert_eq!(table.len(), 4, "header, objects, register, all: {table:?}");
        assert!(table.iter().all(|l| l.chars().count() == table[0].chars().count()), "{table:#?}");
        assert!(table[3].starts_with("  all "));
        assert!(table[2].contains("register") && table[2].contains(" 74 ") && table[2].ends_with("3.70"));
        assert_eq!(last_line(&t), "verdict: FAIL (linearizable) — 81 ops checked");
    }

    #[test]
    fn table_pads_left_and_right() {
        let t = Table {
            header: strings(&["name", "n"]),
            right: vec![false, true],
            rows: vec![strings(&["a", "1,000"]), strings(&["long-name", "7"])],
        };
        assert_eq!(t.lines(""), ["name           n", "a          1,000", "long-name      7"]);
    }

    #[test]
    fn contested_term_is_a_change() {
        let h = History {
            records: vec![
                leader(1, "r0", 4, Some("r0")),
                leader(2, "r1", 4, Some("r1")),
                leader(3, "r2", 4, Some("r1")),
            ],
        };
        let c = leader_changes(&h);
        assert_eq!(c.len(), 2);
        assert!(c[1].contested && !c[0].contested);
    }
}
