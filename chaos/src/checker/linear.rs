//! Per-key linearizability checker for the read/write/compare-and-set register.
//!
//! The register workload's operations are grouped by key and each key is
//! checked on its own (a register history is linearizable iff every key's
//! sub-history is). For one key the checker runs the Wing–Gong search with
//! Lowe's memoisation: a depth-first search over "which operation takes effect
//! next", remembering every configuration (set of operations already
//! linearized, register value) it has visited so no configuration is explored
//! twice. The search is iterative (an explicit undo stack over a linked list
//! of invoke/complete events), so long histories cannot overflow the stack.
//! At each step only ops invoked before the earliest completion among the
//! pending `Ok` ops are candidates, and the search succeeds once every `Ok`
//! op is placed (`Info` ops need not be).
//!
//! Two sound shortcuts keep it fast: an `Info` op is not tried while nothing
//! left could observe the value it writes, and (while deciding) a move is
//! skipped when it overwrites a value that a pending `Ok` op must still
//! observe and nothing left can write again. Skipping such moves can stop the
//! search short of the op that really fails, so a refuted key is searched a
//! second time, skipping only moves that cannot reach the furthest point, to
//! name that op exactly.
//!
//! # Model
//! The register holds `Option<i64>`, initially `None` (absent). A read of `v`
//! is legal iff the register holds `v`; a write of `v` sets it to `Some(v)`; a
//! compare-and-set `from -> to` is legal iff the register holds `Some(from)`
//! and then sets it to `Some(to)`.
//!
//! # Outcomes
//! * `Ok` operations must take effect between their invoke and complete
//!   times (an `Ok` compare-and-set is one whose comparison succeeded).
//! * `Fail` operations definitely did not take effect and are ignored.
//! * `Info` (indeterminate) reads constrain nothing and are ignored; `Info`
//!   writes and compare-and-sets may take effect at any time after their
//!   invoke, or never. An `Info` write or compare-and-set whose value no
//!   acknowledged read or compare-and-set could have observed is dropped up
//!   front: leaving it out never removes a valid linearization.
//!
//! Operations that complete at the same instant another is invoked are
//! treated as concurrent (the conservative choice).
//!
//! # Guarantees
//! * `Pass`/[`KeyResult::Linearizable`] only when a linearization was found;
//!   `Fail`/[`KeyResult::NotLinearizable`] only when the search proved none
//!   exists. Running out of time or memo space gives `Unknown`, never `Pass`.
//! * Each key's search stops after its time budget (checked every
//!   [`CLOCK_EVERY`] steps, and before the first step, so a zero budget
//!   decides only keys that need no search) or once [`MAX_MEMO_ENTRIES`]
//!   configurations (or [`MAX_MEMO_WORDS`] bitset words) are remembered.
//!   Naming the failing op of a refuted key may take up to a quarter of the
//!   budget more; if that runs out, the key still fails, with a vaguer
//!   explanation.
//! * A failure names the operation the search could never get past (the
//!   furthest point reached, by completion time) and the register values
//!   possible there (values reachable only through pointless `Info` writes
//!   are left out).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::history::{History, Nanos, Op, OpKind, Outcome};
use crate::verdict::{Status, Verdict};

/// Name of this checker in its [`Verdict`].
pub const CHECKER_NAME: &str = "linearizable";

/// The workload whose operations this checker reads.
pub const WORKLOAD: &str = "register";

/// Most configurations remembered per key before the key is declared unknown
/// (bounds memory to a few hundred MB).
pub const MAX_MEMO_ENTRIES: usize = 2_000_000;

/// Most bitset words (8 bytes each) stored in one key's memo before the key
/// is declared unknown; matters only for histories whose ops stay pending
/// across thousands of others.
pub const MAX_MEMO_WORDS: usize = 32 * 1024 * 1024;

/// The search consults the clock once per this many steps.
pub const CLOCK_EVERY: u64 = 1024;

/// Most register values listed in a failure explanation.
const MAX_VALUES_SHOWN: usize = 10;

/// Most distinct values remembered for the furthest point of a failed search.
const MAX_VALUES_KEPT: usize = 64;

/// Result of checking one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyResult {
    /// Some order of the operations explains every acknowledged result.
    Linearizable,
    /// No order does.
    NotLinearizable {
        /// One sentence naming the operation that could not be linearized.
        explanation: String,
    },
    /// The search ran out of budget before deciding.
    Unknown {
        /// Why it stopped.
        reason: String,
    },
}

/// Checks every register key of `history` (operations of other workloads are
/// ignored), giving each key's search at most `budget_per_key`.
///
/// Fails if any key is not linearizable; otherwise Unknown if any key ran out
/// of budget (or the history has no register operations); otherwise Pass.
pub fn check(history: &History, budget_per_key: Duration) -> Verdict {
    let mut by_key: BTreeMap<&str, Vec<&Op>> = BTreeMap::new();
    for op in history.ops().filter(|o| o.workload == WORKLOAD) {
        by_key.entry(op.key.as_str()).or_default().push(op);
    }
    let total_ops: usize = by_key.values().map(Vec::len).sum();
    if by_key.is_empty() {
        return Verdict {
            checker: CHECKER_NAME.into(),
            status: Status::Unknown,
            checked: "0 ops on 0 keys".into(),
            problems: vec!["the history has no register operations to check".into()],
        };
    }
    let mut failures = Vec::new();
    let mut unknowns = Vec::new();
    for (key, ops) in &by_key {
        match check_key(ops, budget_per_key) {
            KeyResult::Linearizable => {}
            KeyResult::NotLinearizable { explanation } => {
                failures.push(format!("key {key}: no linearization: {explanation}"))
            }
            KeyResult::Unknown { reason } => unknowns.push(format!("key {key}: not decided: {reason}")),
        }
    }
    let mut checked = format!("{} on {}", plural(total_ops, "op", "ops"), plural(by_key.len(), "key", "keys"));
    if !unknowns.is_empty() {
        let _ = write!(checked, " ({} unknown)", group_thousands(unknowns.len() as u64));
    }
    let status = if !failures.is_empty() {
        Status::Fail
    } else if !unknowns.is_empty() {
        Status::Unknown
    } else {
        Status::Pass
    };
    let mut problems = failures;
    problems.extend(unknowns);
    Verdict { checker: CHECKER_NAME.into(), status, checked, problems }
}

/// Checks the operations of one register key (their `key` and `workload`
/// fields are not looked at), searching for at most `budget` (plus up to a
/// quarter of it to name the failing op when the key is refuted).
pub fn check_key(ops: &[&Op], budget: Duration) -> KeyResult {
    check_key_limited(ops, budget, MAX_MEMO_ENTRIES)
}

/// [`check_key`] with a given cap on remembered configurations.
fn check_key_limited(ops: &[&Op], budget: Duration, max_memo_entries: usize) -> KeyResult {
    let start = Instant::now();
    if let Some(explanation) = impossible_value(ops) {
        return KeyResult::NotLinearizable { explanation };
    }
    let mut search = Search::new(prepare(ops), max_memo_entries);
    match search.run(start, budget, Prune::All) {
        SearchEnd::Found => KeyResult::Linearizable,
        SearchEnd::OutOfBudget(reason) => KeyResult::Unknown { reason },
        SearchEnd::Refuted { furthest, values } => {
            // Proven. Now find the furthest point an exhaustive search would
            // reach (at least as far as this one got), to name the op that fails.
            let extra = budget.saturating_sub(start.elapsed()).max(budget / 4);
            let explanation = match search.run(Instant::now(), extra, Prune::BeforeFurthest(furthest)) {
                SearchEnd::Refuted { furthest, values } => search.explain(furthest, &values),
                SearchEnd::OutOfBudget(_) => search.explain_pruned(furthest, &values),
                SearchEnd::Found => {
                    debug_assert!(false, "pruned and exhaustive searches disagree");
                    return KeyResult::Unknown {
                        reason: "the checker's two searches disagree (a checker bug; please report it)".into(),
                    };
                }
            };
            KeyResult::NotLinearizable { explanation }
        }
    }
}

