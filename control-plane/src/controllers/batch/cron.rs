//! Standard five-field cron schedules (`minute hour day-of-month month day-of-week`).
//!
//! Guarantees:
//! - [`Schedule::parse`] accepts `*`, `?` (same as `*`), single values, lists (`1,5,9`), ranges
//!   (`1-5`), steps (`*/5`, `1-10/2`, `5/15` = from 5 to the field maximum), month names
//!   (`JAN`..`DEC`) and weekday names (`SUN`..`SAT`) in any case, `7` as Sunday, and the macros
//!   `@yearly @annually @monthly @weekly @daily @midnight @hourly`, and `@every <Go duration>` (a
//!   constant delay, whole seconds, at least one, as the cron library Kubernetes uses does).
//!   Anything else is rejected with
//!   a [`CronError`] saying which field is wrong and why. A `CRON_TZ=`/`TZ=` prefix is rejected,
//!   as the Kubernetes API server rejects it in `spec.schedule`: the zone comes from
//!   `spec.timeZone` (see [`parse_time_zone`]).
//! - Day-of-month and day-of-week: when both are restricted (neither is `*`/`?`, a stepped star
//!   such as `*/2` counts as restricted), a day matches if EITHER matches; otherwise both must.
//! - [`Schedule::next_after`] returns the first matching wall-clock minute strictly after `t`, in
//!   `t`'s time zone, searching at most five years ahead (`None` past that, e.g. `0 0 30 2 *`).
//!   Daylight saving: a wall-clock time skipped by a spring-forward does not fire that day; a wall
//!   clock time repeated by a fall-back fires once, at its first occurrence.
//! - Time zones: [`parse_time_zone`] maps `spec.timeZone` (IANA names such as "Europe/Berlin") to
//!   a zone; no zone means UTC. (Upstream defaults to the controller's local zone; Helmsman
//!   chooses UTC so that a schedule means the same thing on every machine.)

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;
use thiserror::Error;

/// How far ahead [`Schedule::next_after`] searches before giving up.
const SEARCH_HORIZON_DAYS: i64 = 5 * 366;

/// Why a schedule or a time zone was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CronError {
    /// The schedule is empty or only whitespace.
    #[error("empty schedule")]
    Empty,
    /// Not exactly five fields.
    #[error("expected exactly 5 fields (minute hour day-of-month month day-of-week), found {0}")]
    FieldCount(usize),
    /// An `@...` macro that is not one of the supported ones.
    #[error("unrecognized descriptor {0:?} (supported: @yearly @annually @monthly @weekly @daily @midnight @hourly)")]
    UnknownDescriptor(String),
    /// One field could not be parsed or is out of range.
    #[error("invalid {field} field {value:?}: {reason}")]
    InvalidField {
        /// Which field: "minute", "hour", "day-of-month", "month" or "day-of-week".
        field: &'static str,
        /// The offending text.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The schedule starts with `CRON_TZ=` or `TZ=`.
    #[error("cannot use TZ or CRON_TZ in schedule, use the timeZone field instead")]
    TimeZoneInSchedule,
    /// `spec.timeZone` names no known IANA time zone.
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
}

impl CronError {
    /// The Kubernetes event reason the runner should record for this error
    /// ("UnknownTimeZone" or "UnparseableSchedule").
    pub fn event_reason(&self) -> &'static str {
        match self {
            CronError::UnknownTimeZone(_) => "UnknownTimeZone",
            _ => "UnparseableSchedule",
        }
    }
}

/// Resolves `spec.timeZone`: `None` is UTC, otherwise an IANA zone name such as "Europe/Berlin".
pub fn parse_time_zone(name: Option<&str>) -> Result<Tz, CronError> {
    match name {
        None => Ok(Tz::UTC),
        Some(n) => n.parse::<Tz>().map_err(|_| CronError::UnknownTimeZone(n.to_string())),
    }
}

/// The shape of one cron field.
struct FieldSpec {
    name: &'static str,
    min: u32,
    /// Largest value `*` and open-ended steps expand to.
    max: u32,
    /// Largest value accepted when written explicitly (7 for day-of-week, folded to 0).
    explicit_max: u32,
    /// Names for `min`, `min + 1`, ...
    names: &'static [&'static str],
}

