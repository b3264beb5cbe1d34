//! A self-contained HTML5 report of a run: the summary as HTML tables, an
//! inline SVG timeline, and every checker problem in a collapsible list.
//!
//! Timeline layout: x is time since the run started (seconds axis with
//! ticks). A "leader" lane marks each change of the highest-term leader
//! (see [`summary::leader_changes`]) with a dashed line across all lanes; then
//! one lane per client process, grouped by workload, with each op a bar from
//! invoke to complete coloured by outcome (ok green, fail red, info amber);
//! then one lane per watcher with a tick per delivered event. Faults are
//! translucent bands across every lane, labelled with their kind. Every bar,
//! band, marker and tick carries a `<title>` tooltip.
//!
//! Guarantees:
//! - One document, inline CSS, no scripts, no external resources (no URLs).
//! - All history and verdict text is escaped with [`escape_html`].
//! - Size stays bounded for big histories: above
//!   [`TimelineOptions::downsample_above`] ops, ok ops are merged per lane into
//!   runs of covered pixel columns (one bar per run, with a count), while every
//!   fail and info op is still drawn individually; watch events are merged the
//!   same way above the same threshold.

use std::collections::BTreeMap;

use super::summary::{self, Summary, Table};
use super::unavailability::FaultAvailability;
use super::{escape_html, out, secs, thousands};
use crate::history::{History, Nanos, Op, OpKind, Outcome, WatchObs, WatchSource};
use crate::verdict::{Status, Verdict};

/// Default op count above which ok ops are aggregated in the timeline.
pub const DOWNSAMPLE_ABOVE: usize = 20_000;

/// Timeline rendering knobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineOptions {
    /// Aggregate ok ops (and watch events) when there are more than this many.
    pub downsample_above: usize,
    /// Width of the plotting area in pixels (at least 100 is used).
    pub plot_width: u32,
}

impl Default for TimelineOptions {
    fn default() -> Self {
        TimelineOptions { downsample_above: DOWNSAMPLE_ABOVE, plot_width: 1400 }
    }
}

const LEFT: f64 = 150.0;
const RIGHT: f64 = 30.0;
const LABEL_ROWS: usize = 3;
const LABEL_ROW_H: f64 = 12.0;
const TOP: f64 = 8.0 + LABEL_ROWS as f64 * LABEL_ROW_H;
const GROUP_H: f64 = 18.0;
const LEADER_H: f64 = 30.0;
const OP_H: f64 = 14.0;
const BAR_H: f64 = 10.0;
const WATCH_H: f64 = 12.0;
const AXIS_H: f64 = 44.0;
const FAULT_COLOURS: usize = 6;