/// What an operation does to the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Read(Option<i64>),
    Write(i64),
    Cas(i64, i64),
}

impl Action {
    fn of(kind: &OpKind) -> Action {
        match *kind {
            OpKind::Read { value } => Action::Read(value),
            OpKind::Write { value } => Action::Write(value),
            OpKind::Cas { from, to } => Action::Cas(from, to),
        }
    }

    /// The register value after this action, or `None` if it is illegal in `state`.
    fn step(self, state: Option<i64>) -> Option<Option<i64>> {
        match self {
            Action::Read(v) => (v == state).then_some(state),
            Action::Write(v) => Some(Some(v)),
            Action::Cas(from, to) => (state == Some(from)).then_some(Some(to)),
        }
    }

    /// The value this action leaves in the register, if it writes.
    fn written(self) -> Option<i64> {
        match self {
            Action::Read(_) => None,
            Action::Write(v) | Action::Cas(_, v) => Some(v),
        }
    }
}

/// An operation that takes part in the search.
#[derive(Debug, Clone, Copy)]
struct Entry<'a> {
    op: &'a Op,
    action: Action,
    /// `true` for `Ok` ops (must be linearized), `false` for `Info` ones.
    required: bool,
}

/// Explains the first acknowledged read or compare-and-set that observed a
/// value no write or compare-and-set of this key could have produced.
fn impossible_value(ops: &[&Op]) -> Option<String> {
    let producible: HashSet<i64> =
        ops.iter().filter(|o| o.outcome != Outcome::Fail).filter_map(|o| Action::of(&o.kind).written()).collect();
    let bad = ops
        .iter()
        .filter(|o| o.outcome == Outcome::Ok)
        .filter_map(|o| {
            let seen = match o.kind {
                OpKind::Read { value: Some(v) } => v,
                OpKind::Cas { from, .. } => from,
                _ => return None,
            };
            (!producible.contains(&seen)).then_some((*o, seen))
        })
        .min_by_key(|(o, _)| (o.complete.max(o.invoke), o.invoke))?;
    let (op, value) = bad;
    let observed = match op.kind {
        OpKind::Cas { .. } => format!("succeeded, so the register held {value}"),
        _ => "returned it".to_string(),
    };
    let mut text =
        format!("{} {observed}, but no write or compare-and-set on this key could have produced {value}", describe(op));
    let failed: Vec<&&Op> =
        ops.iter().filter(|o| o.outcome == Outcome::Fail && Action::of(&o.kind).written() == Some(value)).collect();
    if let Some(f) = failed.first() {
        let _ = write!(text, " (only the {}, which definitely did not take effect)", describe(f));
    }
    Some(text)
}

/// Keeps the operations the search must consider: every `Ok` op, and the
/// `Info` writes / compare-and-sets whose value something could observe.
fn prepare<'a>(ops: &[&'a Op]) -> Vec<Entry<'a>> {
    let required: Vec<Entry<'a>> = ops
        .iter()
        .filter(|o| o.outcome == Outcome::Ok)
        .map(|o| Entry { op: o, action: Action::of(&o.kind), required: true })
        .collect();
    let mut maybe: Vec<Entry<'a>> = ops
        .iter()
        .filter(|o| o.outcome == Outcome::Info && !matches!(o.kind, OpKind::Read { .. }))
        .map(|o| Entry { op: o, action: Action::of(&o.kind), required: false })
        .collect();
    // Values some kept operation could observe: reads, and compare-and-set
    // expectations. Grow to a fixpoint through kept Info compare-and-sets.
    let mut observed: HashSet<i64> = required
        .iter()
        .filter_map(|e| match e.action {
            Action::Read(v) => v,
            Action::Cas(from, _) => Some(from),
            Action::Write(_) => None,
        })
        .collect();
    let mut kept = Vec::new();
    loop {
        let (now, rest): (Vec<Entry<'a>>, Vec<Entry<'a>>) =
            maybe.into_iter().partition(|e| e.action.written().is_some_and(|v| observed.contains(&v)));
        maybe = rest;
        if now.is_empty() {
            break;
        }
        for e in &now {
            if let Action::Cas(from, _) = e.action {
                observed.insert(from);
            }
        }
        kept.extend(now);
    }
    // Required ops in invoke order, so the linearized ones form a dense
    // prefix of the bitset (see [`Linearized::memo_key`]); Info ops after.
    let mut entries = required;
    entries.sort_by_key(|e| (e.op.invoke, e.op.complete));
    entries.extend(kept);
    entries
}

/// The set of linearized entries: one bitset for the required (`Ok`) entries,
/// which come first, and one for the optional (`Info`) ones.
struct Linearized {
    required: usize,
    req: Vec<u64>,
    info: Vec<u64>,
}

impl Linearized {
    fn new(required: usize, total: usize) -> Linearized {
        Linearized { required, req: vec![0; required.div_ceil(64)], info: vec![0; (total - required).div_ceil(64)] }
    }

    fn word_bit(&mut self, i: usize) -> (&mut u64, u64) {
        if i < self.required {
            (&mut self.req[i / 64], 1 << (i % 64))
        } else {
            let j = i - self.required;
            (&mut self.info[j / 64], 1 << (j % 64))
        }
    }

    fn insert(&mut self, i: usize) {
        let (w, b) = self.word_bit(i);
        *w |= b;
    }

    fn remove(&mut self, i: usize) {
        let (w, b) = self.word_bit(i);
        *w &= !b;
    }

    /// A compact, canonical encoding of the set: the number of leading
    /// all-ones words of the required bitset, the Info bitset, then the
    /// required words from the first not-full one up to the last non-zero
    /// one. Required ops are in invoke order and every op invoked well before
    /// the search frontier is linearized, so the stored window stays a few
    /// words wide however long the history is.
    fn memo_key(&self) -> Box<[u64]> {
        let start = self.req.iter().position(|&w| w != u64::MAX).unwrap_or(self.req.len());
        let end = self.req.iter().rposition(|&w| w != 0).map_or(0, |p| p + 1).max(start);
        let mut key = Vec::with_capacity(1 + self.info.len() + end - start);
        key.push(start as u64);
        key.extend_from_slice(&self.info);
        key.extend_from_slice(&self.req[start..end]);
        key.into_boxed_slice()
    }
}

/// End-of-list marker for the event list.
const NIL: usize = usize::MAX;

/// How one search ended.
enum SearchEnd {
    /// Every required op was linearized.
    Found,
    /// No linearization exists. `furthest` is the latest blocking return
    /// node reached; `values` the register values seen there.
    Refuted { furthest: usize, values: BTreeSet<Option<i64>> },
    /// Out of time or memo space; why.
    OutOfBudget(String),
}