const MONTH_NAMES: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const MINUTE: FieldSpec = FieldSpec { name: "minute", min: 0, max: 59, explicit_max: 59, names: &[] };
const HOUR: FieldSpec = FieldSpec { name: "hour", min: 0, max: 23, explicit_max: 23, names: &[] };
const DOM: FieldSpec = FieldSpec { name: "day-of-month", min: 1, max: 31, explicit_max: 31, names: &[] };
const MONTH: FieldSpec = FieldSpec { name: "month", min: 1, max: 12, explicit_max: 12, names: &MONTH_NAMES };
const DOW: FieldSpec = FieldSpec { name: "day-of-week", min: 0, max: 6, explicit_max: 7, names: &DAY_NAMES };

/// One parsed field: the set of allowed values as bits, and whether it was an unrestricted `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Field {
    bits: u64,
    star: bool,
}

impl Field {
    fn has(self, v: u32) -> bool {
        v < 64 && self.bits & (1u64 << v) != 0
    }
}

/// A parsed cron schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    minute: Field,
    hour: Field,
    dom: Field,
    month: Field,
    dow: Field,
    /// `@every <duration>`: a constant delay (whole seconds, at least one)
    /// instead of the fields.
    every: Option<Duration>,
}

impl Schedule {
    /// Parses a five-field cron expression or a macro such as `@daily`.
    pub fn parse(spec: &str) -> Result<Schedule, CronError> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(CronError::Empty);
        }
        if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
            return Err(CronError::TimeZoneInSchedule);
        }
        if let Some(d) = spec.strip_prefix("@every ") {
            let nanos = crate::registry::validation::parse_go_duration(d.trim())
                .map_err(|_| CronError::UnknownDescriptor(spec.to_string()))?;
            let secs = i64::try_from(nanos / 1_000_000_000).unwrap_or(i64::MAX).max(1);
            let none = Field { bits: 0, star: false };
            return Ok(Schedule {
                minute: none,
                hour: none,
                dom: none,
                month: none,
                dow: none,
                every: Some(Duration::seconds(secs)),
            });
        }
        let expanded = if spec.starts_with('@') { expand_macro(spec)? } else { spec };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let [m, h, dom, mon, dow] = fields.as_slice() else {
            return Err(CronError::FieldCount(fields.len()));
        };
        Ok(Schedule {
            minute: parse_field(m, &MINUTE)?,
            hour: parse_field(h, &HOUR)?,
            dom: parse_field(dom, &DOM)?,
            month: parse_field(mon, &MONTH)?,
            dow: parse_field(dow, &DOW)?,
            every: None,
        })
    }

    /// The first matching wall-clock minute strictly after `t`, in `t`'s time zone, or `None`
    /// when nothing matches within five years. Skipped (spring-forward) local times never fire;
    /// repeated (fall-back) local times fire once, at their first occurrence.
    pub fn next_after<Z: TimeZone>(&self, t: DateTime<Z>) -> Option<DateTime<Z>> {
        if let Some(every) = self.every {
            // As the cron library Kubernetes uses: `t` + the delay, to the second.
            let whole = t.clone().checked_sub_signed(Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos())))?;
            return whole.checked_add_signed(every);
        }
        let zone = t.timezone();
        let local = t.naive_local();
        let limit = local.checked_add_signed(Duration::days(SEARCH_HORIZON_DAYS))?;
        let mut cursor = truncate_to_minute(local)?.checked_add_signed(Duration::minutes(1))?;
        loop {
            let candidate = self.next_naive(cursor, limit)?;
            let resolved = match zone.from_local_datetime(&candidate) {
                LocalResult::Single(dt) => Some(dt),
                LocalResult::Ambiguous(a, b) => Some(if a <= b { a } else { b }),
                LocalResult::None => None,
            };
            if let Some(dt) = resolved.filter(|dt| *dt > t) {
                return Some(dt);
            }
            cursor = candidate.checked_add_signed(Duration::minutes(1))?;
        }
    }

    /// The first matching naive (wall-clock) minute at or after `start`, up to `limit`.
    fn next_naive(&self, start: NaiveDateTime, limit: NaiveDateTime) -> Option<NaiveDateTime> {
        let mut t = start;
        while t <= limit {
            t = if !self.month.has(t.month()) {
                start_of_next_month(t.date())?
            } else if !self.day_matches(t.date()) {
                t.date().succ_opt()?.and_hms_opt(0, 0, 0)?
            } else if !self.hour.has(t.hour()) {
                t.date().and_hms_opt(t.hour(), 0, 0)?.checked_add_signed(Duration::hours(1))?
            } else if !self.minute.has(t.minute()) {
                t.checked_add_signed(Duration::minutes(1))?
            } else {
                return Some(t);
            };
        }
        None
    }

    /// Day-of-month / day-of-week rule: OR when both are restricted, AND otherwise.
    fn day_matches(&self, date: NaiveDate) -> bool {
        let dom_ok = self.dom.has(date.day());
        let dow_ok = self.dow.has(date.weekday().num_days_from_sunday());
        if self.dom.star || self.dow.star {
            dom_ok && dow_ok
        } else {
            dom_ok || dow_ok
        }
    }
}