const CSS: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.5em;margin-bottom:.2em}
h2{font-size:1.15em;margin-top:1.4em}
p.meta{color:#555;margin-top:0}
table{border-collapse:collapse;margin:.4em 0}
th,td{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
th{background:#f3f3f3}
.num{text-align:right;font-variant-numeric:tabular-nums}
td ul{margin:0;padding-left:1.2em}
.verdict{font-size:1.15em;font-weight:bold;padding:.4em .8em;display:inline-block;border-radius:4px}
td .verdict{font-size:.85em;padding:.1em .4em}
.st-pass{background:#d9f2df;color:#145c27}
.st-fail{background:#fadadd;color:#8a1320}
.st-unknown{background:#fcefc7;color:#6b4e00}
details{margin:.8em 0}
summary{cursor:pointer;font-weight:bold}
.legend span.sw{display:inline-block;width:14px;height:10px;margin:0 4px 0 12px;vertical-align:middle}
.sw.ok{background:#2e9d4a}.sw.fail{background:#d43c3c}.sw.info{background:#e6a700}
.sw.fault{background:#7a5cc4;opacity:.35}.sw.leader{background:#5b4fc4}.sw.watch{background:#2a6fb0}
.timeline{overflow-x:auto;border:1px solid #ddd;margin-top:.5em}
svg text{font:10px sans-serif;fill:#333}
svg text.group{font-weight:bold;font-size:11px}
svg text.lane{text-anchor:end}
svg text.tick{text-anchor:middle}
rect.stripe{fill:#f5f5f5}
rect.ok{fill:#2e9d4a}
rect.fail{fill:#d43c3c}
rect.info{fill:#e6a700}
rect.agg{fill-opacity:.75}
rect.fault{fill-opacity:.16;stroke-opacity:.55;stroke-width:1}
.k0{fill:#7a5cc4;stroke:#7a5cc4}.k1{fill:#c45c8e;stroke:#c45c8e}.k2{fill:#3c8dbc;stroke:#3c8dbc}
.k3{fill:#b5832c;stroke:#b5832c}.k4{fill:#4a9a8a;stroke:#4a9a8a}.k5{fill:#777;stroke:#777}
text.fault-label{stroke:none;font-weight:bold}
line.grid{stroke:#e4e4e4}
line.axis,line.tickmark{stroke:#555}
line.leader-line{stroke:#5b4fc4;stroke-dasharray:3 3;stroke-opacity:.55}
path.leader-mark{fill:#5b4fc4}
path.contested{fill:#d43c3c}
line.watch{stroke:#2a6fb0;stroke-width:1}
line.watch.agg{stroke-width:1.5}
";

/// The whole report page with default [`TimelineOptions`].
pub fn page(h: &History, verdicts: &[Verdict], title: &str) -> String {
    page_with(h, verdicts, title, &TimelineOptions::default())
}

/// The whole report page: summary tables, timeline and problem list.
pub fn page_with(h: &History, verdicts: &[Verdict], title: &str, opts: &TimelineOptions) -> String {
    let s = summary::summarize(h, verdicts);
    let t = escape_html(title);
    let mut o = String::new();
    out!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{t}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<h1>{t}</h1>\n"
    );
    out!(o, "<p class=\"meta\">{}</p>\n", escape_html(&summary::meta_line(&s)));
    out!(
        o,
        "<p class=\"verdict {}\">{}</p>\n",
        status_class(s.overall),
        escape_html(&summary::verdict_line(&s.verdicts, s.ops))
    );
    summary_sections(&mut o, &s);
    o.push_str("<h2>Timeline</h2>\n");
    legend(&mut o, h, opts);
    o.push_str("<div class=\"timeline\">\n");
    o.push_str(&timeline_svg(h, opts));
    o.push_str("</div>\n");
    problems(&mut o, &s.verdicts);
    o.push_str("</body>\n</html>\n");
    o
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Pass => "st-pass",
        Status::Fail => "st-fail",
        Status::Unknown => "st-unknown",
    }
}

fn html_table(o: &mut String, t: &Table) {
    if t.rows.is_empty() {
        o.push_str("<p>none</p>\n");
        return;
    }
    let class = |i: usize| if t.right.get(i).copied().unwrap_or(false) { " class=\"num\"" } else { "" };
    o.push_str("<table>\n<thead><tr>");
    for (i, h) in t.header.iter().enumerate() {
        out!(o, "<th{}>{}</th>", class(i), escape_html(h));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        o.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            out!(o, "<td{}>{}</td>", class(i), escape_html(c));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n");
}

fn summary_sections(o: &mut String, s: &Summary) {
    o.push_str("<h2>Operations</h2>\n");
    html_table(o, &summary::workload_table(s));
    o.push_str("<h2>Faults injected</h2>\n");
    html_table(o, &summary::fault_table(s));
    o.push_str("<h2>Unavailability after fault / recovery after heal (seconds)</h2>\n");
    html_table(o, &summary::unavailability_table(s));
    if !s.faults.is_empty() {
        out!(o, "<details>\n<summary>Every fault ({})</summary>\n", thousands(s.faults.len() as u64));
        html_table(o, &per_fault_table(&s.faults));
        o.push_str("</details>\n");
    }
    out!(o, "<h2>Leadership</h2>\n<p>{}</p>\n", escape_html(&summary::leader_line(s)));
    o.push_str("<h2>Checkers</h2>\n");
    if s.verdicts.is_empty() {
        o.push_str("<p>none</p>\n");
        return;
    }
    o.push_str(
        "<table>\n<thead><tr><th>checker</th><th>verdict</th><th>checked</th><th>problems</th></tr></thead>\n<tbody>\n",
    );
    for v in &s.verdicts {
        out!(
            o,
            "<tr><td>{}</td><td><span class=\"verdict {}\">{}</span></td><td>{}</td><td>",
            escape_html(&v.checker),
            status_class(v.status),
            summary::status_word(v.status),
            escape_html(&v.checked)
        );
        let shown = summary::shown_problems(v);
        if !shown.is_empty() {
            o.push_str("<ul>");
            for p in shown {
                out!(o, "<li>{}</li>", escape_html(&p));
            }
            o.push_str("</ul>");
        }
        o.push_str("</td></tr>\n");
    }
    o.push_str("</tbody>\n</table>\n");
}

fn per_fault_table(faults: &[FaultAvailability]) -> Table {
    Table {
        header: ["kind", "detail", "start (s)", "end (s)", "unavailable (s)", "failing at heal", "recovery (s)"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        right: vec![false, false, true, true, true, false, true],
        rows: faults
            .iter()
            .map(|f| {
                vec![
                    f.kind.clone(),
                    f.detail.clone(),
                    secs(f.start),
                    f.end.map_or_else(|| "never healed".to_string(), secs),
                    f.unavailable.to_string(),
                    if f.failing_at_heal { "yes" } else { "no" }.to_string(),
                    f.recovery.map_or_else(|| "-".to_string(), |d| d.to_string()),
                ]
            })
            .collect(),
    }
}

fn problems(o: &mut String, verdicts: &[Verdict]) {
    let total: usize = verdicts.iter().map(|v| v.problems.len()).sum();
    out!(o, "<details>\n<summary>All problems ({})</summary>\n", thousands(total as u64));
    if total == 0 {
        o.push_str("<p>No checker reported a problem.</p>\n");
    }
    for v in verdicts.iter().filter(|v| !v.problems.is_empty()) {
        out!(
            o,
            "<h3>{} — {} ({})</h3>\n<ol>\n",
            escape_html(&v.checker),
            summary::status_word(v.status),
            thousands(v.problems.len() as u64)
        );
        for p in &v.problems {
            out!(o, "<li>{}</li>\n", escape_html(p));
        }
        o.push_str("</ol>\n");
    }
    o.push_str("</details>\n");
}

fn legend(o: &mut String, h: &History, opts: &TimelineOptions) {
    o.push_str(
        "<p class=\"legend\">op:<span class=\"sw ok\"></span>ok<span class=\"sw fail\"></span>fail\
         <span class=\"sw info\"></span>info (in doubt)<span class=\"sw fault\"></span>fault\
         <span class=\"sw leader\"></span>leader change<span class=\"sw watch\"></span>watch event</p>\n",
    );
    let n = h.ops().count();
    if n > opts.downsample_above {
        out!(
            o,
            "<p class=\"legend\">{} ops (over {}): ok ops are merged per lane and pixel column; \
             every fail and info op is drawn individually.</p>\n",
            thousands(n as u64),
            thousands(opts.downsample_above as u64)
        );
    }
}

/// One horizontal band of the timeline.
enum Row<'a> {
    /// A heading for a workload or the watchers.
    Group(String),
    /// Leader changes.
    Leader,
    /// One client process of one workload.
    Process { process: u32, ops: Vec<&'a Op> },
    /// One watcher.
    Watcher { watcher: u32, source: WatchSource, events: Vec<&'a WatchObs> },
}

impl Row<'_> {
    fn height(&self) -> f64 {
        match self {
            Row::Group(_) => GROUP_H,
            Row::Leader => LEADER_H,
            Row::Process { .. } => OP_H,
            Row::Watcher { .. } => WATCH_H,
        }
    }
}

fn build_rows(h: &History) -> Vec<Row<'_>> {
    let mut rows = vec![Row::Leader];
    let mut by_lane: BTreeMap<(&str, u32), Vec<&Op>> = BTreeMap::new();
    for o in h.ops() {
        by_lane.entry((o.workload.as_str(), o.process)).or_default().push(o);
    }
    let mut current: Option<&str> = None;
    for ((workload, process), ops) in by_lane {
        if current != Some(workload) {
            rows.push(Row::Group(format!("workload {workload}")));
            current = Some(workload);
        }
        rows.push(Row::Process { process, ops });
    }
    let mut watchers: BTreeMap<(u32, WatchSource), Vec<&WatchObs>> = BTreeMap::new();
    for r in &h.records {
        if let crate::history::Record::Watch(w) = r {
            watchers.entry((w.watcher, w.source)).or_default().push(w);
        }
    }
    if !watchers.is_empty() {
        rows.push(Row::Group("watchers".into()));
        for ((watcher, source), events) in watchers {
            rows.push(Row::Watcher { watcher, source, events });
        }
    }
    rows
}

/// Maps history time to x pixels.
struct Scale {
    end: Nanos,
    width: f64,
}

impl Scale {
    fn x(&self, t: Nanos) -> f64 {
        LEFT + (t.min(self.end) as f64 / self.end as f64) * self.width
    }

    /// Pixel column (0-based, within the plot) of time `t`.
    fn col(&self, t: Nanos) -> usize {
        ((self.x(t) - LEFT).floor().max(0.0) as usize).min(self.width as usize)
    }

    /// Start time of pixel column `c`.
    fn time_of_col(&self, c: usize) -> Nanos {
        ((c as f64 / self.width) * self.end as f64) as Nanos
    }
}

fn run_end(h: &History) -> Nanos {
    let mut end = 0;
    for r in &h.records {
        use crate::history::Record as R;
        let t = match r {
            R::Op(o) => o.complete.max(o.invoke),
            R::Fault(f) => f.end.unwrap_or(f.start).max(f.start),
            R::Leader(l) => l.at,
            R::Watch(w) => w.at,
            _ => 0,
        };
        end = end.max(t);
    }
    // An empty history still gets a sane one-second axis.
    if end == 0 {
        1_000_000_000
    } else {
        end
    }
}

fn tick_step(end_s: f64) -> f64 {
    let raw = end_s / 10.0;
    if raw.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0].iter().map(|m| m * mag).find(|s| *s >= raw * (1.0 - 1e-9)).unwrap_or(10.0 * mag)
}

fn op_text(o: &Op) -> String {
    match &o.kind {
        OpKind::Read { value: Some(v) } => format!("read → {v}"),
        OpKind::Read { value: None } if o.outcome == Outcome::Ok => "read → nil".to_string(),
        OpKind::Read { value: None } => "read".to_string(),
        OpKind::Write { value } => format!("write {value}"),
        OpKind::Cas { from, to } => format!("cas {from} → {to}"),
    }
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::Fail => "fail",
        Outcome::Info => "info",
    }
}

fn op_tooltip(o: &Op) -> String {
    let mut t = format!(
        "process {} ({})\nkey: {}\nop: {}\noutcome: {}\nreplica: {}\n{}–{} s ({} ms)",
        o.process,
        o.workload,
        o.key,
        op_text(o),
        outcome_word(o.outcome),
        o.replica,
        secs(o.invoke),
        secs(o.complete),
        o.complete.saturating_sub(o.invoke) / 1_000_000
    );
    if let Some(e) = &o.error {
        out!(t, "\nerror: {e}");
    }
    t
}

fn draw_op(o: &mut String, op: &Op, sc: &Scale, y: f64) {
    let x0 = sc.x(op.invoke);
    let w = (sc.x(op.complete) - x0).max(1.0);
    out!(
        o,
        "<rect class=\"op {}\" x=\"{x0:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{BAR_H}\"><title>{}</title></rect>\n",
        outcome_word(op.outcome),
        y + (OP_H - BAR_H) / 2.0,
        escape_html(&op_tooltip(op))
    );
}

/// Ok ops of one lane merged into runs of covered pixel columns.
fn draw_ok_aggregated(o: &mut String, process: u32, ops: &[&Op], sc: &Scale, y: f64) {
    let cols = sc.width as usize + 1;
    let mut covered = vec![false; cols];
    let mut starts = vec![0usize; cols];
    for op in ops.iter().filter(|op| op.outcome == Outcome::Ok) {
        let (c0, c1) = (sc.col(op.invoke), sc.col(op.complete.max(op.invoke)));
        starts[c0] += 1;
        covered[c0..=c1].iter_mut().for_each(|c| *c = true);
    }
    let mut c = 0;
    while c < cols {
        if !covered[c] {
            c += 1;
            continue;
        }
        let first = c;
        let mut n = 0;
        while c < cols && covered[c] {
            n += starts[c];
            c += 1;
        }
        let tip = format!(
            "process {process}: {} ok ops (merged), {}–{} s",
            thousands(n as u64),
            secs(sc.time_of_col(first)),
            secs(sc.time_of_col(c))
        );
        out!(
            o,
            "<rect class=\"agg ok\" x=\"{:.1}\" y=\"{:.1}\" width=\"{}\" height=\"{BAR_H}\"><title>{}</title></rect>\n",
            LEFT + first as f64,
            y + (OP_H - BAR_H) / 2.0,
            c - first,
            escape_html(&tip)
        );
    }
}

fn draw_watch(o: &mut String, watcher: u32, events: &[&WatchObs], sc: &Scale, y: f64, aggregate: bool) {
    let (y1, y2) = (y + 2.0, y + WATCH_H - 2.0);
    if aggregate {
        let mut per_col: BTreeMap<usize, usize> = BTreeMap::new();
        for e in events {
            *per_col.entry(sc.col(e.at)).or_default() += 1;
        }
        for (c, n) in per_col {
            let x = LEFT + c as f64 + 0.5;
            let tip = format!("watcher {watcher}: {} events near {} s", thousands(n as u64), secs(sc.time_of_col(c)));
            out!(
                o,
                "<line class=\"watch agg\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{y1:.1}\" y2=\"{y2:.1}\"><title>{}</title></line>\n",
                escape_html(&tip)
            );
        }
        return;
    }
    for e in events {
        let x = sc.x(e.at);
        let tip = format!(
            "watcher {} ({}) via {}\n{} {} @ revision {}\nat {} s",
            e.watcher,
            source_word(e.source),
            e.replica,
            e.event,
            e.key,
            e.revision,
            secs(e.at)
        );
        out!(
            o,
            "<line class=\"watch\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{y1:.1}\" y2=\"{y2:.1}\"><title>{}</title></line>\n",
            escape_html(&tip)
        );
    }
}

fn source_word(s: WatchSource) -> &'static str {
    match s {
        WatchSource::Store => "store",
        WatchSource::Api => "api",
    }
}

/// The timeline as one `<svg>` element (see the module docs for its layout).
pub fn timeline_svg(h: &History, opts: &TimelineOptions) -> String {
    let sc = Scale { end: run_end(h), width: f64::from(opts.plot_width.max(100)) };
    let rows = build_rows(h);
    let mut ys = Vec::with_capacity(rows.len());
    let mut y = TOP;
    for r in &rows {
        ys.push(y);
        y += r.height();
    }
    let bottom = y;
    let total_w = LEFT + sc.width + RIGHT;
    let total_h = bottom + AXIS_H;
    let n_ops = h.ops().count();
    let downsample = n_ops > opts.downsample_above;
    let n_watch =
        rows.iter().map(|r| if let Row::Watcher { events, .. } = r { events.len() } else { 0 }).sum::<usize>();

    let mut o = String::new();
    out!(
        o,
        "<svg width=\"{total_w:.0}\" height=\"{total_h:.0}\" viewBox=\"0 0 {total_w:.0} {total_h:.0}\" \
         role=\"img\" aria-label=\"timeline of operations, faults, leaders and watch events\">\n"
    );

    // Lane stripes and labels.
    let mut stripe = false;
    for (r, &y) in rows.iter().zip(&ys) {
        match r {
            Row::Group(name) => {
                out!(o, "<text class=\"group\" x=\"6\" y=\"{:.1}\">{}</text>\n", y + GROUP_H - 5.0, escape_html(name));
                stripe = false;
            }
            Row::Leader => {
                out!(o, "<text class=\"group\" x=\"6\" y=\"{:.1}\">leader</text>\n", y + LEADER_H / 2.0 + 4.0);
            }
            Row::Process { process, .. } => {
                if stripe {
                    out!(
                        o,
                        "<rect class=\"stripe\" x=\"{LEFT}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{OP_H}\"/>\n",
                        sc.width
                    );
                }
                stripe = !stripe;
                out!(o, "<text class=\"lane\" x=\"{:.1}\" y=\"{:.1}\">p{process}</text>\n", LEFT - 6.0, y + OP_H - 3.5);
            }
            Row::Watcher { watcher, source, .. } => {
                out!(
                    o,
                    "<text class=\"lane\" x=\"{:.1}\" y=\"{:.1}\">w{watcher} ({})</text>\n",
                    LEFT - 6.0,
                    y + WATCH_H - 2.5,
                    source_word(*source)
                );
            }
        }
    }

    // Time grid and axis.
    let end_s = sc.end as f64 / 1e9;
    let step = tick_step(end_s);
    let decimals = if step >= 1.0 { 0 } else { (-(step.log10() + 1e-9).floor()) as usize };
    out!(
        o,
        "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{bottom:.1}\" y2=\"{bottom:.1}\"/>\n",
        LEFT + sc.width
    );
    let mut i = 0u64;
    loop {
        let t_s = i as f64 * step;
        if t_s > end_s * (1.0 + 1e-9) {
            break;
        }
        let x = LEFT + (t_s / end_s) * sc.width;
        out!(o, "<line class=\"grid\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{TOP:.1}\" y2=\"{bottom:.1}\"/>\n");
        out!(
            o,
            "<line class=\"tickmark\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{bottom:.1}\" y2=\"{:.1}\"/>\n",
            bottom + 5.0
        );
        out!(o, "<text class=\"tick\" x=\"{x:.1}\" y=\"{:.1}\">{t_s:.decimals$}</text>\n", bottom + 16.0);
        i += 1;
    }
    out!(
        o,
        "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\">time since start (s)</text>\n",
        LEFT + sc.width / 2.0,
        bottom + 32.0
    );

    // Fault bands (under the bars, so bars keep their own tooltips).
    let avail = super::unavailability::per_fault(h);
    let mut kinds: Vec<&str> = avail.iter().map(|f| f.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    for (n, f) in avail.iter().enumerate() {
        let colour = kinds.iter().position(|k| *k == f.kind).unwrap_or(0) % FAULT_COLOURS;
        let x0 = sc.x(f.start);
        let w = (sc.x(f.end.unwrap_or(sc.end)) - x0).max(1.0);
        let ly = 8.0 + (n % LABEL_ROWS) as f64 * LABEL_ROW_H + 8.0;
        let band_top = ly - 9.0;
        let mut tip = format!(
            "{}: {}\n{}–{} s\nunavailable after fault: {}",
            f.kind,
            f.detail,
            secs(f.start),
            f.end.map_or_else(|| "never healed".to_string(), |e| format!("{} s", secs(e))),
            f.unavailable
        );
        if let Some(r) = f.recovery {
            out!(tip, "\nrecovery after heal: {r}");
        }
        out!(
            o,
            "<rect class=\"fault k{colour}\" x=\"{x0:.1}\" y=\"{band_top:.1}\" width=\"{w:.1}\" height=\"{:.1}\"><title>{}</title></rect>\n",
            bottom - band_top,
            escape_html(&tip)
        );
        out!(
            o,
            "<text class=\"fault-label k{colour}\" x=\"{:.1}\" y=\"{ly:.1}\">{}</text>\n",
            x0 + 2.0,
            escape_html(&f.kind)
        );
    }

    // Leader changes.
    if let Some(pos) = rows.iter().position(|r| matches!(r, Row::Leader)) {
        let ly = ys[pos];
        for (n, c) in summary::leader_changes(h).iter().enumerate() {
            let x = sc.x(c.at);
            let my = ly + 4.0;
            let class = if c.contested { "leader-mark contested" } else { "leader-mark" };
            let mut tip = format!(
                "{} became leader in term {} (reported by {}) at {} s",
                c.leader,
                c.term,
                c.observer,
                secs(c.at)
            );
            if c.contested {
                tip.push_str("\nanother leader was already reported for this term");
            }
            out!(o, "<line class=\"leader-line\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{ly:.1}\" y2=\"{bottom:.1}\"/>\n");
            out!(
                o,
                "<path class=\"{class}\" d=\"M{x:.1},{my:.1} l4,4 l-4,4 l-4,-4 z\"><title>{}</title></path>\n",
                escape_html(&tip)
            );
            out!(
                o,
                "<text class=\"leader-label\" x=\"{:.1}\" y=\"{:.1}\">{} t{}</text>\n",
                x + 5.0,
                ly + if n % 2 == 0 { 12.0 } else { 24.0 },
                escape_html(&c.leader),
                c.term
            );
        }
    }

    // Ops and watch events.
    for (r, &y) in rows.iter().zip(&ys) {
        match r {
            Row::Process { process, ops } => {
                if downsample {
                    draw_ok_aggregated(&mut o, *process, ops, &sc, y);
                } else {
                    for op in ops.iter().filter(|op| op.outcome == Outcome::Ok) {
                        draw_op(&mut o, op, &sc, y);
                    }
                }
                for op in ops.iter().filter(|op| op.outcome != Outcome::Ok) {
                    draw_op(&mut o, op, &sc, y);
                }
            }
            Row::Watcher { watcher, events, .. } => {
                draw_watch(&mut o, *watcher, events, &sc, y, n_watch > opts.downsample_above);
            }
            Row::Group(_) | Row::Leader => {}
        }
    }
    o.push_str("</svg>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Outcome::{Fail, Info, Ok};
    use crate::history::Record;
    use crate::report::testutil::{fault, leader, op, watch};

    /// Checks every non-void element is closed in order; returns the count of elements seen.
    fn assert_well_formed(doc: &str) -> usize {
        const VOID: [&str; 2] = ["meta", "br"];
        let mut stack: Vec<&str> = Vec::new();
        let mut seen = 0;
        let mut rest = doc;
        while let Some(i) = rest.find('<') {
            rest = &rest[i + 1..];
            let end = rest.find('>').expect("unterminated tag");
            let tag = &rest[..end];
            rest = &rest[end + 1..];
            if tag.starts_with('!') {
                continue;
            }
            assert!(!tag.contains('<'), "raw < inside tag {tag:?}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name), "mismatched </{name}>");
                continue;
            }
            seen += 1;
            let name = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or_default();
            assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()), "bad tag {tag:?}");
            if !tag.ends_with('/') && !VOID.contains(&name) {
                stack.push(name);
            }
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        seen
    }

    fn count(hay: &str, needle: &str) -> usize {
        hay.matches(needle).count()
    }

    fn small() -> History {
        let mut records = Vec::new();
        for p in 0..3u32 {
            for i in 0..20u64 {
                let t = i * 1_000 + u64::from(p) * 200;
                let outcome = match t {
                    10_000..=10_999 => Fail,
                    11_000..=11_999 => Info,
                    _ => Ok,
                };
                records.push(op(p, "register", "reg-1", t, t + 300, outcome));
            }
        }
        records.push(op(9, "objects", "<&>", 500, 900, Ok));
        records.push(fault("kill-leader", 10_000, Some(12_000)));
        records.push(fault("partition", 15_000, None));
        records.push(leader(100, "r0", 1, Some("r0")));
        records.push(leader(10_900, "r1", 2, Some("r1")));
        records.push(leader(11_000, "r2", 2, Some("r1")));
        for i in 0..7u64 {
            records.push(watch(1, 1_000 + i * 500, i as i64 + 10, "/registry/pods/a"));
        }
        records.push(watch(2, 4_000, 99, "/registry/pods/b"));
        History { records }
    }

    fn failing_verdicts() -> Vec<Verdict> {
        vec![
            Verdict::from_problems(
                "linearizable",
                "61 ops on 2 keys".into(),
                (1..=7).map(|i| format!("read <{i}> & stale")).collect(),
            ),
            Verdict::pass("watch", "8 events".into()),
        ]
    }

    #[test]
    fn small_page_draws_every_op_fault_leader_and_watch() {
        let h = small();
        let doc = page(&h, &failing_verdicts(), "run <1> & friends");
        assert!(doc.starts_with("<!DOCTYPE html>"));
        assert_well_formed(&doc);
        assert_eq!(count(&doc, "<svg"), 1);
        assert_eq!(count(&doc, "<svg"), count(&doc, "</svg>"));
        assert_eq!(count(&doc, "<rect class=\"op "), 61, "one bar per op");
        assert_eq!(count(&doc, "<rect class=\"op fail\""), 3);
        assert_eq!(count(&doc, "<rect class=\"op info\""), 3);
        assert_eq!(count(&doc, "<rect class=\"agg "), 0);
        assert_eq!(count(&doc, "<rect class=\"fault "), 2, "one band per fault");
        assert!(doc.contains(">kill-leader</text>") && doc.contains(">partition</text>"));
        assert_eq!(count(&doc, "class=\"leader-mark\""), 2);
        assert_eq!(count(&doc, "class=\"leader-line\""), 2);
        assert!(doc.contains(">r0 t1</text>") && doc.contains(">r1 t2</text>"));
        assert_eq!(count(&doc, "<line class=\"watch\""), 8);
        assert!(doc.contains(">w1 (store)</text>") && doc.contains(">w2 (store)</text>"));
        assert!(doc.contains(">workload objects</text>") && doc.contains(">workload register</text>"));
        assert!(doc.contains("<title>run &lt;1&gt; &amp; friends</title>"));
        // Tooltip content of a failed op.
        assert!(doc.contains("process 0 (register)\nkey: reg-1\nop: write"));
        assert!(doc.contains("outcome: fail\nreplica: r0\n10.000–10.300 s (300 ms)\nerror: unavailable: no leader"));
        // Fault tooltip carries the availability numbers.
        assert!(doc.contains("unavailable after fault: "));
        assert!(doc.contains("never healed"));
        // No external resources, no scripts.
        assert!(!doc.contains("http://") && !doc.contains("https://") && !doc.contains("<script"));
    }

    #[test]
    fn text_is_escaped_everywhere() {
        let doc = page(&small(), &failing_verdicts(), "t");
        assert!(doc.contains("key: &lt;&amp;&gt;"));
        assert!(!doc.contains("<&>"));
        assert!(doc.contains("read &lt;3&gt; &amp; stale"));
        assert!(!doc.contains("read <3>"));
    }

    #[test]
    fn summary_tables_and_problem_details() {
        let doc = page(&small(), &failing_verdicts(), "t");
        assert!(doc.contains("<p class=\"verdict st-fail\">verdict: FAIL (linearizable) — 61 ops checked</p>"));
        assert!(doc.contains("<td>register</td><td class=\"num\">60</td>"));
        assert!(doc.contains("<td>kill-leader</td><td class=\"num\">1</td><td class=\"num\">1</td>"));
        // Table shows 5 problems and a remainder; details lists all 7.
        assert!(doc.contains("<li>… and 2 more</li>"));
        assert!(doc.contains("<summary>All problems (7)</summary>"));
        for i in 1..=7 {
            assert!(doc.contains(&format!("<li>read &lt;{i}&gt; &amp; stale</li>\n")), "problem {i} in details");
        }
        assert_eq!(count(&doc, "<details>"), count(&doc, "</details>"));
    }

    #[test]
    fn downsampling_keeps_every_fail_and_info_op() {
        let mut records = vec![fault("kill", 100_000, Some(110_000))];
        let (mut fails, mut infos, mut oks) = (0, 0, 0);
        for p in 0..5u32 {
            for i in 0..5_000u64 {
                let t = i * 40 + u64::from(p) * 7;
                let outcome = if i % 97 == 0 {
                    fails += 1;
                    Fail
                } else if i % 89 == 0 {
                    infos += 1;
                    Info
                } else {
                    oks += 1;
                    Ok
                };
                records.push(op(p, "register", "k", t, t + 30, outcome));
            }
        }
        let h = History { records };
        assert!(oks + fails + infos > DOWNSAMPLE_ABOVE);
        let doc = page(&h, &[], "big");
        assert_well_formed(&doc);
        assert_eq!(count(&doc, "<rect class=\"op fail\""), fails);
        assert_eq!(count(&doc, "<rect class=\"op info\""), infos);
        assert_eq!(count(&doc, "<rect class=\"op ok\""), 0);
        let agg = count(&doc, "<rect class=\"agg ok\"");
        assert!(agg > 0 && agg < oks / 10, "{agg} merged bars for {oks} ok ops");
        assert!(doc.len() < 4_000_000, "page is {} bytes", doc.len());
        assert!(doc.contains("every fail and info op is drawn individually"));
        // The merged bars account for every ok op.
        let merged: usize = doc
            .match_indices(" ok ops (merged)")
            .map(|(i, _)| {
                let head = &doc[..i];
                let start = head.rfind("process ").expect("tooltip") + "process ".len();
                let num = head[start..].split(": ").nth(1).expect("count");
                num.replace(',', "").parse::<usize>().expect("number")
            })
            .sum();
        assert_eq!(merged, oks);
    }

    #[test]
    fn lower_threshold_option_downsamples_small_history() {
        let opts = TimelineOptions { downsample_above: 10, plot_width: 400 };
        let svg = timeline_svg(&small(), &opts);
        assert_eq!(count(&svg, "<rect class=\"op fail\""), 3);
        assert_eq!(count(&svg, "<rect class=\"op ok\""), 0);
        assert!(count(&svg, "<rect class=\"agg ok\"") > 0);
    }

    #[test]
    fn empty_history_still_renders() {
        let doc = page(&History::default(), &[], "empty");
        assert_well_formed(&doc);
        assert!(doc.contains("verdict: UNKNOWN (no checkers ran) — 0 ops checked"));
        assert_eq!(count(&doc, "<svg"), count(&doc, "</svg>"));
        assert!(!doc.contains("NaN") && !doc.contains("=\"inf") && !doc.contains("=\"-inf"));
        assert!(doc.contains(">1.0</text>"), "one-second axis");
    }

    #[test]
    fn tick_steps_are_round() {
        assert_eq!(tick_step(60.0), 10.0);
        assert_eq!(tick_step(100.0), 10.0);
        assert_eq!(tick_step(7.0), 1.0);
        assert_eq!(tick_step(3.0), 0.5);
        assert!((tick_step(0.15) - 0.02).abs() < 1e-12);
        assert_eq!(tick_step(0.0), 1.0);
        let svg = timeline_svg(&small(), &TimelineOptions::default());
        // Run ends at 19.7 s (p2's last op: 19.4 s + 0.3 s): 2 s ticks, 0..18.
        assert!(svg.contains(">18</text>") && !svg.contains(">20</text>"));
    }

    #[test]
    fn op_labels() {
        let Record::Op(mut o) = op(1, "register", "k", 0, 1, Ok) else { unreachable!() };
        o.kind = OpKind::Read { value: None };
        assert_eq!(op_text(&o), "read → nil");
        o.outcome = Info;
        assert_eq!(op_text(&o), "read");
        o.kind = OpKind::Cas { from: 3, to: 4 };
        assert_eq!(op_text(&o), "cas 3 → 4");
    }
}