/// The search state for one key. Value ids: 0 is `None` (absent), the rest
/// number the values some op observes.
struct Search<'a> {
    entries: Vec<Entry<'a>>,
    /// Event nodes in time order; node 0 is the list head (no event).
    node_op: Vec<usize>,
    node_is_call: Vec<bool>,
    next: Vec<usize>,
    prev: Vec<usize>,
    /// Per entry: its call node and (for required ops) its return node.
    call_node: Vec<usize>,
    return_node: Vec<usize>,
    /// Largest number of operations ever pending at once.
    max_concurrency: usize,
    value_ids: HashMap<i64, usize>,
    /// Per entry: the value id it observes (a read's value, a CAS's `from`).
    observes: Vec<Option<usize>>,
    /// Per entry: the value id it writes, if anything observes that value.
    produces: Vec<Option<usize>>,
    /// Per value id, among entries not yet linearized: observers, required
    /// observers, producers.
    observers: Vec<u32>,
    required_observers: Vec<u32>,
    producers: Vec<u32>,
    /// Per value id: the required entries observing it, by return node.
    observer_list: Vec<Vec<usize>>,
    /// Per entry: linearized now.
    done: Vec<bool>,
    /// Most configurations a run may remember.
    max_memo_entries: usize,
}

/// Which doomed moves (see [`Search::dooms`]) a search skips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prune {
    /// All of them: fastest, but may stop short of the op that fails.
    All,
    /// Only those that cannot reach the furthest point seen so far (which
    /// starts at the given node): as exact as the plain search about the
    /// furthest point, and much faster.
    BeforeFurthest(usize),
}

impl<'a> Search<'a> {
    fn new(entries: Vec<Entry<'a>>, max_memo_entries: usize) -> Search<'a> {
        // (time, is_return, entry): calls sort before returns at equal times,
        // so touching intervals count as concurrent.
        let mut events: Vec<(Nanos, bool, usize)> = Vec::with_capacity(entries.len() * 2);
        for (i, e) in entries.iter().enumerate() {
            events.push((e.op.invoke, false, i));
            if e.required {
                events.push((e.op.complete.max(e.op.invoke), true, i));
            }
        }
        events.sort_unstable();
        let n = events.len() + 1;
        let mut node_op = vec![NIL; n];
        let mut node_is_call = vec![false; n];
        let mut call_node = vec![NIL; entries.len()];
        let mut return_node = vec![NIL; entries.len()];
        let (mut open, mut max_concurrency) = (0usize, 0usize);
        for (k, &(_, is_return, i)) in events.iter().enumerate() {
            let node = k + 1;
            node_op[node] = i;
            node_is_call[node] = !is_return;
            if is_return {
                return_node[i] = node;
                open -= 1;
            } else {
                call_node[i] = node;
                open += 1;
                max_concurrency = max_concurrency.max(open);
            }
        }
        let next = (0..n).map(|k| if k + 1 < n { k + 1 } else { NIL }).collect();
        let prev = (0..n).map(|k| if k == 0 { NIL } else { k - 1 }).collect();

        let mut value_ids = HashMap::new();
        let observed = |e: &Entry| match e.action {
            Action::Read(v) => Some(v),
            Action::Cas(from, _) => Some(Some(from)),
            Action::Write(_) => None,
        };
        let mut observes = Vec::with_capacity(entries.len());
        for e in &entries {
            observes.push(observed(e).map(|v| match v {
                None => 0,
                Some(v) => {
                    let next_id = value_ids.len() + 1;
                    *value_ids.entry(v).or_insert(next_id)
                }
            }));
        }
        let produces: Vec<Option<usize>> =
            entries.iter().map(|e| e.action.written().and_then(|v| value_ids.get(&v).copied())).collect();
        let ids = value_ids.len() + 1;
        let (mut observers, mut required_observers, mut producers) = (vec![0; ids], vec![0; ids], vec![0; ids]);
        let mut observer_list = vec![Vec::new(); ids];
        for (i, e) in entries.iter().enumerate() {
            if let Some(id) = observes[i] {
                observers[id] += 1;
                required_observers[id] += u32::from(e.required);
                if e.required {
                    observer_list[id].push(i);
                }
            }
            if let Some(id) = produces[i] {
                producers[id] += 1;
            }
        }
        for list in &mut observer_list {
            list.sort_unstable_by_key(|&i| return_node[i]);
        }
        let done = vec![false; entries.len()];
        Search {
            entries,
            node_op,
            node_is_call,
            next,
            prev,
            call_node,
            return_node,
            max_concurrency,
            value_ids,
            observes,
            produces,
            observers,
            required_observers,
            producers,
            observer_list,
            done,
            max_memo_entries,
        }
    }

    fn unlink(&mut self, node: usize) {
        let (p, n) = (self.prev[node], self.next[node]);
        self.next[p] = n;
        if n != NIL {
            self.prev[n] = p;
        }
    }

    fn relink(&mut self, node: usize) {
        let (p, n) = (self.prev[node], self.next[node]);
        self.next[p] = node;
        if n != NIL {
            self.prev[n] = node;
        }
    }

    /// Marks entry `i` linearized: removes its events from the list and its
    /// contribution to the per-value counts.
    fn lift(&mut self, i: usize) {
        self.unlink(self.call_node[i]);
        if self.return_node[i] != NIL {
            self.unlink(self.return_node[i]);
        }
        if let Some(id) = self.observes[i] {
            self.observers[id] -= 1;
            self.required_observers[id] -= u32::from(self.entries[i].required);
        }
        if let Some(id) = self.produces[i] {
            self.producers[id] -= 1;
        }
        self.done[i] = true;
    }

    /// Undoes [`Search::lift`]; must be called in reverse order of lifts.
    fn unlift(&mut self, i: usize) {
        if self.return_node[i] != NIL {
            self.relink(self.return_node[i]);
        }
        self.relink(self.call_node[i]);
        if let Some(id) = self.observes[i] {
            self.observers[id] += 1;
            self.required_observers[id] += u32::from(self.entries[i].required);
        }
        if let Some(id) = self.produces[i] {
            self.producers[id] += 1;
        }
        self.done[i] = false;
    }

    fn value_id(&self, v: Option<i64>) -> Option<usize> {
        match v {
            None => Some(0),
            Some(v) => self.value_ids.get(&v).copied(),
        }
    }

    /// Whether applying Info entry `i` is pointless: nothing left can observe
    /// what it writes, so not applying it is at least as good.
    fn pointless(&self, i: usize) -> bool {
        self.produces[i].is_none_or(|id| self.observers[id] == 0)
    }

    /// Whether moving the register from `before` to `after` by applying entry
    /// `i` dooms the search: a required op still has to observe `before`, yet
    /// nothing left can write it again. If so, gives the return node of the
    /// earliest such op, which no search past this move can get beyond.
    fn dooms(&self, i: usize, before: Option<i64>, after: Option<i64>) -> Option<usize> {
        if before == after {
            return None;
        }
        let id = self.value_id(before)?;
        let mut waiting = self.required_observers[id];
        if self.entries[i].required && self.observes[i] == Some(id) {
            waiting -= 1;
        }
        if waiting == 0 || self.producers[id] > 0 {
            return None;
        }
        self.observer_list[id].iter().find(|&&o| o != i && !self.done[o]).map(|&o| self.return_node[o])
    }

    /// Depth-first search for a linearization, for at most `budget` from
    /// `start`, skipping the doomed moves `prune` says to.
    ///
    /// At each configuration the candidates are the ops invoked before the
    /// earliest completion among pending required ops; required ones are
    /// tried before Info ones (which are tried only if something could still
    /// observe their value). Leaves the list and counts as it found them
    /// unless it returns [`SearchEnd::Found`] or [`SearchEnd::OutOfBudget`].
    fn run(&mut self, start: Instant, budget: Duration, prune: Prune) -> SearchEnd {
        let mut remaining = self.entries.iter().filter(|e| e.required).count();
        if remaining == 0 {
            return SearchEnd::Found;
        }
        let mut linearized = Linearized::new(remaining, self.entries.len());
        let mut memo_words = 0usize;
        let mut memo: HashSet<(Box<[u64]>, Option<i64>)> = HashSet::new();
        let mut undo: Vec<(usize, Option<i64>)> = Vec::new();
        let mut state: Option<i64> = None;
        let mut furthest = match prune {
            Prune::All => 0,
            Prune::BeforeFurthest(node) => node,
        };
        let mut values: BTreeSet<Option<i64>> = BTreeSet::new();
        let mut steps: u64 = 0;
        let mut node = self.next[0];
        // First pass over a configuration's candidates tries required ops,
        // the second pass Info ops.
        let mut info_pass = false;
        loop {
            if steps.is_multiple_of(CLOCK_EVERY) && start.elapsed() >= budget {
                return SearchEnd::OutOfBudget(format!(
                    "the search budget of {} ran out after {} {}",
                    seconds(budget.as_nanos().min(u128::from(u64::MAX)) as u64),
                    plural(memo.len(), "configuration", "configurations"),
                    self.shape()
                ));
            }
            steps += 1;
            if node != NIL && self.node_is_call[node] {
                let i = self.node_op[node];
                node = self.next[node];
                let entry = self.entries[i];
                if entry.required == info_pass || (!entry.required && self.pointless(i)) {
                    continue;
                }
                let Some(after) = entry.action.step(state) else { continue };
                if let Some(limit) = self.dooms(i, state, after) {
                    if prune == Prune::All || limit < furthest {
                        continue;
                    }
                }
                linearized.insert(i);
                let key = linearized.memo_key();
                let key_words = key.len();
                if !memo.insert((key, after)) {
                    linearized.remove(i);
                    continue;
                }
                memo_words += key_words;
                if memo.len() >= self.max_memo_entries || memo_words >= MAX_MEMO_WORDS {
                    return SearchEnd::OutOfBudget(format!(
                        "the search reached its memory limit after {} {}",
                        plural(memo.len(), "configuration", "configurations"),
                        self.shape()
                    ));
                }
                undo.push((i, state));
                state = after;
                self.lift(i);
                if entry.required {
                    remaining -= 1;
                    if remaining == 0 {
                        return SearchEnd::Found;
                    }
                }
                node = self.next[0];
                info_pass = false;
                continue;
            }
            if !info_pass {
                info_pass = true;
                node = self.next[0];
                continue;
            }
            // Blocked: no candidate before the earliest pending completion
            // can go next. (`node` is that return node: required ops remain,
            // so their return nodes are still listed.)
            if node != NIL {
                if node > furthest {
                    furthest = node;
                    values.clear();
                }
                if node == furthest && values.len() < MAX_VALUES_KEPT {
                    values.insert(state);
                }
            }
            let Some((i, before)) = undo.pop() else {
                return SearchEnd::Refuted { furthest, values };
            };
            self.unlift(i);
            linearized.remove(i);
            state = before;
            if self.entries[i].required {
                remaining += 1;
            }
            node = self.next[self.call_node[i]];
            info_pass = !self.entries[i].required;
        }
    }

    /// "(N ops, up to M concurrent)".
    fn shape(&self) -> String {
        format!("({}, up to {} concurrent)", plural(self.entries.len(), "op", "ops"), self.max_concurrency)
    }

    /// The op whose completion the search could never get past.
    fn blocker(&self, furthest: usize) -> Option<&'a Op> {
        (furthest != 0 && furthest < self.node_op.len()).then(|| self.entries[self.node_op[furthest]].op)
    }

