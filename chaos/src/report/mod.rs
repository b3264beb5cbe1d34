//! Rendering a checked chaos run for people: a plain-text summary
//! ([`summary::text`]) and a self-contained HTML page with an SVG timeline
//! ([`html::page`]).
//!
//! Guarantees:
//! - Every function here is pure: it reads a [`History`](crate::history::History)
//!   and the checkers' [`Verdict`](crate::verdict::Verdict)s and returns data or a
//!   `String`; nothing touches files, the clock or the network.
//! - Output is deterministic for a given input (maps are ordered, no randomness).
//! - All text taken from the history or the verdicts is HTML-escaped in the page
//!   ([`escape_html`]), and the page loads nothing from outside itself.

pub mod html;
pub mod summary;
pub mod unavailability;

pub use html::page;
pub use summary::text;

use crate::history::Nanos;

/// Escapes `s` for use as HTML/SVG text or inside a double- or single-quoted
/// attribute value (`&`, `<`, `>`, `"` and `'` become character references).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Formats nanoseconds as seconds with exactly three decimals, rounded to the
/// nearest millisecond (`1_250_000_000` → `"1.250"`).
pub fn secs(ns: Nanos) -> String {
    let ms = ns / 1_000_000 + u64::from(ns % 1_000_000 >= 500_000);
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Formats a count with `,` between groups of three digits (`12345` → `"12,345"`).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Appends formatted text to a `String` (writing to a `String` cannot fail).
macro_rules! out {
    ($dst:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = write!($dst, $($arg)*);
    }};
}
pub(crate) use out;

#[cfg(test)]
pub(crate) mod testutil {
    //! Builders for synthetic histories.

    use crate::history::{Fault, LeaderObs, Op, OpKind, Outcome, Record, WatchObs, WatchSource};

    /// Milliseconds to nanoseconds.
    pub fn ms(v: u64) -> u64 {
        v * 1_000_000
    }

    /// A register write op; times in ms.
    pub fn op(process: u32, workload: &str, key: &str, invoke: u64, complete: u64, outcome: Outcome) -> Record {
        let error = if outcome == Outcome::Ok { None } else { Some("unavailable: no leader".to_string()) };
        Record::Op(Op {
            process,
            workload: workload.into(),
            key: key.into(),
            kind: OpKind::Write { value: (invoke * 7 + u64::from(process)) as i64 },
            invoke: ms(invoke),
            complete: ms(complete),
            outcome,
            replica: format!("r{}", process % 3),
            error,
        })
    }

    /// A fault; times in ms.
    pub fn fault(kind: &str, start: u64, end: Option<u64>) -> Record {
        Record::Fault(Fault {
            kind: kind.into(),
            detail: format!("{kind} at {start} ms"),
            targets: vec!["r1".into()],
            start: ms(start),
            end: end.map(ms),
        })
    }

    /// A leader observation; time in ms.
    pub fn leader(at: u64, observer: &str, term: u64, leader: Option<&str>) -> Record {
        Record::Leader(LeaderObs { at: ms(at), observer: observer.into(), term, leader: leader.map(Into::into) })
    }

    /// A store watch event; time in ms.
    pub fn watch(watcher: u32, at: u64, revision: i64, key: &str) -> Record {
        Record::Watch(WatchObs {
            watcher,
            source: WatchSource::Store,
            replica: "r0".into(),
            at: ms(at),
            revision,
            key: key.into(),
            event: "put".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_all_special_characters() {
        assert_eq!(escape_html(r#"a<&>"'b"#), "a&lt;&amp;&gt;&quot;&#39;b");
        assert_eq!(escape_html("plain é"), "plain é");
    }

    #[test]
    fn seconds_have_three_decimals_and_round() {
        assert_eq!(secs(1_250_000_000), "1.250");
        assert_eq!(secs(0), "0.000");
        assert_eq!(secs(999_600_000), "1.000");
        assert_eq!(secs(12_345_499_999), "12.345");
        assert_eq!(secs(12_345_500_000), "12.346");
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12_345), "12,345");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