fn expand_macro(spec: &str) -> Result<&'static str, CronError> {
    match spec.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => Ok("0 0 1 1 *"),
        "@monthly" => Ok("0 0 1 * *"),
        "@weekly" => Ok("0 0 * * 0"),
        "@daily" | "@midnight" => Ok("0 0 * * *"),
        "@hourly" => Ok("0 * * * *"),
        _ => Err(CronError::UnknownDescriptor(spec.to_string())),
    }
}

fn truncate_to_minute(t: NaiveDateTime) -> Option<NaiveDateTime> {
    t.date().and_hms_opt(t.hour(), t.minute(), 0)
}

fn start_of_next_month(d: NaiveDate) -> Option<NaiveDateTime> {
    let (y, m) = if d.month() == 12 { (d.year().checked_add(1)?, 1) } else { (d.year(), d.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1)?.and_hms_opt(0, 0, 0)
}

fn parse_field(text: &str, spec: &FieldSpec) -> Result<Field, CronError> {
    let mut field = Field { bits: 0, star: false };
    for part in text.split(',') {
        let one = parse_part(part, spec).map_err(|reason| CronError::InvalidField {
            field: spec.name,
            value: text.to_string(),
            reason,
        })?;
        field.bits |= one.bits;
        field.star |= one.star;
    }
    Ok(field)
}

/// Parses one list element: `*`, `?`, `v`, `a-b`, each optionally followed by `/step`.
fn parse_part(part: &str, spec: &FieldSpec) -> Result<Field, String> {
    let (range, step) = match part.split_once('/') {
        Some((r, s)) => (r, Some(parse_number(s).ok_or_else(|| format!("bad step {s:?}"))?)),
        None => (part, None),
    };
    if step == Some(0) {
        return Err("step must be at least 1".to_string());
    }
    let is_star = range == "*" || range == "?";
    let (lo, hi) = if is_star {
        (spec.min, spec.max)
    } else if let Some((a, b)) = range.split_once('-') {
        (parse_value(a, spec)?, parse_value(b, spec)?)
    } else {
        let v = parse_value(range, spec)?;
        (v, if step.is_some() { spec.max.max(v) } else { v })
    };
    if lo > hi {
        return Err(format!("range start {lo} is after range end {hi}"));
    }
    let step = step.unwrap_or(1);
    let bits = (lo..=hi).step_by(step as usize).fold(0u64, |acc, v| acc | (1u64 << fold_value(v, spec)));
    Ok(Field { bits, star: is_star && step == 1 })
}

/// Day-of-week 7 is Sunday (0); other fields are unchanged.
fn fold_value(v: u32, spec: &FieldSpec) -> u32 {
    if spec.explicit_max > spec.max && v > spec.max {
        spec.min
    } else {
        v
    }
}

fn parse_value(text: &str, spec: &FieldSpec) -> Result<u32, String> {
    if text.is_empty() {
        return Err("empty value".to_string());
    }
    let named = spec.names.iter().position(|n| n.eq_ignore_ascii_case(text));
    let v = match (named, parse_number(text)) {
        (Some(i), _) => spec.min + i as u32,
        (None, Some(v)) => v,
        (None, None) => return Err(format!("{text:?} is not a number or a known name")),
    };
    if v < spec.min || v > spec.explicit_max {
        return Err(format!("{v} is out of range {}-{}", spec.min, spec.explicit_max));
    }
    Ok(v)
}

fn parse_number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > 4 {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use chrono_tz::{America::New_York, Europe::Berlin};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).expect("test time")
    }

    fn sched(s: &str) -> Schedule {
        Schedule::parse(s).expect("test schedule")
    }

    fn next_utc(s: &str, after: &str) -> String {
        sched(s).next_after(utc(after)).map(|t| t.to_rfc3339()).unwrap_or_default()
    }

    /// The next `n` fire times in `tz`, formatted with offsets.
    fn fires_in<Z: TimeZone>(s: &str, mut t: DateTime<Z>, n: usize) -> Vec<String>
    where
        Z::Offset: std::fmt::Display,
    {
        let schedule = sched(s);
        let mut out = Vec::new();
        for _ in 0..n {
            match schedule.next_after(t.clone()) {
                Some(next) => {
                    out.push(next.to_rfc3339());
                    t = next;
                }
                None => break,
            }
        }
        out
    }

    #[test]
    fn star_fires_next_minute_strictly_after() {
        assert_eq!(next_utc("* * * * *", "2024-03-01T10:00:00Z"), "2024-03-01T10:01:00+00:00");
        assert_eq!(next_utc("* * * * *", "2024-03-01T10:00:59.9Z"), "2024-03-01T10:01:00+00:00");
    }

    #[test]
    fn lists_ranges_and_steps() {
        assert_eq!(fires_in("*/20 * * * *", utc("2024-01-01T00:00:00Z"), 3).len(), 3);
        assert_eq!(
            fires_in("*/20 * * * *", utc("2024-01-01T00:00:00Z"), 3),
            ["2024-01-01T00:20:00+00:00", "2024-01-01T00:40:00+00:00", "2024-01-01T01:00:00+00:00"]
        );
        assert_eq!(
            fires_in("1-10/4 * * * *", utc("2024-01-01T00:00:00Z"), 4),
            [
                "2024-01-01T00:01:00+00:00",
                "2024-01-01T00:05:00+00:00",
                "2024-01-01T00:09:00+00:00",
                "2024-01-01T01:01:00+00:00"
            ]
        );
        assert_eq!(
            fires_in("5,50 9-10 * * *", utc("2024-01-01T09:10:00Z"), 3),
            ["2024-01-01T09:50:00+00:00", "2024-01-01T10:05:00+00:00", "2024-01-01T10:50:00+00:00"]
        );
        assert_eq!(next_utc("45/10 * * * *", "2024-01-01T00:50:00Z"), "2024-01-01T00:55:00+00:00");
        assert_eq!(next_utc("45/10 * * * *", "2024-01-01T00:56:00Z"), "2024-01-01T01:45:00+00:00");
    }

    #[test]
    fn month_and_weekday_names_any_case() {
        assert_eq!(sched("0 0 1 jan,Jul *"), sched("0 0 1 1,7 *"));
        assert_eq!(sched("0 0 * * MON-fri"), sched("0 0 * * 1-5"));
        assert_eq!(next_utc("0 12 * * SAT", "2024-05-01T00:00:00Z"), "2024-05-04T12:00:00+00:00");
    }

    #[test]
    fn seven_is_sunday_and_question_mark_is_star() {
        assert_eq!(sched("0 0 * * 7"), sched("0 0 * * 0"));
        assert_eq!(sched("0 0 * * 5-7"), sched("0 0 * * 0,5,6"));
        assert_eq!(sched("0 0 ? * *"), sched("0 0 * * *"));
        assert_eq!(next_utc("0 0 * * 7", "2024-05-01T00:00:00Z"), "2024-05-05T00:00:00+00:00");
    }

    #[test]
    fn macros() {
        assert_eq!(sched("@yearly"), sched("0 0 1 1 *"));
        assert_eq!(sched("@annually"), sched("0 0 1 1 *"));
        assert_eq!(sched("@monthly"), sched("0 0 1 * *"));
        assert_eq!(sched("@weekly"), sched("0 0 * * 0"));
        assert_eq!(sched("@daily"), sched("0 0 * * *"));
        assert_eq!(sched("@midnight"), sched("0 0 * * *"));
        assert_eq!(sched("@hourly"), sched("0 * * * *"));
        assert_eq!(next_utc("@hourly", "2024-01-01T10:00:00Z"), "2024-01-01T11:00:00+00:00");
    }

    #[test]
    fn bad_specs_rejected_with_clear_errors() {
        assert_eq!(Schedule::parse(""), Err(CronError::Empty));
        assert_eq!(Schedule::parse("* * * *"), Err(CronError::FieldCount(4)));
        assert_eq!(Schedule::parse("0 * * * * *"), Err(CronError::FieldCount(6)));
        assert_eq!(Schedule::parse("@every 5x"), Err(CronError::UnknownDescriptor("@every 5x".into())));
        let every = Schedule::parse("@every 1h30m").expect("@every parses");
        assert_eq!(every.next_after(utc("2024-01-01T00:00:00Z")), Some(utc("2024-01-01T01:30:00Z")));
        let tiny = Schedule::parse("@every 10ms").expect("@every parses");
        assert_eq!(tiny.next_after(utc("2024-01-01T00:00:00Z")), Some(utc("2024-01-01T00:00:01Z")), "at least 1 s");
        assert_eq!(Schedule::parse("CRON_TZ=UTC 0 * * * *"), Err(CronError::TimeZoneInSchedule));
        assert_eq!(Schedule::parse("TZ=Europe/Berlin 0 * * * *"), Err(CronError::TimeZoneInSchedule));
        let cases = [
            ("60 * * * *", "minute", "60 is out of range 0-59"),
            ("* 24 * * *", "hour", "24 is out of range 0-23"),
            ("* * 0 * *", "day-of-month", "0 is out of range 1-31"),
            ("* * * 13 *", "month", "13 is out of range 1-12"),
            ("* * * * 8", "day-of-week", "8 is out of range 0-7"),
            ("*/0 * * * *", "minute", "step must be at least 1"),
            ("5-1 * * * *", "minute", "range start 5 is after range end 1"),
            ("* * * FOO *", "month", "\"FOO\" is not a number or a known name"),
            ("* * * * MON-", "day-of-week", "empty value"),
            ("1,,2 * * * *", "minute", "empty value"),
            ("*/x * * * *", "minute", "bad step \"x\""),
        ];
        for (spec, field, reason) in cases {
            match Schedule::parse(spec) {
                Err(CronError::InvalidField { field: f, reason: r, .. }) => {
                    assert_eq!((f, r.as_str()), (field, reason), "{spec}");
                }
                other => panic!("{spec}: expected InvalidField, got {other:?}"),
            }
        }
        let msg = Schedule::parse("* 24 * * *").err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(msg, "invalid hour field \"24\": 24 is out of range 0-23");
    }

    #[test]
    fn month_ends_and_leap_years() {
        assert_eq!(next_utc("0 0 31 * *", "2024-04-01T00:00:00Z"), "2024-05-31T00:00:00+00:00");
        assert_eq!(next_utc("0 0 29 2 *", "2023-03-01T00:00:00Z"), "2024-02-29T00:00:00+00:00");
        assert_eq!(next_utc("0 0 29 2 *", "2024-02-29T00:00:00Z"), "2028-02-29T00:00:00+00:00");
        assert_eq!(next_utc("59 23 * * *", "2023-12-31T23:59:00Z"), "2024-01-01T23:59:00+00:00");
        assert_eq!(next_utc("0 0 1 * *", "2023-12-15T00:00:00Z"), "2024-01-01T00:00:00+00:00");
        assert_eq!(Schedule::parse("0 0 30 2 *").map(|s| s.next_after(utc("2024-01-01T00:00:00Z"))), Ok(None));
    }

    #[test]
    fn dom_dow_or_rule_when_both_restricted() {
        // 13th of the month OR any Friday.
        assert_eq!(
            fires_in("0 0 13 * 5", utc("2024-09-01T00:00:00Z"), 4),
            [
                "2024-09-06T00:00:00+00:00",
                "2024-09-13T00:00:00+00:00",
                "2024-09-20T00:00:00+00:00",
                "2024-09-27T00:00:00+00:00"
            ]
        );
        // Only the day-of-week restricted: AND with `*`, i.e. just Fridays.
        assert_eq!(next_utc("0 0 * * 5", "2024-09-06T00:00:00Z"), "2024-09-13T00:00:00+00:00");
        // A stepped star counts as restricted: day 1,3,5.. OR Monday.
        assert_eq!(next_utc("0 0 */2 * 1", "2024-09-01T00:00:00Z"), "2024-09-02T00:00:00+00:00");
    }

    #[test]
    fn berlin_spring_forward_skips_missing_time() {
        // 2024-03-31 02:00 CET jumps to 03:00 CEST: 02:30 does not exist that day.
        let t = Berlin.with_ymd_and_hms(2024, 3, 30, 12, 0, 0).single().expect("time");
        assert_eq!(fires_in("30 2 * * *", t, 2), ["2024-04-01T02:30:00+02:00", "2024-04-02T02:30:00+02:00"]);
        // Hourly fires at 01:00 CET and then 03:00 CEST: one fire fewer that night.
        let t = Berlin.with_ymd_and_hms(2024, 3, 31, 0, 30, 0).single().expect("time");
        assert_eq!(fires_in("0 * * * *", t, 2), ["2024-03-31T01:00:00+01:00", "2024-03-31T03:00:00+02:00"]);
    }

    #[test]
    fn berlin_fall_back_fires_once() {
        // 2024-10-27 03:00 CEST falls back to 02:00 CET: 02:30 happens twice, fires once.
        let t = Berlin.with_ymd_and_hms(2024, 10, 26, 12, 0, 0).single().expect("time");
        assert_eq!(fires_in("30 2 * * *", t, 2), ["2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"]);
        // Asking again from inside the second 02:xx hour does not fire 02:30 again.
        let second = utc("2024-10-27T01:10:00Z").with_timezone(&Berlin);
        assert_eq!(fires_in("30 2 * * *", second, 1), ["2024-10-28T02:30:00+01:00"]);
    }

    #[test]
    fn new_york_dst_transitions() {
        // 2024-03-10 02:00 EST -> 03:00 EDT.
        let t = New_York.with_ymd_and_hms(2024, 3, 9, 12, 0, 0).single().expect("time");
        assert_eq!(fires_in("15 2 * * *", t, 2), ["2024-03-11T02:15:00-04:00", "2024-03-12T02:15:00-04:00"]);
        // 2024-11-03 02:00 EDT -> 01:00 EST: 01:30 fires once, in EDT.
        let t = New_York.with_ymd_and_hms(2024, 11, 2, 12, 0, 0).single().expect("time");
        assert_eq!(fires_in("30 1 * * *", t, 2), ["2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"]);
        // Midnight schedules are unaffected and keep local midnight across the change.
        assert_eq!(fires_in("@daily", t, 2), ["2024-11-03T00:00:00-04:00", "2024-11-04T00:00:00-05:00"]);
    }

    #[test]
    fn time_zone_names() {
        assert_eq!(parse_time_zone(None), Ok(Tz::UTC));
        assert_eq!(parse_time_zone(Some("Europe/Berlin")), Ok(Berlin));
        assert_eq!(parse_time_zone(Some("Mars/Olympus")), Err(CronError::UnknownTimeZone("Mars/Olympus".into())));
        assert_eq!(CronError::UnknownTimeZone("x".into()).event_reason(), "UnknownTimeZone");
        assert_eq!(CronError::FieldCount(1).event_reason(), "UnparseableSchedule");
    }
}