    /// Explains an exhaustive (unpruned) refutation.
    fn explain(&self, furthest: usize, values: &BTreeSet<Option<i64>>) -> String {
        match self.blocker(furthest) {
            Some(op) => {
                format!("{} cannot follow any order of the preceding ops; {}", describe(op), values_there(values))
            }
            None => "no order of the acknowledged operations is consistent with their results".into(),
        }
    }

    /// Explains a pruned refutation whose exhaustive re-run ran out of budget.
    fn explain_pruned(&self, furthest: usize, values: &BTreeSet<Option<i64>>) -> String {
        let mut text = "no order of the acknowledged operations is consistent with their results".to_string();
        if let Some(op) = self.blocker(furthest) {
            let _ = write!(
                text,
                "; no order that can still succeed got past the {} ({})",
                describe(op),
                values_there(values)
            );
        }
        text.push_str(" (the slower search that names the failing op ran out of budget)");
        text
    }
}

/// "possible register values there were {43, 44}".
fn values_there(values: &BTreeSet<Option<i64>>) -> String {
    let shown: Vec<String> = values.iter().take(MAX_VALUES_SHOWN).map(|v| show_value(*v)).collect();
    match values.len() {
        0 => "no register value was possible there".to_string(),
        1 => format!("the only possible register value there was {}", shown[0]),
        n if n > MAX_VALUES_SHOWN => format!("possible register values there included {{{}, ...}}", shown.join(", ")),
        _ => format!("possible register values there were {{{}}}", shown.join(", ")),
    }
}

/// "read of 42 by process 3 (invoked 12.301 s, completed 12.340 s, on r1)".
fn describe(op: &Op) -> String {
    let what = match op.kind {
        OpKind::Read { value } => format!("read of {}", show_value(value)),
        OpKind::Write { value } => format!("write of {value}"),
        OpKind::Cas { from, to } => format!("compare-and-set from {from} to {to}"),
    };
    let end = match op.outcome {
        Outcome::Ok => "completed",
        Outcome::Fail => "failed",
        Outcome::Info => "gave up",
    };
    format!(
        "{what} by process {} (invoked {}, {end} {}, on {})",
        op.process,
        seconds(op.invoke),
        seconds(op.complete),
        op.replica
    )
}

/// A register value for messages; `None` is "absent".
fn show_value(v: Option<i64>) -> String {
    v.map_or_else(|| "absent".to_string(), |v| v.to_string())
}

/// Nanoseconds as seconds with 3 decimals: "12.301 s".
fn seconds(nanos: Nanos) -> String {
    let ms = nanos / 1_000_000 + u64::from(nanos % 1_000_000 >= 500_000);
    format!("{}.{:03} s", ms / 1000, ms % 1000)
}

/// "4,213".
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "1 op" / "4,213 ops".
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", group_thousands(n as u64), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Record;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const MS: Nanos = 1_000_000;
    const BUDGET: Duration = Duration::from_secs(20);

    fn op(process: u32, kind: OpKind, invoke_ms: u64, complete_ms: u64, outcome: Outcome) -> Op {
        Op {
            process,
            workload: WORKLOAD.into(),
            key: "r0".into(),
            kind,
            invoke: invoke_ms * MS,
            complete: complete_ms * MS,
            outcome,
            replica: format!("r{}", process % 3),
            error: None,
        }
    }
    fn rd(p: u32, value: Option<i64>, a: u64, b: u64) -> Op {
        op(p, OpKind::Read { value }, a, b, Outcome::Ok)
    }
    fn wr(p: u32, value: i64, a: u64, b: u64) -> Op {
        op(p, OpKind::Write { value }, a, b, Outcome::Ok)
    }
    fn cas(p: u32, from: i64, to: i64, a: u64, b: u64) -> Op {
        op(p, OpKind::Cas { from, to }, a, b, Outcome::Ok)
    }
    fn with(mut o: Op, outcome: Outcome) -> Op {
        o.outcome = outcome;
        o
    }
    fn run(ops: &[Op]) -> KeyResult {
        let refs: Vec<&Op> = ops.iter().collect();
        check_key(&refs, BUDGET)
    }
    fn assert_ok(ops: &[Op]) {
        assert_eq!(run(ops), KeyResult::Linearizable, "{ops:#?}");
    }
    fn explanation(ops: &[Op]) -> String {
        match run(ops) {
            KeyResult::NotLinearizable { explanation } => explanation,
            other => panic!("expected NotLinearizable, got {other:?} for {ops:#?}"),
        }
    }

    // ---------- hand-written histories ----------

    #[test]
    fn empty_and_trivial_histories_pass() {
        assert_ok(&[]);
        assert_ok(&[rd(0, None, 0, 1)]);
        assert_ok(&[with(wr(0, 1, 0, 1), Outcome::Fail), with(rd(1, Some(7), 2, 3), Outcome::Info)]);
    }

    #[test]
    fn sequential_history_passes() {
        assert_ok(&[
            rd(0, None, 0, 1),
            wr(0, 1, 2, 3),
            rd(1, Some(1), 4, 5),
            wr(2, 2, 6, 7),
            rd(0, Some(2), 8, 9),
            cas(1, 2, 3, 10, 11),
            rd(2, Some(3), 12, 13),
        ]);
    }

    #[test]
    fn read_absent_after_completed_write_fails() {
        let e = explanation(&[wr(0, 1, 0, 10), rd(1, None, 20, 30)]);
        assert!(e.starts_with("read of absent by process 1"), "{e}");
        assert!(e.contains("the only possible register value there was 1"), "{e}");
    }

    #[test]
    fn concurrent_write_and_read_accept_both_orders() {
        let base = [wr(0, 1, 0, 10), wr(1, 2, 20, 40)];
        for seen in [1, 2] {
            let mut h = base.to_vec();
            h.push(rd(2, Some(seen), 25, 30));
            assert_ok(&h);
        }
        // Touching intervals (complete == invoke) count as concurrent.
        assert_ok(&[wr(0, 1, 0, 10), rd(1, None, 10, 12)]);
    }

    #[test]
    fn concurrent_reads_must_agree_with_one_order() {
        // Reads see 2 then 1 while only one write of each: 1 -> 2 -> 1 impossible.
        let h = [wr(0, 1, 0, 100), wr(1, 2, 0, 100), rd(2, Some(2), 10, 20), rd(3, Some(1), 30, 40)];
        assert!(matches!(run(&h), KeyResult::Linearizable)); // 2 then 1 is fine: order w2 w1
        let h2 = [
            wr(0, 1, 0, 100),
            wr(1, 2, 0, 100),
            rd(2, Some(2), 10, 20),
            rd(3, Some(1), 30, 40),
            rd(4, Some(2), 50, 60),
        ];
        assert!(matches!(run(&h2), KeyResult::NotLinearizable { .. }));
    }

    #[test]
    fn stale_read_fails() {
        let e = explanation(&[wr(0, 1, 0, 10), wr(1, 2, 20, 30), rd(2, Some(1), 40, 50)]);
        assert_eq!(
            e,
            "read of 1 by process 2 (invoked 0.040 s, completed 0.050 s, on r2) cannot follow any order of the \
             preceding ops; the only possible register value there was 2"
        );
    }

    #[test]
    fn read_of_never_written_value_fails() {
        let e = explanation(&[wr(0, 1, 0, 10), rd(1, Some(99), 20, 30)]);
        assert!(e.starts_with("read of 99 by process 1"), "{e}");
        assert!(e.contains("could have produced 99"), "{e}");
    }

    #[test]
    fn info_write_seen_later_passes() {
        // Seen after the client gave up: it took effect late.
        assert_ok(&[wr(0, 1, 0, 10), with(wr(1, 2, 20, 30), Outcome::Info), rd(2, Some(2), 100, 110)]);
        // Seen while pending, then not seen, is impossible (2 cannot be undone).
        let h =
            [wr(0, 1, 0, 10), with(wr(1, 2, 20, 30), Outcome::Info), rd(2, Some(2), 40, 50), rd(2, Some(1), 60, 70)];
        assert!(matches!(run(&h), KeyResult::NotLinearizable { .. }));
        // Seen 1 first, then 2: it took effect between the reads.
        assert_ok(&[
            wr(0, 1, 0, 10),
            with(wr(1, 2, 20, 30), Outcome::Info),
            rd(2, Some(1), 40, 50),
            rd(2, Some(2), 60, 70),
        ]);
    }

    #[test]
    fn info_write_never_seen_passes() {
        assert_ok(&[wr(0, 1, 0, 10), with(wr(1, 2, 20, 30), Outcome::Info), rd(2, Some(1), 100, 110)]);
    }

    #[test]
    fn info_write_cannot_take_effect_before_invoke() {
        let e = explanation(&[rd(0, Some(2), 0, 10), with(wr(1, 2, 20, 30), Outcome::Info)]);
        assert!(e.starts_with("read of 2 by process 0"), "{e}");
        assert!(e.contains("the only possible register value there was absent"), "{e}");
    }

    #[test]
    fn failed_write_that_is_read_fails() {
        let e = explanation(&[wr(0, 1, 0, 10), with(wr(1, 2, 20, 30), Outcome::Fail), rd(2, Some(2), 40, 50)]);
        assert!(e.contains("could have produced 2"), "{e}");
        assert!(e.contains("only the write of 2 by process 1"), "{e}");
        assert!(e.contains("definitely did not take effect"), "{e}");
    }

    #[test]
    fn info_reads_are_ignored() {
        assert_ok(&[
            wr(0, 1, 0, 10),
            with(rd(1, Some(5), 20, 30), Outcome::Info),
            with(rd(1, None, 40, 50), Outcome::Info),
        ]);
    }

    #[test]
    fn cas_semantics() {
        assert_ok(&[wr(0, 1, 0, 10), cas(1, 1, 2, 20, 30), rd(2, Some(2), 40, 50)]);
        // An ok CAS whose expectation cannot hold.
        let e = explanation(&[wr(0, 5, 0, 10), wr(0, 1, 20, 30), cas(1, 5, 6, 40, 50)]);
        assert!(e.starts_with("compare-and-set from 5 to 6 by process 1"), "{e}");
        assert!(e.contains("the only possible register value there was 1"), "{e}");
        // CAS from a value nothing wrote.
        let e = explanation(&[wr(0, 1, 0, 10), cas(1, 9, 6, 40, 50)]);
        assert!(e.contains("succeeded, so the register held 9"), "{e}");
        // CAS on the absent register never succeeds.
        assert!(matches!(run(&[cas(0, 1, 2, 0, 10), wr(1, 1, 20, 30)]), KeyResult::NotLinearizable { .. }));
        // A failed CAS did nothing.
        assert_ok(&[wr(0, 1, 0, 10), with(cas(1, 1, 2, 20, 30), Outcome::Fail), rd(2, Some(1), 40, 50)]);
        // Concurrent CAS chain: 1 -> 2 -> 3 in either interleaving the reads allow.
        assert_ok(&[wr(0, 1, 0, 10), cas(1, 2, 3, 20, 60), cas(2, 1, 2, 25, 50), rd(3, Some(3), 70, 80)]);
        // Two ok CAS from the same value cannot both succeed.
        let h = [wr(0, 1, 0, 10), cas(1, 1, 2, 20, 30), cas(2, 1, 3, 20, 30)];
        assert!(matches!(run(&h), KeyResult::NotLinearizable { .. }));
    }

    #[test]
    fn info_cas_semantics() {
        // Applied late.
        assert_ok(&[
            wr(0, 1, 0, 10),
            with(cas(1, 1, 2, 20, 30), Outcome::Info),
            rd(2, Some(1), 40, 50),
            rd(2, Some(2), 60, 70),
        ]);
        // Chain through two indeterminate CAS.
        assert_ok(&[
            wr(0, 1, 0, 10),
            with(cas(1, 1, 2, 20, 30), Outcome::Info),
            with(cas(2, 2, 3, 20, 30), Outcome::Info),
            rd(3, Some(3), 60, 70),
        ]);
        // Its expectation never held, so its value cannot appear.
        let h = [wr(0, 1, 0, 10), with(cas(1, 7, 8, 20, 30), Outcome::Info), rd(2, Some(8), 40, 50)];
        assert!(matches!(run(&h), KeyResult::NotLinearizable { .. }));
    }

    #[test]
    fn unobserved_info_writes_do_not_blow_up_a_failing_search() {
        // 40 indeterminate writes nobody ever sees, all concurrent, plus a stale read.
        let mut h: Vec<Op> = (0..40).map(|k| with(wr(k + 10, 100 + k as i64, 5, 6), Outcome::Info)).collect();
        h.extend([wr(0, 1, 0, 10), wr(1, 2, 20, 30), rd(2, Some(1), 40, 50)]);
        let started = Instant::now();
        let e = explanation(&h);
        assert!(e.starts_with("read of 1 by process 2"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn long_sequential_history_does_not_overflow() {
        let mut h = Vec::new();
        for k in 0..20_000u64 {
            h.push(wr(0, k as i64, 4 * k, 4 * k + 1));
            h.push(rd(1, Some(k as i64), 4 * k + 2, 4 * k + 3));
        }
        assert_ok(&h);
        // And a failure at the very end is found and named.
        h.push(rd(1, Some(5), 100_000, 100_001));
        let e = explanation(&h);
        assert!(e.starts_with("read of 5 by process 1 (invoked 100.000 s"), "{e}");
        assert!(e.contains("was 19999"), "{e}");
    }

    /// 20 concurrent writes nobody reads, then a read of 50 before anything
    /// wrote 50: refuting it takes every (subset, last write) configuration,
    /// millions of them.
    fn pathological() -> Vec<Op> {
        let mut h: Vec<Op> = (0..20).map(|k| wr(k, k as i64, 0, 100)).collect();
        h.push(rd(30, Some(50), 200, 210));
        h.push(wr(31, 50, 300, 310));
        h
    }

    #[test]
    fn pathological_history_hits_the_memo_limit_not_pass() {
        let h = pathological();
        let refs: Vec<&Op> = h.iter().collect();
        match check_key_limited(&refs, Duration::from_secs(600), 20_000) {
            KeyResult::Unknown { reason } => {
                assert!(
                    reason.starts_with("the search reached its memory limit after 20,000 configurations"),
                    "{reason}"
                )
            }
            other => panic!("expected Unknown, got {other:?}"),
        }
    }

    #[test]
    fn refutation_is_kept_when_naming_the_failing_op_runs_out_of_budget() {
        // A stale read after 20 concurrent writes: the pruned search refutes
        // it at once, but listing every value the register could hold at the
        // read takes millions of configurations.
        let mut h = vec![wr(0, 1, 0, 1)];
        h.extend((0..20).map(|k| wr(k + 1, 100 + k as i64, 10, 100)));
        h.push(rd(30, Some(1), 200, 210));
        let refs: Vec<&Op> = h.iter().collect();
        match check_key(&refs, Duration::from_millis(100)) {
            KeyResult::NotLinearizable { explanation } => {
                assert!(
                    explanation.starts_with("no order of the acknowledged operations is consistent with their results"),
                    "{explanation}"
                );
                assert!(explanation.ends_with("ran out of budget)"), "{explanation}");
            }
            other => panic!("expected NotLinearizable, got {other:?}"),
        }
        // With few concurrent writes the failing read is named.
        let mut h = vec![wr(0, 1, 0, 1)];
        h.extend((0..6).map(|k| wr(k + 1, 100 + k as i64, 10, 100)));
        h.push(rd(30, Some(1), 200, 210));
        let e = explanation(&h);
        assert!(
            e.ends_with("cannot follow any order of the preceding ops; possible register values there were {100, 101, 102, 103, 104, 105}"),
            "{e}"
        );
        assert!(e.starts_with("read of 1 by process 30"), "{e}");
    }

    #[test]
    fn exhausted_budget_is_unknown_not_pass() {
        let h = pathological();
        let refs: Vec<&Op> = h.iter().collect();
        for budget in [Duration::ZERO, Duration::from_millis(1), Duration::from_millis(20)] {
            match check_key(&refs, budget) {
                KeyResult::Unknown { reason } => {
                    assert!(reason.contains("budget"), "{reason}");
                    assert!(reason.contains("22 ops, up to 20 concurrent"), "{reason}");
                }
                other => panic!("budget {budget:?}: expected Unknown, got {other:?}"),
            }
        }
        let history = History { records: h.into_iter().map(Record::Op).collect() };
        let v = check(&history, Duration::from_millis(1));
        assert_eq!(v.status, Status::Unknown);
        assert_eq!(v.checked, "22 ops on 1 key (1 unknown)");
        assert!(v.problems[0].starts_with("key r0: not decided: the search budget of 0.001 s ran out"), "{:?}", v);
    }

    #[test]
    fn zero_budget_still_decides_keys_needing_no_search() {
        let h = [wr(0, 1, 0, 10), rd(1, Some(99), 20, 30)];
        let refs: Vec<&Op> = h.iter().collect();
        assert!(matches!(check_key(&refs, Duration::ZERO), KeyResult::NotLinearizable { .. }));
        let only_failed = [with(wr(0, 1, 0, 10), Outcome::Fail)];
        let refs: Vec<&Op> = only_failed.iter().collect();
        assert_eq!(check_key(&refs, Duration::ZERO), KeyResult::Linearizable);
    }

    // ---------- whole-history verdicts ----------

    fn keyed(mut o: Op, key: &str, workload: &str) -> Record {
        o.key = key.into();
        o.workload = workload.into();
        Record::Op(o)
    }

    #[test]
    fn verdict_groups_keys_and_ignores_other_workloads() {
        let history = History {
            records: vec![
                keyed(wr(0, 1, 0, 10), "a", WORKLOAD),
                keyed(rd(1, Some(1), 20, 30), "a", WORKLOAD),
                keyed(wr(2, 2, 0, 10), "b", WORKLOAD),
                keyed(rd(3, Some(2), 20, 30), "b", WORKLOAD),
                keyed(rd(3, None, 40, 50), "c", WORKLOAD),
                // Would be a stale read on "a" if it counted.
                keyed(rd(3, Some(77), 40, 50), "a", "objects"),
            ],
        };
        let v = check(&history, BUDGET);
        assert_eq!(v, Verdict::pass(CHECKER_NAME, "5 ops on 3 keys".into()));
    }

    #[test]
    fn verdict_explains_failing_key_precisely() {
        let s = |sec: f64| (sec * 1000.0).round() as u64;
        let mut read = rd(3, Some(42), s(12.301), s(12.340));
        read.replica = "r1".into();
        let history = History {
            records: vec![
                keyed(wr(0, 42, 0, s(1.0)), "r17", WORKLOAD),
                keyed(wr(1, 43, s(11.0), s(12.0)), "r17", WORKLOAD),
                keyed(wr(2, 44, s(11.5), s(12.2)), "r17", WORKLOAD),
                keyed(read, "r17", WORKLOAD),
                keyed(wr(0, 1, 0, 10), "r18", WORKLOAD),
            ],
        };
        let v = check(&history, BUDGET);
        assert_eq!(v.status, Status::Fail);
        assert_eq!(v.checker, "linearizable");
        assert_eq!(v.checked, "5 ops on 2 keys");
        assert_eq!(
            v.problems,
            vec!["key r17: no linearization: read of 42 by process 3 (invoked 12.301 s, completed 12.340 s, on r1) \
                  cannot follow any order of the preceding ops; possible register values there were {43, 44}"
                .to_string()]
        );
    }

    #[test]
    fn verdict_with_no_register_ops_is_unknown() {
        let v = check(&History::default(), BUDGET);
        assert_eq!(v.status, Status::Unknown);
        assert_eq!(v.checked, "0 ops on 0 keys");
    }

    #[test]
    fn fail_outranks_unknown() {
        let mut records: Vec<Record> = pathological().into_iter().map(|o| keyed(o, "slow", WORKLOAD)).collect();
        records.push(keyed(wr(0, 1, 0, 10), "bad", WORKLOAD));
        records.push(keyed(rd(0, Some(3), 20, 30), "bad", WORKLOAD));
        let v = check(&History { records }, Duration::from_millis(1));
        assert_eq!(v.status, Status::Fail);
        assert_eq!(v.checked, "24 ops on 2 keys (1 unknown)");
        assert_eq!(v.problems.len(), 2);
        assert!(v.problems[0].starts_with("key bad: no linearization: read of 3"), "{:?}", v.problems);
        assert!(v.problems[1].starts_with("key slow: not decided"), "{:?}", v.problems);
    }

    #[test]
    fn formatting_helpers() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(4213), "4,213");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(seconds(12_301_000_000), "12.301 s");
        assert_eq!(seconds(12_300_600_000), "12.301 s");
        assert_eq!(seconds(999_600_000), "1.000 s");
        assert_eq!(seconds(0), "0.000 s");
        assert_eq!(plural(1, "op", "ops"), "1 op");
        assert_eq!(plural(4213, "op", "ops"), "4,213 ops");
    }

    // ---------- randomized histories ----------

    /// Shape of a generated history.
    struct Shape {
        clients: u32,
        per_client: usize,
        /// Probability an op ends Info / Fail (refused).
        p_info: f64,
        p_fail: f64,
        /// Probability an op is a read / a CAS (else a write).
        p_read: f64,
        p_cas: f64,
        /// Draw written values from 1..=n (repeats!) instead of unique ones.
        repeat_values: Option<i64>,
    }

    /// A history of a real linearizable register: every op that takes effect
    /// does so at a random instant inside its interval (Info ops possibly
    /// long after it), and results are computed in that order.
    fn generate(rng: &mut StdRng, s: &Shape) -> Vec<Op> {
        #[derive(Clone, Copy, PartialEq)]
        enum K {
            R,
            W,
            C,
        }
        struct Plan {
            process: u32,
            kind: K,
            invoke: u64,
            complete: u64,
            outcome: Outcome,
            effect_at: Option<(u64, u64)>,
            value: i64,
            from: i64,
            read: Option<i64>,
        }
        let mut plans = Vec::new();
        let mut next_value = 1i64;
        for c in 0..s.clients {
            let mut t = rng.gen_range(0..20u64);
            for _ in 0..s.per_client {
                let invoke = t;
                let complete = t + rng.gen_range(0..40u64);
                t = complete + rng.gen_range(0..10u64);
                let roll: f64 = rng.gen();
                let kind = if roll < s.p_read {
                    K::R
                } else if roll < s.p_read + s.p_cas {
                    K::C
                } else {
                    K::W
                };
                let roll: f64 = rng.gen();
                let outcome = if roll < s.p_info {
                    Outcome::Info
                } else if roll < s.p_info + s.p_fail {
                    Outcome::Fail
                } else {
                    Outcome::Ok
                };
                let effect_at = match outcome {
                    Outcome::Ok => Some(rng.gen_range(invoke..=complete)),
                    Outcome::Fail => None,
                    Outcome::Info => rng.gen_bool(0.5).then(|| rng.gen_range(invoke..=complete + 100)),
                };
                let value = match s.repeat_values {
                    Some(n) => rng.gen_range(1..=n),
                    None => next_value,
                };
                next_value += 1;
                let from = match s.repeat_values {
                    Some(n) => rng.gen_range(1..=n),
                    None => rng.gen_range(1..=next_value),
                };
                plans.push(Plan {
                    process: c,
                    kind,
                    invoke,
                    complete,
                    outcome,
                    effect_at: effect_at.map(|at| (at, rng.gen())),
                    value,
                    from,
                    read: None,
                });
            }
        }
        let mut order: Vec<usize> = (0..plans.len()).filter(|&i| plans[i].effect_at.is_some()).collect();
        order.sort_by_key(|&i| plans[i].effect_at);
        let mut state: Option<i64> = None;
        for i in order {
            let p = &mut plans[i];
            match p.kind {
                K::R => p.read = state,
                K::W => state = Some(p.value),
                K::C => {
                    if let Some(cur) = state.filter(|_| rng.gen_bool(0.7)) {
                        p.from = cur;
                    }
                    if state == Some(p.from) {
                        state = Some(p.value);
                    } else if p.outcome == Outcome::Ok {
                        p.outcome = Outcome::Fail; // comparison failed
                    }
                }
            }
        }
        plans
            .into_iter()
            .map(|p| {
                let kind = match p.kind {
                    K::R => OpKind::Read { value: if p.outcome == Outcome::Ok { p.read } else { None } },
                    K::W => OpKind::Write { value: p.value },
                    K::C => OpKind::Cas { from: p.from, to: p.value },
                };
                op(p.process, kind, p.invoke, p.complete, p.outcome)
            })
            .collect()
    }

    /// Reference: plain exhaustive search over orders, no memo, no pruning.
    fn brute_force(ops: &[Op]) -> bool {
        struct B {
            action: Action,
            invoke: Nanos,
            complete: Option<Nanos>,
        }
        let items: Vec<B> = ops
            .iter()
            .filter(|o| match o.outcome {
                Outcome::Ok => true,
                Outcome::Info => !matches!(o.kind, OpKind::Read { .. }),
                Outcome::Fail => false,
            })
            .map(|o| B {
                action: Action::of(&o.kind),
                invoke: o.invoke,
                complete: (o.outcome == Outcome::Ok).then_some(o.complete),
            })
            .collect();
        fn go(items: &[B], done: &mut [bool], state: Option<i64>) -> bool {
            if items.iter().zip(done.iter()).all(|(b, d)| *d || b.complete.is_none()) {
                return true;
            }
            for i in 0..items.len() {
                if done[i] {
                    continue;
                }
                let must_wait =
                    items.iter().zip(done.iter()).any(|(b, d)| !*d && b.complete.is_some_and(|c| c < items[i].invoke));
                if must_wait {
                    continue;
                }
                if let Some(after) = items[i].action.step(state) {
                    done[i] = true;
                    if go(items, done, after) {
                        return true;
                    }
                    done[i] = false;
                }
            }
            false
        }
        let mut done = vec![false; items.len()];
        go(&items, &mut done, None)
    }

    fn ok_reads(h: &[Op]) -> Vec<usize> {
        (0..h.len()).filter(|&i| h[i].outcome == Outcome::Ok && matches!(h[i].kind, OpKind::Read { .. })).collect()
    }

    fn written_values(h: &[Op]) -> Vec<i64> {
        h.iter().filter_map(|o| Action::of(&o.kind).written()).collect()
    }

    fn small_shape() -> Shape {
        Shape { clients: 3, per_client: 3, p_info: 0.2, p_fail: 0.1, p_read: 0.4, p_cas: 0.3, repeat_values: None }
    }

    /// Small shapes the brute-force reference can handle.
    fn small_shapes() -> Vec<Shape> {
        vec![
            small_shape(),
            // Mostly indeterminate ops.
            Shape { clients: 3, per_client: 3, p_info: 0.5, p_fail: 0.1, p_read: 0.4, p_cas: 0.3, repeat_values: None },
            // Repeated values: several writes of the same value.
            Shape {
                clients: 3,
                per_client: 3,
                p_info: 0.3,
                p_fail: 0.1,
                p_read: 0.4,
                p_cas: 0.3,
                repeat_values: Some(3),
            },
            // More clients, shorter runs.
            Shape {
                clients: 5,
                per_client: 2,
                p_info: 0.3,
                p_fail: 0.1,
                p_read: 0.4,
                p_cas: 0.2,
                repeat_values: Some(4),
            },
        ]
    }

    #[test]
    fn generated_small_histories_pass_and_match_brute_force() {
        for (k, shape) in small_shapes().iter().enumerate() {
            for seed in 0..300 {
                let mut rng = StdRng::seed_from_u64(seed + 100_000 * k as u64);
                let h = generate(&mut rng, shape);
                assert!(brute_force(&h), "shape {k} seed {seed}: generator produced a non-linearizable history");
                assert_eq!(run(&h), KeyResult::Linearizable, "shape {k} seed {seed}: {h:#?}");
            }
        }
    }

    #[test]
    fn mutated_small_histories_agree_with_brute_force() {
        for (k, shape) in small_shapes().iter().enumerate() {
            let (mut flagged, mut mutated) = (0, 0);
            for seed in 0..400 {
                let mut rng = StdRng::seed_from_u64(1_000 + seed + 100_000 * k as u64);
                let mut h = generate(&mut rng, shape);
                let reads = ok_reads(&h);
                if reads.is_empty() {
                    continue;
                }
                let i = reads[rng.gen_range(0..reads.len())];
                let mut choices: Vec<Option<i64>> = written_values(&h).into_iter().map(Some).collect();
                choices.push(None);
                let new = choices[rng.gen_range(0..choices.len())];
                let OpKind::Read { value } = &mut h[i].kind else { unreachable!() };
                if *value == new {
                    continue;
                }
                *value = new;
                mutated += 1;
                let expected = brute_force(&h);
                match run(&h) {
                    KeyResult::Linearizable => assert!(expected, "shape {k} seed {seed}: accepted invalid {h:#?}"),
                    KeyResult::NotLinearizable { explanation } => {
                        assert!(!expected, "shape {k} seed {seed}: rejected valid {h:#?}: {explanation}");
                        flagged += 1;
                    }
                    KeyResult::Unknown { reason } => panic!("shape {k} seed {seed}: unknown: {reason}"),
                }
            }
            assert!(mutated > 150, "shape {k}: only {mutated} mutations");
            assert!(flagged > mutated / 4, "shape {k}: {flagged} of {mutated} flagged");
        }
    }

    #[test]
    fn many_indeterminate_ops_stay_decidable() {
        let shape = Shape {
            clients: 20,
            per_client: 15,
            p_info: 0.3,
            p_fail: 0.05,
            p_read: 0.5,
            p_cas: 0.2,
            repeat_values: None,
        };
        for seed in 0..15 {
            let mut rng = StdRng::seed_from_u64(20_000 + seed);
            let original = generate(&mut rng, &shape);
            assert_eq!(run(&original), KeyResult::Linearizable, "seed {seed}");
            let reads = ok_reads(&original);
            let written = written_values(&original);
            let mut h = original.clone();
            let i = reads[rng.gen_range(0..reads.len())];
            h[i].kind = OpKind::Read { value: Some(written[rng.gen_range(0..written.len())]) };
            let result = run(&h);
            assert!(!matches!(result, KeyResult::Unknown { .. }), "seed {seed}: {result:?}");
        }
    }

    fn large_shape() -> Shape {
        Shape { clients: 10, per_client: 30, p_info: 0.05, p_fail: 0.05, p_read: 0.5, p_cas: 0.2, repeat_values: None }
    }

    #[test]
    fn generated_large_histories_pass_quickly() {
        for seed in 0..40 {
            let mut rng = StdRng::seed_from_u64(5_000 + seed);
            let h = generate(&mut rng, &large_shape());
            let started = Instant::now();
            assert_eq!(run(&h), KeyResult::Linearizable, "seed {seed}");
            assert!(started.elapsed() < Duration::from_secs(5), "seed {seed} took {:?}", started.elapsed());
        }
    }

    #[test]
    fn mutated_large_histories_are_flagged() {
        let (mut flagged, mut mutated) = (0, 0);
        for seed in 0..40 {
            let mut rng = StdRng::seed_from_u64(9_000 + seed);
            let original = generate(&mut rng, &large_shape());
            let reads = ok_reads(&original);
            let written = written_values(&original);
            // A value nobody wrote: always invalid.
            let mut h = original.clone();
            h[reads[rng.gen_range(0..reads.len())]].kind = OpKind::Read { value: Some(-5) };
            assert!(matches!(run(&h), KeyResult::NotLinearizable { .. }), "seed {seed}");
            // Some other written value: usually invalid in a long history.
            let mut h = original.clone();
            let i = reads[rng.gen_range(0..reads.len())];
            let new = Some(written[rng.gen_range(0..written.len())]);
            if h[i].kind == (OpKind::Read { value: new }) {
                continue;
            }
            h[i].kind = OpKind::Read { value: new };
            mutated += 1;
            match run(&h) {
                KeyResult::NotLinearizable { .. } => flagged += 1,
                KeyResult::Linearizable => {}
                KeyResult::Unknown { reason } => panic!("seed {seed}: unknown: {reason}"),
            }
        }
        assert!(flagged * 10 >= mutated * 7, "{flagged} of {mutated} flagged");
    }

    /// Timing survey over harder shapes (`cargo test --release -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn survey_timing() {
        for (p_info, clients, per) in [(0.05, 10, 30), (0.2, 10, 30), (0.4, 10, 30), (0.2, 10, 100), (0.3, 20, 15)] {
            let shape =
                Shape { clients, per_client: per, p_info, p_fail: 0.05, p_read: 0.5, p_cas: 0.2, repeat_values: None };
            let (mut worst_ok, mut worst_bad, mut unknown, mut bad) = (Duration::ZERO, Duration::ZERO, 0, 0);
            for seed in 0..200 {
                let mut rng = StdRng::seed_from_u64(seed);
                let mut h = generate(&mut rng, &shape);
                let t = Instant::now();
                assert_eq!(run(&h), KeyResult::Linearizable, "seed {seed}");
                worst_ok = worst_ok.max(t.elapsed());
                let reads = ok_reads(&h);
                let written = written_values(&h);
                let i = reads[rng.gen_range(0..reads.len())];
                h[i].kind = OpKind::Read { value: Some(written[rng.gen_range(0..written.len())]) };
                let t = Instant::now();
                let refs: Vec<&Op> = h.iter().collect();
                match check_key(&refs, Duration::from_secs(5)) {
                    KeyResult::Unknown { .. } => unknown += 1,
                    KeyResult::NotLinearizable { .. } => bad += 1,
                    KeyResult::Linearizable => {}
                }
                worst_bad = worst_bad.max(t.elapsed());
            }
            eprintln!(
                "info {p_info} {clients}x{per}: worst pass {worst_ok:?}, worst mutated {worst_bad:?}, \
                 {bad} of 200 mutated flagged, {unknown} unknown"
            );
        }
    }
}
