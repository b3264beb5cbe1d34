//! Per-kind validation of objects on create and update, with Kubernetes 1.32
//! semantics and wording.
//!
//! [`validate`] checks one object (and, on update, the transition from the
//! stored object) and returns every problem as a [`FieldError`], the shape of
//! a Kubernetes `StatusCause`: a reason (`FieldValueInvalid`, ...), the field
//! path (`spec.template.spec.containers[0].image`) and the message without
//! the path (`Required value`). [`invalid_message`] renders the `message` of
//! the 422 `Invalid` Status the way the Kubernetes API server does.
//!
//! Guarantees:
//! - Pure and total: any JSON value is accepted (missing fields, nulls and
//!   wrong types count as absent) and nothing panics.
//! - Objects are expected to have gone through
//!   [`apply_defaults`](super::defaults::apply_defaults) first, as upstream
//!   validation runs after defaulting; fields that defaulting always fills
//!   (`imagePullPolicy`, `dnsPolicy`, port protocols, ...) are reported as
//!   `Required` when absent, exactly as upstream would.
//! - Field paths, reasons and messages follow upstream; where upstream prints
//!   a Go struct (`core.PodTemplateSpec{...}`) the value is printed as
//!   compact JSON instead, and the pod-update diff is a list of changed paths
//!   rather than a Go `cmp.Diff`.
//! - Rules owned by other parts of an API server are not checked here:
//!   immutability of `metadata.name`/`namespace`/`uid`/`creationTimestamp`,
//!   `resourceVersion` on update, cluster IP and node port allocation
//!   (except the node port range), admission plugins. On a Service update
//!   the server is expected to carry the allocated `clusterIP`/`clusterIPs`
//!   over when the client omits them (as upstream does); otherwise the update
//!   is rejected with `primary clusterIP can not be unset`.
//! - Not checked (rarely used or needing data this module does not have):
//!   time zone names against the IANA database (only their shape), security
//!   context fields other than user and group ids, affinity, topology spread
//!   constraints, most volume source internals, Job `succeededIndexes`
//!   syntax, Pod-specific annotations.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::{Map, Value};

use super::names;

/// One validation problem, shaped like a Kubernetes `StatusCause`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The cause type: `FieldValueInvalid`, `FieldValueRequired`,
    /// `FieldValueNotSupported`, `FieldValueDuplicate`, `FieldValueForbidden`,
    /// `FieldValueTooLong`, `FieldValueTooMany` or `FieldValueNotFound`.
    pub reason: &'static str,
    /// The path of the offending field (`spec.replicas`, `metadata.labels`,
    /// `spec.containers[0].ports[1].containerPort`, `data[key]`).
    pub field: String,
    /// The message without the field path (`Invalid value: -1: must be
    /// greater than or equal to 0`).
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A value that could not be parsed: a resource quantity or a cron schedule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The quantity does not have the shape `<number><suffix>`.
    #[error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    QuantityFormat,
    /// The quantity's number could not be read.
    #[error("unable to parse quantity's numeric value")]
    QuantityNumeric,
    /// The quantity's suffix is not one of `m`, `k`, `M`, `Gi`, `e3`, ...
    #[error("unable to parse quantity's suffix")]
    QuantitySuffix,
    /// The cron schedule is not valid; the text says why.
    #[error("{0}")]
    Cron(String),
}

// ---------------------------------------------------------------------------
// Error construction
// ---------------------------------------------------------------------------

const INVALID: &str = "FieldValueInvalid";
const REQUIRED: &str = "FieldValueRequired";
const NOT_SUPPORTED: &str = "FieldValueNotSupported";
const DUPLICATE: &str = "FieldValueDuplicate";
const FORBIDDEN: &str = "FieldValueForbidden";
const TOO_LONG: &str = "FieldValueTooLong";
const TOO_MANY: &str = "FieldValueTooMany";
const NOT_FOUND: &str = "FieldValueNotFound";

const IS_NEGATIVE: &str = "must be greater than or equal to 0";
const IMMUTABLE: &str = "field is immutable";
const IMMUTABLE_WHEN_SET: &str = "field is immutable when `immutable` is set";
const FILE_MODE: &str = "must be a number between 0 and 0777 (octal), both inclusive";
const MAX_INT32: i64 = i32::MAX as i64;
/// Most bytes of data a ConfigMap or Secret may hold.
const MAX_SECRET_SIZE: usize = 1024 * 1024;
/// Most bytes all annotations of an object may hold.
const MAX_ANNOTATIONS_SIZE: usize = 256 * 1024;

static NULL: Value = Value::Null;

/// How an offending value is printed after `Invalid value: `.
enum Bad<'a> {
    /// A string, printed Go-quoted.
    Str(&'a str),
    /// An integer.
    Int(i64),
    /// Already formatted text.
    Text(String),
    /// No value printed.
    Omit,
}

impl Bad<'_> {
    fn render(&self) -> Option<String> {
        match self {
            Bad::Str(s) => Some(go_quote(s)),
            Bad::Int(i) => Some(i.to_string()),
            Bad::Text(t) => Some(t.clone()),
            Bad::Omit => None,
        }
    }
}

/// The collected errors of one validation run.
#[derive(Default)]
struct Errs(Vec<FieldError>);

impl Errs {
    fn push(&mut self, reason: &'static str, field: &str, message: String) {
        self.0.push(FieldError { reason, field: field.to_string(), message });
    }

    fn with_value(kind: &str, bad: &Bad<'_>, detail: &str) -> String {
        let mut m = kind.to_string();
        if let Some(v) = bad.render() {
            m.push_str(": ");
            m.push_str(&v);
        }
        if !detail.is_empty() {
            m.push_str(": ");
            m.push_str(detail);
        }
        m
    }

    fn without_value(kind: &str, detail: &str) -> String {
        if detail.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}: {detail}")
        }
    }

    fn invalid(&mut self, field: &str, bad: Bad<'_>, detail: &str) {
        self.push(INVALID, field, Self::with_value("Invalid value", &bad, detail));
    }

    fn required(&mut self, field: &str, detail: &str) {
        self.push(REQUIRED, field, Self::without_value("Required value", detail));
    }

    fn forbidden(&mut self, field: &str, detail: &str) {
        self.push(FORBIDDEN, field, Self::without_value("Forbidden", detail));
    }

    fn duplicate(&mut self, field: &str, bad: Bad<'_>) {
        self.push(DUPLICATE, field, Self::with_value("Duplicate value", &bad, ""));
    }

    fn not_found(&mut self, field: &str, bad: Bad<'_>) {
        self.push(NOT_FOUND, field, Self::with_value("Not found", &bad, ""));
    }

    fn not_supported(&mut self, field: &str, bad: Bad<'_>, valid: &[&str]) {
        let detail = if valid.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        self.push(NOT_SUPPORTED, field, Self::with_value("Unsupported value", &bad, &detail));
    }

    fn too_long(&mut self, field: &str, max: usize) {
        let unit = if max == 1 { "byte" } else { "bytes" };
        self.push(TOO_LONG, field, format!("Too long: may not be more than {max} {unit}"));
    }

    fn too_many(&mut self, field: &str, actual: usize, max: usize) {
        self.push(TOO_MANY, field, format!("Too many: {actual}: must have at most {max} items"));
    }

    fn nonnegative(&mut self, field: &str, value: Option<i64>) {
        if let Some(v) = value {
            if v < 0 {
                self.invalid(field, Bad::Int(v), IS_NEGATIVE);
            }
        }
    }

    /// One `Invalid` error per message, all for the same value.
    fn invalid_each(&mut self, field: &str, value: &str, msgs: Vec<String>) {
        for m in msgs {
            self.invalid(field, Bad::Str(value), &m);
        }
    }
}

/// Go's `%q`: a double-quoted string with Go escapes.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control()
                || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{feff}') =>
            {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%#v` of a `map[string]string` (keys sorted).
fn go_string_map(v: Option<&Value>) -> String {
    match v.and_then(Value::as_object) {
        None => "map[string]string(nil)".to_string(),
        Some(m) => {
            let items: Vec<String> =
                sorted_pairs(m).iter().map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v))).collect();
            format!("map[string]string{{{}}}", items.join(", "))
        }
    }
}

/// Go's `%#v` of a `[]string`.
fn go_string_slice(v: Option<&Value>) -> String {
    match v.and_then(Value::as_array) {
        None => "[]string(nil)".to_string(),
        Some(a) => {
            let items: Vec<String> = a.iter().map(|x| go_quote(x.as_str().unwrap_or(""))).collect();
            format!("[]string{{{}}}", items.join(", "))
        }
    }
}

/// Go's `%#v` of a `*metav1.LabelSelector`.
fn go_selector(sel: Option<&Value>) -> String {
    let Some(sel) = sel.filter(|s| s.is_object()) else { return "null".to_string() };
    let exprs = match sel.get("matchExpressions").and_then(Value::as_array) {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(a) => {
            let items: Vec<String> = a
                .iter()
                .map(|r| {
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        go_quote(s(r, "key")),
                        go_quote(s(r, "operator")),
                        go_string_slice(r.get("values"))
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
    };
    format!("v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}", go_string_map(sel.get("matchLabels")), exprs)
}

/// Compact JSON of a value, for values upstream prints as Go structs.
fn json_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "null".to_string(),
        Some(v) => serde_json::to_string(v).unwrap_or_else(|_| "null".to_string()),
    }
}

// ---------------------------------------------------------------------------
// Paths and JSON access
// ---------------------------------------------------------------------------

fn child(p: &str, c: &str) -> String {
    if p.is_empty() {
        c.to_string()
    } else {
        format!("{p}.{c}")
    }
}

fn index(p: &str, i: usize) -> String {
    format!("{p}[{i}]")
}

fn key(p: &str, k: &str) -> String {
    format!("{p}[{k}]")
}

/// The field `k` of `v` unless absent or null.
fn get<'a>(v: &'a Value, k: &str) -> Option<&'a Value> {
    v.get(k).filter(|x| !x.is_null())
}

/// The field `k` of `v`, or null.
fn field<'a>(v: &'a Value, k: &str) -> &'a Value {
    get(v, k).unwrap_or(&NULL)
}

/// The string field `k` of `v`, or "".
fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// The string field `k` of `v` if it is a string.
fn opt_s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn as_int(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_u64().map(|_| i64::MAX)).or_else(|| v.as_f64().map(|f| f as i64))
}

/// The integer field `k` of `v` if it is a number.
fn int(v: &Value, k: &str) -> Option<i64> {
    v.get(k).and_then(as_int)
}

/// The boolean field `k` of `v` if it is a boolean.
fn boolean(v: &Value, k: &str) -> Option<bool> {
    v.get(k).and_then(Value::as_bool)
}

/// The array field `k` of `v`, or empty.
fn arr<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get(k).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// The string-to-string pairs of a JSON object, sorted by key; non-string
/// values count as "".
fn sorted_pairs(m: &Map<String, Value>) -> Vec<(&str, &str)> {
    let mut pairs: Vec<(&str, &str)> = m.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or(""))).collect();
    pairs.sort_unstable();
    pairs
}

/// The string map field `k` of `v` (labels, selectors), sorted by key.
fn str_map<'a>(v: &'a Value, k: &str) -> Vec<(&'a str, &'a str)> {
    v.get(k).and_then(Value::as_object).map(sorted_pairs).unwrap_or_default()
}

/// An int-or-string field.
#[derive(Debug, Clone, PartialEq)]
enum IntOrStr<'a> {
    Int(i64),
    Str(&'a str),
}

impl IntOrStr<'_> {
    fn of(v: Option<&Value>) -> Option<IntOrStr<'_>> {
        match v? {
            Value::String(s) => Some(IntOrStr::Str(s)),
            n => as_int(n).map(IntOrStr::Int),
        }
    }

    /// How `intstr.IntOrString` prints (its `String()`).
    fn text(&self) -> String {
        match self {
            IntOrStr::Int(i) => i.to_string(),
            IntOrStr::Str(s) => s.to_string(),
        }
    }
}

const MAX_DEPTH: usize = 200;

/// A copy of `v` without nulls, empty arrays and empty objects, with resource
/// quantities in canonical form: what Kubernetes' semantic equality ignores.
fn normalized(v: &Value) -> Value {
    normalize_at(v, 0, false)
}

fn normalize_at(v: &Value, depth: usize, quantities: bool) -> Value {
    if depth > MAX_DEPTH {
        return v.clone();
    }
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                let q = matches!(k.as_str(), "limits" | "requests" | "capacity" | "allocatable" | "overhead");
                let nx = normalize_at(x, depth + 1, q);
                let empty = match &nx {
                    Value::Null => true,
                    Value::Array(a) => a.is_empty(),
                    Value::Object(o) => o.is_empty(),
                    _ => false,
                };
                if !empty {
                    out.insert(k.clone(), nx);
                }
            }
            if quantities {
                for x in out.values_mut() {
                    if let Some(q) = x.as_str().and_then(|t| Quantity::parse(t).ok()) {
                        *x = Value::String(q.canonical());
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| normalize_at(x, depth + 1, false)).collect()),
        other => other.clone(),
    }
}

/// Whether two optional values are semantically equal (absent == empty).
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    normalized(a.unwrap_or(&NULL)) == normalized(b.unwrap_or(&NULL))
}

/// The paths at which two JSON values differ, with both sides, for messages.
fn diff_paths(path: &str, a: &Value, b: &Value, depth: usize, out: &mut Vec<String>) {
    const MAX_LINES: usize = 20;
    if out.len() >= MAX_LINES || a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if depth < MAX_DEPTH => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                diff_paths(&child(path, k), x.get(k).unwrap_or(&NULL), y.get(k).unwrap_or(&NULL), depth + 1, out);
            }
        }
        (Value::Array(x), Value::Array(y)) if depth < MAX_DEPTH && x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff_paths(&index(path, i), p, q, depth + 1, out);
            }
        }
        _ => out.push(format!("{path}: {} -> {}", json_text(Some(a)), json_text(Some(b)))),
    }
}

// ---------------------------------------------------------------------------
// Quantities
// ---------------------------------------------------------------------------

/// How a quantity was written, which decides its canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityFormat {
    /// Decimal SI suffixes (`m`, `k`, `M`, `G`, ...) or none.
    DecimalSi,
    /// Binary SI suffixes (`Ki`, `Mi`, `Gi`, ...).
    BinarySi,
    /// An exponent (`2e3`, `1E-3`).
    DecimalExponent,
}

/// A Kubernetes resource quantity (`100m`, `1Gi`, `1.5`, `2e3`), exact to
/// the nano unit (values are rounded up to it, as upstream does) and capped
/// at 2^63-1 units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    nanos: i128,
    format: QuantityFormat,
}

const NANOS_PER_UNIT: i128 = 1_000_000_000;
const MAX_QUANTITY_NANOS: i128 = (i64::MAX as i128) * NANOS_PER_UNIT;

/// A little-endian base-10^9 natural number, just enough arithmetic to parse
/// quantities of any length exactly.
struct BigNat(Vec<u64>);

impl BigNat {
    const BASE: u64 = 1_000_000_000;

    fn from_digits(digits: &[u8]) -> BigNat {
        let mut n = BigNat(vec![0]);
        for &d in digits {
            n.mul_add(10, u64::from(d - b'0'));
        }
        n
    }

    fn mul_add(&mut self, m: u64, add: u64) {
        let mut carry = add;
        for limb in &mut self.0 {
            let v = *limb * m + carry;
            *limb = v % Self::BASE;
            carry = v / Self::BASE;
        }
        while carry > 0 {
            self.0.push(carry % Self::BASE);
            carry /= Self::BASE;
        }
    }

    /// Divides in place, returning whether the remainder was non-zero.
    fn div_rem_nonzero(&mut self, d: u64) -> bool {
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let v = rem * Self::BASE + *limb;
            *limb = v / d;
            rem = v % d;
        }
        while self.0.len() > 1 && self.0.last() == Some(&0) {
            self.0.pop();
        }
        rem != 0
    }

    /// The value, or `None` if it exceeds `limit`.
    fn to_i128_capped(&self, limit: i128) -> Option<i128> {
        let mut v: i128 = 0;
        for &l in self.0.iter().rev() {
            v = v.checked_mul(Self::BASE as i128)?.checked_add(l as i128)?;
            if v > limit {
                return None;
            }
        }
        Some(v)
    }
}

/// The pieces of a quantity string: sign, integer digits, fraction digits,
/// suffix (upstream's `parseQuantityString`).
fn split_quantity(s: &str) -> Result<(bool, &str, &str, &str), ParseError> {
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut positive = true;
    match b.first() {
        Some(b'-') => {
            positive = false;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        return Ok((positive, "", "", ""));
    }
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let num = &s[num_start..pos];
    let mut denom = "";
    if pos < end && b[pos] == b'.' {
        pos += 1;
        let d_start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &s[d_start..pos];
    }
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return Err(ParseError::QuantityFormat);
    }
    Ok((positive, num, denom, &s[suffix_start..]))
}

/// What a quantity suffix means: (base, exponent, format).
fn quantity_suffix(suffix: &str) -> Option<(u32, i64, QuantityFormat)> {
    let dec = |e| Some((10, e, QuantityFormat::DecimalSi));
    let bin = |e| Some((2, e, QuantityFormat::BinarySi));
    match suffix {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        _ => {
            let rest = suffix.strip_prefix(['e', 'E'])?;
            let e: i64 = rest.parse().ok()?;
            Some((10, e, QuantityFormat::DecimalExponent))
        }
    }
}

impl Quantity {
    /// Parses a quantity the way the Kubernetes API server does.
    pub fn parse(text: &str) -> Result<Quantity, ParseError> {
        if text.is_empty() {
            return Err(ParseError::QuantityFormat);
        }
        let (positive, num, denom, suffix) = split_quantity(text)?;
        let (base, exponent, format) = quantity_suffix(suffix).ok_or(ParseError::QuantitySuffix)?;
        let digits: Vec<u8> = num.bytes().chain(denom.bytes()).collect();
        let first_nonzero = digits.iter().position(|&d| d != b'0');
        let Some(first) = first_nonzero else { return Ok(Quantity { nanos: 0, format }) };
        let digits = &digits[first..];
        // value = digits * 10^dec_exp * 2^bin_exp, in nanos.
        let mut dec_exp: i64 = 9 - denom.len() as i64;
        let mut bin_exp: u32 = 0;
        if base == 10 {
            dec_exp = dec_exp.saturating_add(exponent);
        } else {
            bin_exp = u32::try_from(exponent).unwrap_or(0);
        }
        let magnitude = digits.len() as i64 + dec_exp + i64::from(bin_exp) * 3 / 10;
        let nanos = if magnitude > 30 {
            MAX_QUANTITY_NANOS
        } else if magnitude < -2 {
            1 // below one nano: rounds up to the smallest unit
        } else {
            let mut n = BigNat::from_digits(digits);
            let mut e = dec_exp;
            while e > 0 {
                n.mul_add(10, 0);
                e -= 1;
            }
            let mut remaining = bin_exp;
            while remaining > 0 {
                let step = remaining.min(20);
                n.mul_add(1 << step, 0);
                remaining -= step;
            }
            let mut inexact = false;
            while e < 0 {
                inexact |= n.div_rem_nonzero(10);
                e += 1;
            }
            let whole = n.to_i128_capped(MAX_QUANTITY_NANOS).unwrap_or(MAX_QUANTITY_NANOS);
            if inexact {
                (whole + 1).min(MAX_QUANTITY_NANOS)
            } else {
                whole
            }
        };
        Ok(Quantity { nanos: if positive { nanos } else { -nanos }, format })
    }

    /// Whether the quantity is below zero.
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// Whether the quantity is a whole number of units.
    pub fn is_integer(&self) -> bool {
        self.nanos % NANOS_PER_UNIT == 0
    }

    /// The quantity rounded away from zero to a whole number of milli-units
    /// (what upstream defaulting does to resource lists).
    pub fn round_up_milli(&self) -> Quantity {
        const MILLI: i128 = 1_000_000;
        let rem = self.nanos % MILLI;
        let nanos = if rem == 0 {
            self.nanos
        } else if self.nanos > 0 {
            self.nanos - rem + MILLI
        } else {
            self.nanos - rem - MILLI
        };
        Quantity { nanos, format: self.format }
    }

    /// The sum of two quantities (capped), in the first one's format.
    pub fn add(&self, other: &Quantity) -> Quantity {
        let nanos = self.nanos.saturating_add(other.nanos).clamp(-MAX_QUANTITY_NANOS, MAX_QUANTITY_NANOS);
        Quantity { nanos, format: self.format }
    }

    /// The canonical text of the quantity, as the API server prints it
    /// (`0.5` -> `500m`, `1024Mi` -> `1Gi`, `1000` -> `1k`).
    pub fn canonical(&self) -> String {
        if self.nanos == 0 {
            return "0".to_string();
        }
        let mut format = self.format;
        if format == QuantityFormat::BinarySi
            && (self.nanos.abs() < 1024 * NANOS_PER_UNIT || self.nanos % NANOS_PER_UNIT != 0)
        {
            format = QuantityFormat::DecimalSi;
        }
        if format == QuantityFormat::BinarySi {
            let mut m = self.nanos / NANOS_PER_UNIT;
            let mut e = 0;
            while m != 0 && m % 1024 == 0 && e < 60 {
                m /= 1024;
                e += 10;
            }
            let suffix = match e {
                10 => "Ki",
                20 => "Mi",
                30 => "Gi",
                40 => "Ti",
                50 => "Pi",
                60 => "Ei",
                _ => "",
            };
            return format!("{m}{suffix}");
        }
        let mut m = self.nanos;
        let mut e: i64 = -9;
        while m % 10 == 0 {
            m /= 10;
            e += 1;
        }
        match e.rem_euclid(3) {
            1 => {
                m *= 10;
                e -= 1;
            }
            2 => {
                m *= 100;
                e -= 2;
            }
            _ => {}
        }
        let suffix = if format == QuantityFormat::DecimalExponent {
            if e == 0 {
                String::new()
            } else {
                format!("e{e}")
            }
        } else {
            match e {
                -9 => "n",
                -6 => "u",
                -3 => "m",
                3 => "k",
                6 => "M",
                9 => "G",
                12 => "T",
                15 => "P",
                18 => "E",
                _ => "",
            }
            .to_string()
        };
        format!("{m}{suffix}")
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.nanos.cmp(&other.nanos))
    }
}

// ---------------------------------------------------------------------------
// Cron schedules
// ---------------------------------------------------------------------------

/// Checks a CronJob schedule the way the standard cron parser Kubernetes
/// uses does: five fields (minute hour day-of-month month day-of-week) or a
/// descriptor (`@hourly`, `@every 1h30m`, ...), with an optional `TZ=` /
/// `CRON_TZ=` prefix.
pub fn parse_cron(spec: &str) -> Result<(), ParseError> {
    let err = |m: String| Err(ParseError::Cron(m));
    if spec.is_empty() {
        return err("empty spec string".to_string());
    }
    let mut spec = spec;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let eq = spec.find('=').unwrap_or(0);
        let Some(sp) = spec.find(' ') else {
            return err(format!("provided bad location {}: unknown time zone", &spec[eq + 1..]));
        };
        let loc = spec.get(eq + 1..sp).unwrap_or("");
        if loc.is_empty() || !valid_time_zone_name(loc) {
            return err(format!("provided bad location {loc}: unknown time zone {loc}"));
        }
        spec = spec[sp..].trim();
    }
    if spec.starts_with('@') {
        return match spec {
            "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight" | "@hourly" => Ok(()),
            _ => match spec.strip_prefix("@every ") {
                Some(d) => parse_go_duration(d)
                    .map(|_| ())
                    .map_err(|e| ParseError::Cron(format!("failed to parse duration {spec}: {e}"))),
                None => err(format!("unrecognized descriptor: {spec}")),
            },
        };
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return err(format!("expected exactly 5 fields, found {}: [{}]", fields.len(), fields.join(" ")));
    }
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let bounds: [(u64, u64, &[&str], u64); 5] =
        [(0, 59, &[], 0), (0, 23, &[], 0), (1, 31, &[], 0), (1, 12, &MONTHS, 1), (0, 6, &DAYS, 0)];
    for (f, (min, max, names, first)) in fields.iter().zip(bounds) {
        for expr in f.split(',').filter(|e| !e.is_empty()) {
            cron_range(expr, min, max, names, first).map_err(ParseError::Cron)?;
        }
    }
    Ok(())
}

fn cron_int(expr: &str) -> Result<u64, String> {
    match expr.parse::<i64>() {
        Ok(n) if n < 0 => Err(format!("negative number ({n}) not allowed: {expr}")),
        Ok(n) => Ok(n.unsigned_abs()),
        Err(e) => {
            let why = if matches!(e.kind(), std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow) {
                "value out of range"
            } else {
                "invalid syntax"
            };
            Err(format!("failed to parse int from {expr}: strconv.Atoi: parsing {}: {why}", go_quote(expr)))
        }
    }
}

fn cron_int_or_name(expr: &str, names: &[&str], first: u64) -> Result<u64, String> {
    let lower = expr.to_ascii_lowercase();
    match names.iter().position(|n| *n == lower) {
        Some(i) => Ok(i as u64 + first),
        None => cron_int(expr),
    }
}

fn cron_range(expr: &str, min: u64, max: u64, names: &[&str], first: u64) -> Result<(), String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_high.len() == 1;
    let (start, mut end) = if low_high[0] == "*" || low_high[0] == "?" {
        (min, max)
    } else {
        let start = cron_int_or_name(low_high[0], names, first)?;
        let end = match low_high.len() {
            1 => start,
            2 => cron_int_or_name(low_high[1], names, first)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
        (start, end)
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = cron_int(range_and_step[1])?;
            if single {
                end = max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < min {
        return Err(format!("beginning of range ({start}) below minimum ({min}): {expr}"));
    }
    if end > max {
        return Err(format!("end of range ({end}) above maximum ({max}): {expr}"));
    }
    if start > end {
        return Err(format!("beginning of range ({start}) beyond end of range ({end}): {expr}"));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

/// Parses a Go duration (`1h30m`, `90s`, `1.5h`) into nanoseconds.
pub fn parse_go_duration(d: &str) -> Result<i128, String> {
    let bad = || Err(format!("time: invalid duration {}", go_quote(d)));
    let negative = d.starts_with('-');
    let body = d.strip_prefix(['+', '-']).unwrap_or(d);
    if body == "0" {
        return Ok(0);
    }
    if body.is_empty() {
        return bad();
    }
    let mut rest = body;
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return bad();
        }
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit_nanos: f64 = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ if unit_len == 0 => return Err(format!("time: missing unit in duration {}", go_quote(d))),
            unit => return Err(format!("time: unknown unit {} in duration {}", go_quote(unit), go_quote(d))),
        };
        total += num.parse::<f64>().map_err(|_| format!("time: invalid duration {}", go_quote(d)))? * unit_nanos;
        rest = &rest[unit_len..];
    }
    let nanos = total as i128;
    Ok(if negative { -nanos } else { nanos })
}

/// Whether a time zone name has the shape of an IANA name (the zone
/// database itself is not consulted).
fn valid_time_zone_name(tz: &str) -> bool {
    tz.split('/').all(|part| {
        part != "."
            && part != ".."
            && !part.starts_with('-')
            && (1..=14).contains(&part.len())
            && part.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'+'))
    })
}

// ---------------------------------------------------------------------------
// Object metadata
// ---------------------------------------------------------------------------

/// Which format an object's name must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameRule {
    /// DNS-1123 subdomain (most kinds).
    Subdomain,
    /// DNS-1123 label (Namespace).
    Label,
    /// DNS-1035 label (Service).
    Dns1035,
    /// Only usable as a URL path segment (Event).
    PathSegment,
}

fn name_errors(rule: NameRule, name: &str) -> Vec<String> {
    match rule {
        NameRule::Subdomain => names::dns1123_subdomain_errors(name),
        NameRule::Label => names::dns1123_label_errors(name),
        NameRule::Dns1035 => names::dns1035_label_errors(name),
        NameRule::PathSegment => names::path_segment_name_errors(name),
    }
}

fn meta(obj: &Value) -> &Value {
    field(obj, "metadata")
}

/// Upstream `ValidateObjectMeta` (plus the core finalizer-name rule).
fn validate_object_meta(obj: &Value, namespaced: bool, rule: NameRule, e: &mut Errs) {
    let m = meta(obj);
    let name = s(m, "name");
    if name.is_empty() {
        e.required("metadata.name", "name or generateName is required");
    } else {
        e.invalid_each("metadata.name", name, name_errors(rule, name));
    }
    if namespaced {
        match opt_s(m, "namespace") {
            None | Some("") => e.required("metadata.namespace", ""),
            Some(ns) => e.invalid_each("metadata.namespace", ns, names::dns1123_label_errors(ns)),
        }
    }
    e.nonnegative("metadata.generation", int(m, "generation"));
    validate_labels(get(m, "labels"), "metadata.labels", e);
    validate_annotations(get(m, "annotations"), "metadata.annotations", e);
    validate_owner_references(arr(m, "ownerReferences"), "metadata.ownerReferences", e);
    validate_finalizers(get(m, "finalizers"), "metadata.finalizers", e);
}

/// Upstream `ValidateLabels`: keys are qualified names, values label values.
fn validate_labels(labels: Option<&Value>, path: &str, e: &mut Errs) {
    let Some(m) = labels.and_then(Value::as_object) else { return };
    for (k, v) in sorted_pairs(m) {
        e.invalid_each(path, k, names::qualified_name_errors(k));
        e.invalid_each(path, v, names::label_value_errors(v));
    }
}

/// Upstream `ValidateAnnotations`: keys are (case-insensitive) qualified
/// names; keys and values together hold at most 256 KiB.
fn validate_annotations(annotations: Option<&Value>, path: &str, e: &mut Errs) {
    let Some(m) = annotations.and_then(Value::as_object) else { return };
    let mut total = 0usize;
    for (k, v) in sorted_pairs(m) {
        e.invalid_each(path, k, names::qualified_name_errors(&k.to_lowercase()));
        total = total.saturating_add(k.len()).saturating_add(v.len());
    }
    if total > MAX_ANNOTATIONS_SIZE {
        e.too_long(path, MAX_ANNOTATIONS_SIZE);
    }
}

fn validate_owner_references(refs: &[Value], path: &str, e: &mut Errs) {
    let mut first_controller: Option<String> = None;
    for r in refs {
        let api_version = s(r, "apiVersion");
        let version = api_version.rsplit('/').next().unwrap_or("");
        if version.is_empty() {
            e.invalid(&child(path, "apiVersion"), Bad::Str(api_version), "version must not be empty");
        }
        for f in ["kind", "name", "uid"] {
            if s(r, f).is_empty() {
                e.invalid(&child(path, f), Bad::Str(""), "must not be empty");
            }
        }
        if api_version == "v1" && s(r, "kind") == "Event" {
            e.invalid(path, Bad::Text(json_text(Some(r))), "/v1, Kind=Event is disallowed from being an owner");
        }
        if boolean(r, "controller") == Some(true) {
            let this = format!("{}/{}", s(r, "kind"), s(r, "name"));
            match &first_controller {
                Some(first) => e.invalid(
                    path,
                    Bad::Text(json_text(Some(&Value::Array(refs.to_vec())))),
                    &format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} \
                         and {this}"
                    ),
                ),
                None => first_controller = Some(this),
            }
        }
    }
}

const STANDARD_FINALIZERS: [&str; 3] = ["kubernetes", "orphan", "foregroundDeletion"];

fn validate_finalizers(finalizers: Option<&Value>, path: &str, e: &mut Errs) {
    let list = finalizers.and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    let names: Vec<&str> = list.iter().map(|f| f.as_str().unwrap_or("")).collect();
    for f in &names {
        e.invalid_each(path, f, names::qualified_name_errors(f));
    }
    if names.contains(&"orphan") && names.contains(&"foregroundDeletion") {
        e.invalid(
            path,
            Bad::Text(go_string_slice(finalizers)),
            "finalizer orphan and foregroundDeletion cannot be both set",
        );
    }
    for (i, f) in names.iter().enumerate() {
        validate_kube_finalizer_name(f, &index(path, i), e);
    }
}

/// A finalizer without a '/' must be one of the standard names.
fn validate_kube_finalizer_name(name: &str, path: &str, e: &mut Errs) {
    if !name.contains('/') && !STANDARD_FINALIZERS.contains(&name) {
        e.invalid(path, Bad::Str(name), "name is neither a standard finalizer name nor is it fully qualified");
    }
}

// ---------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------

/// A label selector as far as matching is concerned.
enum Selector<'a> {
    /// No selector: matches nothing.
    Nothing,
    /// An empty selector: matches everything.
    Everything,
    /// A selector that does not parse (its errors are reported elsewhere).
    Invalid,
    /// A well-formed, non-empty selector.
    Valid(&'a Value),
}

impl<'a> Selector<'a> {
    fn of(sel: Option<&'a Value>) -> Selector<'a> {
        let Some(sel) = sel.filter(|v| v.is_object()) else { return Selector::Nothing };
        let mut probe = Errs::default();
        validate_label_selector(sel, "", &mut probe);
        if !probe.0.is_empty() {
            return Selector::Invalid;
        }
        if str_map(sel, "matchLabels").is_empty() && arr(sel, "matchExpressions").is_empty() {
            Selector::Everything
        } else {
            Selector::Valid(sel)
        }
    }

    /// Whether the selector selects an object with these labels.
    fn matches(&self, labels: Option<&Value>) -> bool {
        let sel = match self {
            Selector::Nothing | Selector::Invalid => return false,
            Selector::Everything => return true,
            Selector::Valid(sel) => *sel,
        };
        let labels = labels.and_then(Value::as_object);
        let label = |k: &str| labels.and_then(|m| m.get(k)).and_then(Value::as_str);
        for (k, v) in str_map(sel, "matchLabels") {
            if label(k) != Some(v) {
                return false;
            }
        }
        for r in arr(sel, "matchExpressions") {
            let actual = label(s(r, "key"));
            let values: Vec<&str> = arr(r, "values").iter().filter_map(Value::as_str).collect();
            let ok = match s(r, "operator") {
                "In" => actual.is_some_and(|a| values.contains(&a)),
                "NotIn" => actual.is_none_or(|a| !values.contains(&a)),
                "Exists" => actual.is_some(),
                "DoesNotExist" => actual.is_none(),
                _ => false,
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

/// Upstream `ValidateLabelSelector` (label values checked strictly).
fn validate_label_selector(sel: &Value, path: &str, e: &mut Errs) {
    validate_labels(get(sel, "matchLabels"), &child(path, "matchLabels"), e);
    for (i, r) in arr(sel, "matchExpressions").iter().enumerate() {
        let rp = index(&child(path, "matchExpressions"), i);
        let op = s(r, "operator");
        let values = arr(r, "values");
        match op {
            "In" | "NotIn" => {
                if values.is_empty() {
                    e.required(&child(&rp, "values"), "must be specified when `operator` is 'In' or 'NotIn'");
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    e.forbidden(
                        &child(&rp, "values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    );
                }
            }
            _ => e.invalid(&child(&rp, "operator"), Bad::Str(op), "not a valid selector operator"),
        }
        let k = s(r, "key");
        e.invalid_each(&child(&rp, "key"), k, names::qualified_name_errors(k));
        for (j, v) in values.iter().enumerate() {
            let v = v.as_str().unwrap_or("");
            e.invalid_each(&index(&child(&rp, "values"), j), v, names::label_value_errors(v));
        }
    }
}

// ---------------------------------------------------------------------------
// IP addresses
// ---------------------------------------------------------------------------

/// Parses an IP address the lenient way Kubernetes does (IPv4 octets may
/// have leading zeros).
fn parse_ip(text: &str) -> Option<std::net::IpAddr> {
    if text.contains(':') {
        return text.parse::<std::net::Ipv6Addr>().ok().map(std::net::IpAddr::V6);
    }
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (o, p) in octets.iter_mut().zip(parts) {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    Some(std::net::IpAddr::V4(std::net::Ipv4Addr::from(octets)))
}

const IP_ERR: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

fn validate_ip(path: &str, ip: &str, e: &mut Errs) -> bool {
    if parse_ip(ip).is_none() {
        e.invalid(path, Bad::Str(ip), IP_ERR);
        false
    } else {
        true
    }
}

/// Upstream `ValidateNonSpecialIP`: no unspecified, loopback or link-local
/// addresses.
fn validate_non_special_ip(path: &str, ip: &str, e: &mut Errs) {
    let Some(addr) = parse_ip(ip) else {
        e.invalid(path, Bad::Str(ip), "must be a valid IP address");
        return;
    };
    let (unspecified, loopback, link_local, link_local_multicast) = match addr {
        std::net::IpAddr::V4(a) => {
            let o = a.octets();
            (a.is_unspecified(), a.is_loopback(), a.is_link_local(), o[0] == 224 && o[1] == 0 && o[2] == 0)
        }
        std::net::IpAddr::V6(a) => {
            let seg = a.segments();
            if let Some(v4) = a.to_ipv4_mapped() {
                let o = v4.octets();
                (v4.is_unspecified(), v4.is_loopback(), v4.is_link_local(), o[0] == 224 && o[1] == 0 && o[2] == 0)
            } else {
                (a.is_unspecified(), a.is_loopback(), seg[0] & 0xffc0 == 0xfe80, seg[0] & 0xff0f == 0xff02)
            }
        }
    };
    if unspecified {
        e.invalid(path, Bad::Str(ip), &format!("may not be unspecified ({ip})"));
    }
    if loopback {
        e.invalid(path, Bad::Str(ip), "may not be in the loopback range (127.0.0.0/8, ::1/128)");
    }
    if link_local {
        e.invalid(path, Bad::Str(ip), "may not be in the link-local range (169.254.0.0/16, fe80::/10)");
    }
    if link_local_multicast {
        e.invalid(path, Bad::Str(ip), "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
    }
}

/// Whether `text` is a CIDR (`10.0.0.0/24`, `fd00::/64`).
fn is_cidr(text: &str) -> bool {
    let Some((ip, bits)) = text.split_once('/') else { return false };
    let Some(addr) = parse_ip(ip) else { return false };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    !bits.is_empty()
        && bits.len() <= 3
        && bits.bytes().all(|c| c.is_ascii_digit())
        && bits.parse().is_ok_and(|b: u32| b <= max)
}

// ---------------------------------------------------------------------------
// Pod specs
// ---------------------------------------------------------------------------

const SUPPORTED_PROTOCOLS: [&str; 3] = ["SCTP", "TCP", "UDP"];

/// Pod spec fields that decide some container rules.
struct PodCtx<'a> {
    /// A Pod (not a pod template).
    is_pod: bool,
    /// Names of the valid volumes.
    volumes: HashSet<&'a str>,
}

/// The volume source fields, in the order upstream checks them.
pub(super) const VOLUME_SOURCES: [&str; 30] = [
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "cinder",
    "cephfs",
    "quobyte",
    "downwardAPI",
    "fc",
    "flexVolume",
    "configMap",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "storageos",
    "projected",
    "scaleIO",
    "csi",
    "ephemeral",
    "image",
];

/// Upstream `ValidatePodTemplateSpec`.
fn validate_pod_template(tpl: &Value, path: &str, e: &mut Errs) {
    let m = field(tpl, "metadata");
    validate_labels(get(m, "labels"), &child(path, "labels"), e);
    validate_annotations(get(m, "annotations"), &child(path, "annotations"), e);
    let spec = field(tpl, "spec");
    let spec_path = child(path, "spec");
    validate_pod_spec(spec, &spec_path, false, e);
    if !arr(spec, "ephemeralContainers").is_empty() {
        e.forbidden(&child(&spec_path, "ephemeralContainers"), "ephemeral containers not allowed in pod template");
    }
}

/// Upstream `ValidatePodSpec`.
fn validate_pod_spec(spec: &Value, path: &str, is_pod: bool, e: &mut Errs) {
    let volumes = validate_volumes(arr(spec, "volumes"), &child(path, "volumes"), e);
    let ctx = PodCtx { is_pod, volumes };
    let containers = arr(spec, "containers");
    validate_containers(containers, &child(path, "containers"), &ctx, e);
    validate_init_containers(arr(spec, "initContainers"), containers, &child(path, "initContainers"), &ctx, e);
    validate_host_network(spec, path, is_pod, e);
    validate_enum(
        opt_s(spec, "restartPolicy"),
        &child(path, "restartPolicy"),
        &["Always", "OnFailure", "Never"],
        "",
        e,
    );
    validate_enum(
        opt_s(spec, "dnsPolicy"),
        &child(path, "dnsPolicy"),
        &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        "",
        e,
    );
    validate_labels(get(spec, "nodeSelector"), &child(path, "nodeSelector"), e);
    let sc = field(spec, "securityContext");
    let sc_path = child(path, "securityContext");
    for f in ["fsGroup", "runAsUser", "runAsGroup"] {
        id_range(int(sc, f), &child(&sc_path, f), e);
    }
    for (i, g) in arr(sc, "supplementalGroups").iter().enumerate() {
        id_range(as_int(g), &index(&child(&sc_path, "supplementalGroups"), i), e);
    }
    for (i, s_) in arr(spec, "imagePullSecrets").iter().enumerate() {
        let n = s(s_, "name");
        if !n.is_empty() {
            e.invalid_each(
                &child(&index(&child(path, "imagePullSecrets"), i), "name"),
                n,
                names::dns1123_subdomain_errors(n),
            );
        }
    }
    validate_dns_config(spec, path, e);
    for (i, g) in arr(spec, "readinessGates").iter().enumerate() {
        let t = s(g, "conditionType");
        let p = child(&index(&child(path, "readinessGates"), i), "conditionType");
        e.invalid_each(&p, t, names::qualified_name_errors(t));
    }
    let mut gates = HashSet::new();
    for (i, g) in arr(spec, "schedulingGates").iter().enumerate() {
        let n = s(g, "name");
        let p = index(&child(path, "schedulingGates"), i);
        e.invalid_each(&p, n, names::qualified_name_errors(n));
        if !gates.insert(n) {
            e.duplicate(&p, Bad::Str(n));
        }
    }
    for (f, check) in [
        ("serviceAccountName", names::dns1123_subdomain_errors as fn(&str) -> Vec<String>),
        ("nodeName", names::dns1123_subdomain_errors),
    ] {
        let v = s(spec, f);
        if !v.is_empty() {
            e.invalid_each(&child(path, f), v, check(v));
        }
    }
    if let Some(ads) = int(spec, "activeDeadlineSeconds") {
        if !(1..=MAX_INT32).contains(&ads) {
            e.invalid(
                &child(path, "activeDeadlineSeconds"),
                Bad::Int(ads),
                &names::inclusive_range_error(1, MAX_INT32),
            );
        }
    }
    for f in ["hostname", "subdomain"] {
        let v = s(spec, f);
        if !v.is_empty() {
            e.invalid_each(&child(path, f), v, names::dns1123_label_errors(v));
        }
    }
    validate_tolerations(arr(spec, "tolerations"), &child(path, "tolerations"), e);
    for f in ["priorityClassName", "runtimeClassName"] {
        if let Some(v) = opt_s(spec, f) {
            if f == "runtimeClassName" || !v.is_empty() {
                e.invalid_each(&child(path, f), v, names::dns1123_subdomain_errors(v));
            }
        }
    }
    if let Some(p) = opt_s(spec, "preemptionPolicy") {
        if !matches!(p, "PreemptLowerPriority" | "Never") {
            e.not_supported(&child(path, "preemptionPolicy"), Bad::Str(p), &["Never", "PreemptLowerPriority"]);
        }
    }
}

/// An enumerated string field: required when absent, one of `valid`.
fn validate_enum(value: Option<&str>, path: &str, valid: &[&str], required_detail: &str, e: &mut Errs) {
    match value {
        None | Some("") => e.required(path, required_detail),
        Some(v) if !valid.contains(&v) => e.not_supported(path, Bad::Str(v), valid),
        Some(_) => {}
    }
}

/// A user or group id: 0..=2147483647.
fn id_range(value: Option<i64>, path: &str, e: &mut Errs) {
    if let Some(v) = value {
        if !(0..=MAX_INT32).contains(&v) {
            e.invalid(path, Bad::Int(v), &names::inclusive_range_error(0, MAX_INT32));
        }
    }
}

fn validate_dns_config(spec: &Value, path: &str, e: &mut Errs) {
    let cfg_path = child(path, "dnsConfig");
    let cfg = get(spec, "dnsConfig");
    if s(spec, "dnsPolicy") == "None" {
        match cfg {
            None => {
                e.required(&cfg_path, "must provide `dnsConfig` when `dnsPolicy` is None");
                return;
            }
            Some(c) if arr(c, "nameservers").is_empty() => {
                e.required(
                    &child(&cfg_path, "nameservers"),
                    "must provide at least one DNS nameserver when `dnsPolicy` is None",
                );
                return;
            }
            Some(_) => {}
        }
    }
    let Some(cfg) = cfg else { return };
    let ns = arr(cfg, "nameservers");
    if ns.len() > 3 {
        e.invalid(
            &child(&cfg_path, "nameservers"),
            Bad::Text(go_string_slice(get(cfg, "nameservers"))),
            "must not have more than 3 nameservers",
        );
    }
    for (i, n) in ns.iter().enumerate() {
        validate_ip(&index(&child(&cfg_path, "nameservers"), i), n.as_str().unwrap_or(""), e);
    }
}

/// With `hostNetwork`, host ports must equal container ports (templates may
/// leave them 0).
fn validate_host_network(spec: &Value, path: &str, is_pod: bool, e: &mut Errs) {
    if boolean(spec, "hostNetwork") != Some(true) {
        return;
    }
    for list in ["containers", "initContainers"] {
        for (ci, c) in arr(spec, list).iter().enumerate() {
            for (pi, p) in arr(c, "ports").iter().enumerate() {
                let host = int(p, "hostPort").unwrap_or(0);
                let cont = int(p, "containerPort").unwrap_or(0);
                if host != cont && (is_pod || host != 0) {
                    let pp = child(&index(&child(&index(&child(path, list), ci), "ports"), pi), "hostPort");
                    e.invalid(&pp, Bad::Int(host), "must match `containerPort` when `hostNetwork` is true");
                }
            }
        }
    }
}

/// Upstream `ValidateVolumes`; returns the names of the valid volumes.
fn validate_volumes<'a>(volumes: &'a [Value], path: &str, e: &mut Errs) -> HashSet<&'a str> {
    let mut names_ok = HashSet::new();
    for (i, vol) in volumes.iter().enumerate() {
        let vp = index(path, i);
        let mut el = Errs::default();
        validate_volume_source(vol, &vp, &mut el);
        let name = s(vol, "name");
        let name_path = child(&vp, "name");
        if name.is_empty() {
            el.required(&name_path, "");
        } else {
            el.invalid_each(&name_path, name, names::dns1123_label_errors(name));
        }
        if names_ok.contains(name) {
            el.duplicate(&name_path, Bad::Str(name));
        }
        if el.0.is_empty() {
            names_ok.insert(name);
        } else {
            e.0.extend(el.0);
        }
    }
    names_ok
}

fn validate_volume_source(vol: &Value, path: &str, e: &mut Errs) {
    let mut count = 0;
    for src in VOLUME_SOURCES {
        let Some(v) = get(vol, src) else { continue };
        let sp = child(path, src);
        if count > 0 {
            e.forbidden(&sp, "may not specify more than 1 volume type");
            continue;
        }
        count += 1;
        match src {
            "emptyDir" => {
                if let Some(limit) = opt_s(v, "sizeLimit") {
                    match Quantity::parse(limit) {
                        Err(err) => e.invalid(&child(&sp, "sizeLimit"), Bad::Str(limit), &err.to_string()),
                        Ok(q) if q.is_negative() => {
                            e.forbidden(&child(&sp, "sizeLimit"), "SizeLimit field must be a valid resource quantity")
                        }
                        Ok(_) => {}
                    }
                }
            }
            "hostPath" => {
                let p = s(v, "path");
                if p.is_empty() {
                    e.required(&child(&sp, "path"), "");
                } else {
                    no_backsteps(p, &child(&sp, "path"), e);
                }
                if let Some(t) = opt_s(v, "type") {
                    const TYPES: [&str; 8] = [
                        "",
                        "BlockDevice",
                        "CharDevice",
                        "Directory",
                        "DirectoryOrCreate",
                        "File",
                        "FileOrCreate",
                        "Socket",
                    ];
                    if !TYPES.contains(&t) {
                        e.not_supported(&child(&sp, "type"), Bad::Str(t), &TYPES);
                    }
                }
            }
            "secret" => {
                if s(v, "secretName").is_empty() {
                    e.required(&child(&sp, "secretName"), "");
                }
                file_mode(int(v, "defaultMode"), &child(&sp, "defaultMode"), e);
                validate_key_to_paths(arr(v, "items"), &child(&sp, "items"), e);
            }
            "configMap" => {
                if s(v, "name").is_empty() {
                    e.required(&child(&sp, "name"), "");
                }
                file_mode(int(v, "defaultMode"), &child(&sp, "defaultMode"), e);
                validate_key_to_paths(arr(v, "items"), &child(&sp, "items"), e);
            }
            "persistentVolumeClaim" if s(v, "claimName").is_empty() => e.required(&child(&sp, "claimName"), ""),
            "nfs" => {
                if s(v, "server").is_empty() {
                    e.required(&child(&sp, "server"), "");
                }
                let p = s(v, "path");
                if p.is_empty() {
                    e.required(&child(&sp, "path"), "");
                } else if !p.starts_with('/') {
                    e.invalid(&child(&sp, "path"), Bad::Str(p), "must be an absolute path");
                }
            }
            "downwardAPI" => {
                file_mode(int(v, "defaultMode"), &child(&sp, "defaultMode"), e);
                for (j, item) in arr(v, "items").iter().enumerate() {
                    let ip = index(&child(&sp, "items"), j);
                    let p = s(item, "path");
                    if p.is_empty() {
                        e.required(&child(&ip, "path"), "");
                    } else {
                        local_non_reserved_path(p, &child(&ip, "path"), e);
                    }
                    file_mode(int(item, "mode"), &child(&ip, "mode"), e);
                }
            }
            "projected" => file_mode(int(v, "defaultMode"), &child(&sp, "defaultMode"), e),
            "csi" if s(v, "driver").is_empty() => e.required(&child(&sp, "driver"), ""),
            _ => {}
        }
    }
    if count == 0 {
        e.required(path, "must specify a volume type");
    }
}

fn file_mode(mode: Option<i64>, path: &str, e: &mut Errs) {
    if let Some(m) = mode {
        if !(0..=0o777).contains(&m) {
            e.invalid(path, Bad::Int(m), FILE_MODE);
        }
    }
}

fn validate_key_to_paths(items: &[Value], path: &str, e: &mut Errs) {
    for (i, item) in items.iter().enumerate() {
        let ip = index(path, i);
        if s(item, "key").is_empty() {
            e.required(&child(&ip, "key"), "");
        }
        let p = s(item, "path");
        if p.is_empty() {
            e.required(&child(&ip, "path"), "");
        } else {
            local_non_reserved_path(p, &child(&ip, "path"), e);
        }
        file_mode(int(item, "mode"), &child(&ip, "mode"), e);
    }
}

/// A path that must not contain `..` elements.
fn no_backsteps(p: &str, path: &str, e: &mut Errs) {
    if p.split('/').any(|part| part == "..") {
        e.invalid(path, Bad::Str(p), "must not contain '..'");
    }
}

/// A relative path below the volume root.
fn local_descending_path(p: &str, path: &str, e: &mut Errs) {
    if p.starts_with('/') {
        e.invalid(path, Bad::Str(p), "must be a relative path");
    }
    no_backsteps(p, path, e);
}

fn local_non_reserved_path(p: &str, path: &str, e: &mut Errs) {
    local_descending_path(p, path, e);
    if p.starts_with("..") && !p.starts_with("../") {
        e.invalid(path, Bad::Str(p), "must not start with '..'");
    }
}

/// Regular containers (upstream `validateContainers`).
fn validate_containers(containers: &[Value], path: &str, ctx: &PodCtx<'_>, e: &mut Errs) {
    if containers.is_empty() {
        e.required(path, "");
    }
    let mut seen = HashSet::new();
    for (i, c) in containers.iter().enumerate() {
        let cp = index(path, i);
        validate_container_common(c, &cp, ctx, e);
        let name = s(c, "name");
        if !seen.insert(name) {
            e.duplicate(&child(&cp, "name"), Bad::Str(name));
        }
        if s(c, "image").is_empty() {
            e.required(&child(&cp, "image"), "");
        }
        if let Some(l) = get(c, "lifecycle") {
            validate_lifecycle(l, &child(&cp, "lifecycle"), e);
        }
        validate_probe(get(c, "livenessProbe"), &child(&cp, "livenessProbe"), true, e);
        validate_probe(get(c, "readinessProbe"), &child(&cp, "readinessProbe"), false, e);
        validate_probe(get(c, "startupProbe"), &child(&cp, "startupProbe"), true, e);
        if let Some(rp) = get(c, "readinessProbe") {
            if int(rp, "terminationGracePeriodSeconds").is_some() {
                e.invalid(
                    &child(&child(&cp, "readinessProbe"), "terminationGracePeriodSeconds"),
                    Bad::Int(int(rp, "terminationGracePeriodSeconds").unwrap_or(0)),
                    "must not be set for readinessProbes",
                );
            }
        }
        if get(c, "restartPolicy").is_some() {
            e.forbidden(&child(&cp, "restartPolicy"), "may not be set for non-init containers");
        }
    }
    host_port_conflicts(containers, path, e);
}

/// Init containers (upstream `validateInitContainers`).
fn validate_init_containers(inits: &[Value], regular: &[Value], path: &str, ctx: &PodCtx<'_>, e: &mut Errs) {
    let mut seen: HashSet<&str> = regular.iter().map(|c| s(c, "name")).collect();
    for (i, c) in inits.iter().enumerate() {
        let cp = index(path, i);
        validate_container_common(c, &cp, ctx, e);
        let mut sidecar = false;
        if let Some(rp) = get(c, "restartPolicy") {
            let rp = rp.as_str().unwrap_or("");
            if rp == "Always" {
                sidecar = true;
            } else {
                e.not_supported(&child(&cp, "restartPolicy"), Bad::Str(rp), &["Always"]);
            }
        }
        let name = s(c, "name");
        if seen.contains(name) {
            e.duplicate(&child(&cp, "name"), Bad::Str(name));
        } else if !name.is_empty() {
            seen.insert(name);
        }
        if s(c, "image").is_empty() {
            e.required(&child(&cp, "image"), "");
        }
        host_port_conflicts(std::slice::from_ref(c), path, e);
        if sidecar {
            if let Some(l) = get(c, "lifecycle") {
                validate_lifecycle(l, &child(&cp, "lifecycle"), e);
            }
            validate_probe(get(c, "livenessProbe"), &child(&cp, "livenessProbe"), true, e);
            validate_probe(get(c, "readinessProbe"), &child(&cp, "readinessProbe"), false, e);
            validate_probe(get(c, "startupProbe"), &child(&cp, "startupProbe"), true, e);
        } else {
            for f in ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"] {
                if get(c, f).is_some() {
                    e.forbidden(&child(&cp, f), "may not be set for init containers without restartPolicy=Always");
                }
            }
        }
    }
}

/// Upstream `validateContainerCommon`.
fn validate_container_common(c: &Value, path: &str, ctx: &PodCtx<'_>, e: &mut Errs) {
    let name = s(c, "name");
    let name_path = child(path, "name");
    if name.is_empty() {
        e.required(&name_path, "");
    } else {
        e.invalid_each(&name_path, name, names::dns1123_label_errors(name));
    }
    const TMP: &str = "must be 'File' or 'FallbackToLogsOnError'";
    match opt_s(c, "terminationMessagePolicy") {
        None | Some("") => e.required(&child(path, "terminationMessagePolicy"), TMP),
        Some("File" | "FallbackToLogsOnError") => {}
        Some(other) => e.invalid(&child(path, "terminationMessagePolicy"), Bad::Str(other), TMP),
    }
    validate_container_ports(arr(c, "ports"), &child(path, "ports"), e);
    validate_env(arr(c, "env"), &child(path, "env"), e);
    validate_env_from(arr(c, "envFrom"), &child(path, "envFrom"), e);
    validate_volume_mounts(c, &child(path, "volumeMounts"), ctx, e);
    validate_enum(
        opt_s(c, "imagePullPolicy"),
        &child(path, "imagePullPolicy"),
        &["Always", "IfNotPresent", "Never"],
        "",
        e,
    );
    validate_resources(field(c, "resources"), &child(path, "resources"), e);
    let sc = field(c, "securityContext");
    for f in ["runAsUser", "runAsGroup"] {
        id_range(int(sc, f), &child(&child(path, "securityContext"), f), e);
    }
    if ctx.is_pod {
        let image = s(c, "image");
        if image.trim() != image {
            e.invalid(&child(path, "image"), Bad::Str(image), "must not have leading or trailing whitespace");
        }
    }
}

fn validate_container_ports(ports: &[Value], path: &str, e: &mut Errs) {
    let mut names_seen = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = index(path, i);
        let name = s(p, "name");
        if !name.is_empty() {
            let msgs = names::port_name_errors(name);
            if !msgs.is_empty() {
                e.invalid_each(&child(&pp, "name"), name, msgs);
            } else if !names_seen.insert(name) {
                e.duplicate(&child(&pp, "name"), Bad::Str(name));
            }
        }
        match int(p, "containerPort").unwrap_or(0) {
            0 => e.required(&child(&pp, "containerPort"), ""),
            n => {
                for m in names::port_number_errors(n) {
                    e.invalid(&child(&pp, "containerPort"), Bad::Int(n), &m);
                }
            }
        }
        let host = int(p, "hostPort").unwrap_or(0);
        if host != 0 {
            for m in names::port_number_errors(host) {
                e.invalid(&child(&pp, "hostPort"), Bad::Int(host), &m);
            }
        }
        validate_enum(opt_s(p, "protocol"), &child(&pp, "protocol"), &SUPPORTED_PROTOCOLS, "", e);
    }
}

/// Host ports must be unique per (hostIP, protocol, port) across the
/// containers given.
fn host_port_conflicts(containers: &[Value], path: &str, e: &mut Errs) {
    let mut seen = HashSet::new();
    for (ci, c) in containers.iter().enumerate() {
        for (pi, p) in arr(c, "ports").iter().enumerate() {
            let port = int(p, "hostPort").unwrap_or(0);
            if port == 0 {
                continue;
            }
            let k = format!("{}/{}/{}", s(p, "hostIP"), s(p, "protocol"), port);
            if seen.contains(&k) {
                let hp = child(&index(&child(&index(path, ci), "ports"), pi), "hostPort");
                e.duplicate(&hp, Bad::Str(&k));
            } else {
                seen.insert(k);
            }
        }
    }
}

const ENV_FIELD_PATHS: [&str; 9] = [
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

fn validate_env(vars: &[Value], path: &str, e: &mut Errs) {
    for (i, ev) in vars.iter().enumerate() {
        let ep = index(path, i);
        let name = s(ev, "name");
        if name.is_empty() {
            e.required(&child(&ep, "name"), "");
        } else {
            e.invalid_each(&child(&ep, "name"), name, names::env_var_name_errors(name));
        }
        let Some(from) = get(ev, "valueFrom") else { continue };
        let fp = child(&ep, "valueFrom");
        let mut sources = 0;
        if let Some(fr) = get(from, "fieldRef") {
            sources += 1;
            let frp = child(&fp, "fieldRef");
            if s(fr, "apiVersion").is_empty() {
                e.required(&child(&frp, "apiVersion"), "");
            }
            let f = s(fr, "fieldPath");
            if f.is_empty() {
                e.required(&child(&frp, "fieldPath"), "");
            } else if !ENV_FIELD_PATHS.contains(&f)
                && !f.starts_with("metadata.labels['")
                && !f.starts_with("metadata.annotations['")
            {
                e.not_supported(&child(&frp, "fieldPath"), Bad::Str(f), &ENV_FIELD_PATHS);
            }
        }
        if let Some(rf) = get(from, "resourceFieldRef") {
            sources += 1;
            if s(rf, "resource").is_empty() {
                e.required(&child(&child(&fp, "resourceFieldRef"), "resource"), "");
            }
        }
        for src in ["configMapKeyRef", "secretKeyRef"] {
            let Some(r) = get(from, src) else { continue };
            sources += 1;
            let rp = child(&fp, src);
            let n = s(r, "name");
            e.invalid_each(&child(&rp, "name"), n, names::dns1123_subdomain_errors(n));
            let k = s(r, "key");
            if k.is_empty() {
                e.required(&child(&rp, "key"), "");
            } else {
                e.invalid_each(&child(&rp, "key"), k, names::config_map_key_errors(k));
            }
        }
        if sources == 0 {
            e.invalid(
                &fp,
                Bad::Str(""),
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            );
        } else if !s(ev, "value").is_empty() {
            e.invalid(&fp, Bad::Str(""), "may not be specified when `value` is not empty");
        } else if sources > 1 {
            e.invalid(&fp, Bad::Str(""), "may not have more than one field specified at a time");
        }
    }
}

fn validate_env_from(sources: &[Value], path: &str, e: &mut Errs) {
    for (i, src) in sources.iter().enumerate() {
        let sp = index(path, i);
        let prefix = s(src, "prefix");
        if !prefix.is_empty() {
            e.invalid_each(&child(&sp, "prefix"), prefix, names::env_var_name_errors(prefix));
        }
        let mut count = 0;
        for r in ["configMapRef", "secretRef"] {
            let Some(rv) = get(src, r) else { continue };
            count += 1;
            let n = s(rv, "name");
            let np = child(&child(&sp, r), "name");
            if n.is_empty() {
                e.required(&np, "");
            } else {
                e.invalid_each(&np, n, names::dns1123_subdomain_errors(n));
            }
        }
        if count == 0 {
            e.invalid(path, Bad::Str(""), "must specify one of: `configMapRef` or `secretRef`");
        } else if count > 1 {
            e.invalid(path, Bad::Str(""), "may not have more than one field specified at a time");
        }
    }
}

fn validate_volume_mounts(c: &Value, path: &str, ctx: &PodCtx<'_>, e: &mut Errs) {
    let devices: Vec<(&str, &str)> =
        arr(c, "volumeDevices").iter().map(|d| (s(d, "name"), s(d, "devicePath"))).collect();
    let mut mount_points = HashSet::new();
    for (i, m) in arr(c, "volumeMounts").iter().enumerate() {
        let mp = index(path, i);
        let name = s(m, "name");
        if name.is_empty() {
            e.required(&child(&mp, "name"), "");
        }
        if !ctx.volumes.contains(name) {
            e.not_found(&child(&mp, "name"), Bad::Str(name));
        }
        let mount_path = s(m, "mountPath");
        if mount_path.is_empty() {
            e.required(&child(&mp, "mountPath"), "");
        }
        if !mount_points.insert(mount_path) {
            e.invalid(&child(&mp, "mountPath"), Bad::Str(mount_path), "must be unique");
        }
        if devices.iter().any(|(n, _)| *n == name) {
            e.invalid(&child(&mp, "name"), Bad::Str(name), "must not already exist in volumeDevices");
        }
        if devices.iter().any(|(_, p)| *p == mount_path) {
            e.invalid(
                &child(&mp, "mountPath"),
                Bad::Str(mount_path),
                "must not already exist as a path in volumeDevices",
            );
        }
        let sub = s(m, "subPath");
        if !sub.is_empty() {
            local_descending_path(sub, &child(path, "subPath"), e);
        }
        let sub_expr = s(m, "subPathExpr");
        if !sub_expr.is_empty() {
            if !sub.is_empty() {
                e.invalid(
                    &child(&mp, "subPathExpr"),
                    Bad::Str(sub_expr),
                    "subPathExpr and subPath are mutually exclusive",
                );
            }
            local_descending_path(sub_expr, &child(path, "subPathExpr"), e);
        }
        if let Some(prop) = opt_s(m, "mountPropagation") {
            const MODES: [&str; 3] = ["Bidirectional", "HostToContainer", "None"];
            if !MODES.contains(&prop) {
                e.not_supported(&child(path, "mountPropagation"), Bad::Str(prop), &MODES);
            }
        }
    }
}

/// Whether a resource name is native (no domain, or a `kubernetes.io`
/// domain).
fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

fn is_hugepages(name: &str) -> bool {
    name.starts_with("hugepages-")
}

/// Extended resources (`example.com/gpu`): integers, not overcommitable.
fn is_extended_resource(name: &str) -> bool {
    !is_native_resource(name)
        && !name.starts_with("requests.")
        && names::qualified_name_errors(&format!("requests.{name}")).is_empty()
}

fn is_standard_resource(name: &str) -> bool {
    const STANDARD: [&str; 19] = [
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "requests.storage",
        "services.nodeports",
        "services.loadbalancers",
    ];
    STANDARD.contains(&name) || is_hugepages(name) || name.starts_with("requests.hugepages-")
}

fn validate_container_resource_name(name: &str, path: &str, e: &mut Errs) -> bool {
    let msgs = names::qualified_name_errors(name);
    if !msgs.is_empty() {
        e.invalid_each(path, name, msgs);
        return false;
    }
    if !name.contains('/') {
        if !is_standard_resource(name) {
            e.invalid(path, Bad::Str(name), "must be a standard resource type or fully qualified");
            return false;
        }
        if !matches!(name, "cpu" | "memory" | "ephemeral-storage") && !is_hugepages(name) {
            e.invalid(path, Bad::Str(name), "must be a standard resource for containers");
            return false;
        }
    } else if !is_native_resource(name) && !is_extended_resource(name) {
        e.invalid(path, Bad::Str(name), "doesn't follow extended resource name standard");
        return false;
    }
    true
}

/// Parses and checks one resource quantity of a resource list.
fn resource_quantity(name: &str, raw: &Value, path: &str, e: &mut Errs) -> Option<Quantity> {
    let text = match raw {
        Value::String(t) => t.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let q = match Quantity::parse(&text) {
        Ok(q) => q,
        Err(err) => {
            e.invalid(path, Bad::Str(&text), &err.to_string());
            return None;
        }
    };
    if q.is_negative() {
        e.invalid(path, Bad::Str(&q.canonical()), IS_NEGATIVE);
    }
    if is_extended_resource(name) && !q.is_integer() {
        e.invalid(path, Bad::Text(q.canonical()), "must be an integer");
    }
    Some(q)
}

/// Upstream `ValidateResourceRequirements` for a container.
fn validate_resources(res: &Value, path: &str, e: &mut Errs) {
    let lim_path = child(path, "limits");
    let req_path = child(path, "requests");
    let limits_obj = get(res, "limits").and_then(Value::as_object);
    let requests_obj = get(res, "requests").and_then(Value::as_object);
    let mut limits: BTreeMap<&str, Quantity> = BTreeMap::new();
    let mut lim_cpu_mem = false;
    let mut req_cpu_mem = false;
    let mut huge = false;
    for (name, raw) in limits_obj.into_iter().flatten() {
        let fp = key(&lim_path, name);
        let name_ok = validate_container_resource_name(name, &fp, e);
        if let Some(q) = resource_quantity(name, raw, &fp, e) {
            if name_ok {
                limits.insert(name, q);
            }
        }
        huge |= is_hugepages(name);
        lim_cpu_mem |= matches!(name.as_str(), "cpu" | "memory");
    }
    for (name, raw) in requests_obj.into_iter().flatten() {
        let fp = key(&req_path, name);
        validate_container_resource_name(name, &fp, e);
        let q = resource_quantity(name, raw, &fp, e);
        let overcommit = is_native_resource(name) && !is_hugepages(name);
        match (limits.get(name.as_str()), q) {
            (Some(lim), Some(q)) => {
                if q.nanos != lim.nanos && !overcommit {
                    e.invalid(
                        &req_path,
                        Bad::Str(&q.canonical()),
                        &format!("must be equal to {name} limit of {}", lim.canonical()),
                    );
                } else if q.nanos > lim.nanos {
                    e.invalid(
                        &req_path,
                        Bad::Str(&q.canonical()),
                        &format!("must be less than or equal to {name} limit of {}", lim.canonical()),
                    );
                }
            }
            (None, _) if !overcommit && !limits_obj.is_some_and(|l| l.contains_key(name)) => {
                e.required(&lim_path, "Limit must be set for non overcommitable resources");
            }
            _ => {}
        }
        huge |= is_hugepages(name);
        req_cpu_mem |= matches!(name.as_str(), "cpu" | "memory");
    }
    if huge && !lim_cpu_mem && !req_cpu_mem {
        e.forbidden(path, "HugePages require cpu or memory");
    }
}

fn validate_tolerations(tolerations: &[Value], path: &str, e: &mut Errs) {
    for (i, t) in tolerations.iter().enumerate() {
        let tp = index(path, i);
        let k = s(t, "key");
        if !k.is_empty() {
            e.invalid_each(&child(&tp, "key"), k, names::qualified_name_errors(k));
        }
        let op = s(t, "operator");
        if k.is_empty() && op != "Exists" {
            e.invalid(
                &child(&tp, "operator"),
                Bad::Str(op),
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            );
        }
        let effect = s(t, "effect");
        if int(t, "tolerationSeconds").is_some() && effect != "NoExecute" {
            e.invalid(
                &child(&tp, "effect"),
                Bad::Str(effect),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            );
        }
        let value = s(t, "value");
        match op {
            "" | "Equal" => {
                let msgs = names::label_value_errors(value);
                if !msgs.is_empty() {
                    e.invalid(&child(&tp, "operator"), Bad::Str(value), &msgs.join(";"));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    e.invalid(
                        &child(&tp, "operator"),
                        Bad::Text(json_text(Some(t))),
                        "value must be empty when `operator` is 'Exists'",
                    );
                }
            }
            other => e.not_supported(&child(&tp, "operator"), Bad::Str(other), &["Equal", "Exists"]),
        }
        if !effect.is_empty() {
            validate_taint_effect(effect, &child(&tp, "effect"), e);
        }
    }
}

fn validate_taint_effect(effect: &str, path: &str, e: &mut Errs) {
    if effect.is_empty() {
        e.required(path, "");
    } else if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
        e.not_supported(path, Bad::Str(effect), &["NoSchedule", "PreferNoSchedule", "NoExecute"]);
    }
}

/// Validates an int-or-string port: a number 1-65535 or an IANA port name.
fn validate_port_num_or_name(port: Option<&Value>, path: &str, e: &mut Errs) {
    match IntOrStr::of(port) {
        Some(IntOrStr::Int(n)) => {
            for m in names::port_number_errors(n) {
                e.invalid(path, Bad::Int(n), &m);
            }
        }
        Some(IntOrStr::Str(name)) => e.invalid_each(path, name, names::port_name_errors(name)),
        None => {
            for m in names::port_number_errors(0) {
                e.invalid(path, Bad::Int(0), &m);
            }
        }
    }
}

/// One probe or lifecycle handler: exactly one action.
fn validate_handler(h: &Value, path: &str, allow_sleep: bool, e: &mut Errs) {
    let mut count = 0;
    for kind in ["exec", "httpGet", "tcpSocket", "grpc", "sleep"] {
        let Some(a) = get(h, kind) else { continue };
        if (kind == "grpc" && allow_sleep) || (kind == "sleep" && !allow_sleep) {
            continue;
        }
        let ap = child(path, kind);
        if count > 0 {
            e.forbidden(&ap, "may not specify more than 1 handler type");
            continue;
        }
        count += 1;
        match kind {
            "exec" => {
                if arr(a, "command").is_empty() {
                    e.required(&child(&ap, "command"), "");
                }
            }
            "httpGet" => {
                if s(a, "path").is_empty() {
                    e.required(&child(&ap, "path"), "");
                }
                validate_port_num_or_name(get(a, "port"), &child(&ap, "port"), e);
                let scheme = s(a, "scheme");
                if !matches!(scheme, "HTTP" | "HTTPS") {
                    e.not_supported(&child(&ap, "scheme"), Bad::Str(scheme), &["HTTP", "HTTPS"]);
                }
                for hdr in arr(a, "httpHeaders") {
                    let n = s(hdr, "name");
                    if n.is_empty() || !n.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
                        e.invalid(
                            &child(&ap, "httpHeaders"),
                            Bad::Str(n),
                            &names::regex_error(
                                "a valid HTTP header must consist of alphanumeric characters or '-'",
                                "[-A-Za-z0-9]+",
                                &["X-Header-Name"],
                            ),
                        );
                    }
                }
            }
            "tcpSocket" => validate_port_num_or_name(get(a, "port"), &child(&ap, "port"), e),
            "grpc" => {
                let port = int(a, "port").unwrap_or(0);
                for m in names::port_number_errors(port) {
                    e.invalid(&child(&ap, "port"), Bad::Int(port), &m);
                }
            }
            _ => {
                let secs = int(a, "seconds").unwrap_or(0);
                if secs < 0 {
                    e.invalid(&child(&ap, "seconds"), Bad::Int(secs), "must be non-negative integer");
                }
            }
        }
    }
    if count == 0 {
        e.required(path, "must specify a handler type");
    }
}

fn validate_lifecycle(l: &Value, path: &str, e: &mut Errs) {
    for hook in ["postStart", "preStop"] {
        if let Some(h) = get(l, hook) {
            validate_handler(h, &child(path, hook), true, e);
        }
    }
}

/// A probe; liveness and startup probes need `successThreshold` 1.
fn validate_probe(probe: Option<&Value>, path: &str, threshold_one: bool, e: &mut Errs) {
    let Some(p) = probe else { return };
    validate_handler(p, path, false, e);
    for f in ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"] {
        e.nonnegative(&child(path, f), int(p, f));
    }
    if let Some(t) = int(p, "terminationGracePeriodSeconds") {
        if t <= 0 {
            e.invalid(&child(path, "terminationGracePeriodSeconds"), Bad::Int(t), "must be greater than 0");
        }
    }
    if threshold_one {
        if let Some(st) = int(p, "successThreshold") {
            if st != 1 {
                e.invalid(&child(path, "successThreshold"), Bad::Int(st), "must be 1");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Pods
// ---------------------------------------------------------------------------

const UPDATABLE_POD_FIELDS: [&str; 5] = [
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
];

fn validate_pod(obj: &Value, old: Option<&Value>, e: &mut Errs) {
    validate_object_meta(obj, true, NameRule::Subdomain, e);
    let spec = field(obj, "spec");
    validate_pod_spec(spec, "spec", true, e);
    match old {
        None => {
            if !arr(spec, "ephemeralContainers").is_empty() {
                e.forbidden("spec.ephemeralContainers", "cannot be set on create");
            }
        }
        Some(old) => validate_pod_update(spec, field(old, "spec"), e),
    }
}

/// Sets `k` to a copy of `v`, or removes it when `v` is absent.
fn set_or_remove(m: &mut Map<String, Value>, k: &str, v: Option<&Value>) {
    match v {
        Some(v) => {
            m.insert(k.to_string(), v.clone());
        }
        None => {
            m.remove(k);
        }
    }
}

/// Upstream `ValidatePodUpdate`: a Pod's spec is immutable except for the
/// fields in [`UPDATABLE_POD_FIELDS`] (and removing scheduling gates).
fn validate_pod_update(spec: &Value, old_spec: &Value, e: &mut Errs) {
    for list in ["containers", "initContainers"] {
        if arr(spec, list).len() != arr(old_spec, list).len() {
            e.forbidden(&child("spec", list), "pod updates may not add or remove containers");
            return;
        }
    }
    let ads_path = "spec.activeDeadlineSeconds";
    match (int(spec, "activeDeadlineSeconds"), int(old_spec, "activeDeadlineSeconds")) {
        (Some(n), old) => {
            if !(0..=MAX_INT32).contains(&n) {
                e.invalid(ads_path, Bad::Int(n), &names::inclusive_range_error(0, MAX_INT32));
                return;
            }
            if old.is_some_and(|o| o < n) {
                e.invalid(ads_path, Bad::Int(n), "must be less than or equal to previous value");
                return;
            }
        }
        (None, Some(_)) => {
            e.invalid(ads_path, Bad::Str("null"), "must not update from a positive integer to nil value")
        }
        (None, None) => {}
    }
    let without_seconds = |t: &Value| {
        let mut t = normalized(t);
        if let Some(m) = t.as_object_mut() {
            m.remove("tolerationSeconds");
        }
        t
    };
    let new_tolerations: Vec<Value> = arr(spec, "tolerations").iter().map(without_seconds).collect();
    if arr(old_spec, "tolerations").iter().any(|o| !new_tolerations.contains(&without_seconds(o))) {
        e.forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds");
    }
    let old_gates: HashSet<&str> = arr(old_spec, "schedulingGates").iter().map(|g| s(g, "name")).collect();
    let mut added: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, g) in arr(spec, "schedulingGates").iter().enumerate() {
        if !old_gates.contains(s(g, "name")) {
            added.insert(s(g, "name"), i);
        }
    }
    for (gate, i) in added {
        e.forbidden(
            &child(&index("spec.schedulingGates", i), "name"),
            &format!("only deletion is allowed, but found new scheduling gate '{gate}'"),
        );
    }
    if normalized(spec) == normalized(old_spec) {
        return;
    }
    let mut munged = spec.clone();
    if let Some(m) = munged.as_object_mut() {
        for list in ["containers", "initContainers"] {
            if let Some(cs) = m.get_mut(list).and_then(Value::as_array_mut) {
                for (c, o) in cs.iter_mut().zip(arr(old_spec, list)) {
                    if let Some(c) = c.as_object_mut() {
                        set_or_remove(c, "image", get(o, "image"));
                    }
                }
            }
        }
        for f in ["activeDeadlineSeconds", "schedulingGates", "tolerations"] {
            set_or_remove(m, f, get(old_spec, f));
        }
        let old_grace = int(old_spec, "terminationGracePeriodSeconds");
        if old_grace.is_some_and(|g| g < 0) && int(spec, "terminationGracePeriodSeconds") == Some(1) {
            set_or_remove(m, "terminationGracePeriodSeconds", get(old_spec, "terminationGracePeriodSeconds"));
        }
        if !arr(old_spec, "schedulingGates").is_empty()
            && !same(get(spec, "nodeSelector"), get(old_spec, "nodeSelector"))
        {
            let new_sel = str_map(spec, "nodeSelector");
            if str_map(old_spec, "nodeSelector").iter().any(|kv| !new_sel.contains(kv)) {
                e.invalid(
                    "spec.nodeSelector",
                    Bad::Text(go_string_map(get(spec, "nodeSelector"))),
                    "only additions to spec.nodeSelector are allowed (no mutations or deletions)",
                );
            }
            set_or_remove(m, "nodeSelector", get(old_spec, "nodeSelector"));
        }
    }
    let (old_n, new_n) = (normalized(old_spec), normalized(&munged));
    if old_n != new_n {
        let mut lines = Vec::new();
        diff_paths("spec", &old_n, &new_n, 0, &mut lines);
        let diff: Vec<String> = lines.iter().map(|l| format!("  {l}")).collect();
        e.forbidden(
            "spec",
            &format!(
                "pod updates may not change fields other than {}\n{}",
                UPDATABLE_POD_FIELDS.join(","),
                diff.join("\n")
            ),
        );
    }
}

// ---------------------------------------------------------------------------
// Deployments and ReplicaSets
// ---------------------------------------------------------------------------

/// The selector of a Deployment or ReplicaSet: required, well-formed and
/// non-empty.
fn validate_rs_selector<'a>(spec: &'a Value, e: &mut Errs) -> Selector<'a> {
    match get(spec, "selector") {
        None => e.required("spec.selector", ""),
        Some(sel) => {
            validate_label_selector(sel, "spec.selector", e);
            if str_map(sel, "matchLabels").is_empty() && arr(sel, "matchExpressions").is_empty() {
                e.invalid(
                    "spec.selector",
                    Bad::Text(go_selector(Some(sel))),
                    "empty selector is invalid for deployment",
                );
            }
        }
    }
    let selector = Selector::of(get(spec, "selector"));
    if matches!(selector, Selector::Invalid) {
        e.invalid("spec.selector", Bad::Text(go_selector(get(spec, "selector"))), "invalid label selector");
    }
    selector
}

/// Upstream `ValidatePodTemplateSpecForReplicaSet`.
fn validate_rs_template(spec: &Value, selector: &Selector<'_>, e: &mut Errs) {
    if matches!(selector, Selector::Invalid) {
        return;
    }
    let tpl = field(spec, "template");
    let labels = get(field(tpl, "metadata"), "labels");
    if !matches!(selector, Selector::Everything) && !selector.matches(labels) {
        e.invalid(
            "spec.template.metadata.labels",
            Bad::Text(go_string_map(labels)),
            "`selector` does not match template `labels`",
        );
    }
    validate_pod_template(tpl, "spec.template", e);
    let pod_spec = field(tpl, "spec");
    let rp = s(pod_spec, "restartPolicy");
    if rp != "Always" {
        e.not_supported("spec.template.spec.restartPolicy", Bad::Str(rp), &["Always"]);
    }
    if get(pod_spec, "activeDeadlineSeconds").is_some() {
        e.forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in ReplicaSet is not Supported");
    }
}

fn selector_immutable(obj: &Value, old: Option<&Value>, e: &mut Errs) {
    let Some(old) = old else { return };
    let new_sel = get(field(obj, "spec"), "selector");
    if !same(new_sel, get(field(old, "spec"), "selector")) {
        e.invalid("spec.selector", Bad::Text(go_selector(new_sel)), IMMUTABLE);
    }
}

fn validate_replicaset(obj: &Value, old: Option<&Value>, e: &mut Errs) {
    validate_object_meta(obj, true, NameRule::Subdomain, e);
    let spec = field(obj, "spec");
    e.nonnegative("spec.replicas", int(spec, "replicas"));
    e.nonnegative("spec.minReadySeconds", int(spec, "minReadySeconds"));
    let selector = validate_rs_selector(spec, e);
    validate_rs_template(spec, &selector, e);
    selector_immutable(obj, old, e);
}

/// The number an int-or-percent stands for (percent number for "25%").
fn int_or_percent_value(v: &IntOrStr<'_>) -> i64 {
    match v {
        IntOrStr::Int(i) => *i,
        IntOrStr::Str(t) => {
            let t = if names::percent_errors(t).is_empty() { &t[..t.len() - 1] } else { t };
            t.parse().unwrap_or(0)
        }
    }
}

fn validate_rolling_update(ru: &Value, path: &str, e: &mut Errs) {
    let mu = IntOrStr::of(get(ru, "maxUnavailable")).unwrap_or(IntOrStr::Int(0));
    let ms = IntOrStr::of(get(ru, "maxSurge")).unwrap_or(IntOrStr::Int(0));
    for (v, f) in [(&mu, "maxUnavailable"), (&ms, "maxSurge")] {
        let fp = child(path, f);
        match v {
            IntOrStr::Str(t) => {
                for m in names::percent_errors(t) {
                    e.invalid(&fp, Bad::Text(v.text()), &m);
                }
            }
            IntOrStr::Int(i) => e.nonnegative(&fp, Some(*i)),
        }
    }
    if int_or_percent_value(&mu) == 0 && int_or_percent_value(&ms) == 0 {
        e.invalid(&child(path, "maxUnavailable"), Bad::Text(mu.text()), "may not be 0 when `maxSurge` is 0");
    }
    if let IntOrStr::Str(t) = mu {
        if names::percent_errors(t).is_empty() && int_or_percent_value(&mu) > 100 {
            e.invalid(&child(path, "maxUnavailable"), Bad::Text(mu.text()), "must not be greater than 100%");
        }
    }
}

fn validate_deployment(obj: &Value, old: Option<&Value>, e: &mut Errs) {
    validate_object_meta(obj, true, NameRule::Subdomain, e);
    let spec = field(obj, "spec");
    e.nonnegative("spec.replicas", int(spec, "replicas"));
    let selector = validate_rs_selector(spec, e);
    validate_rs_template(spec, &selector, e);
    let strategy = field(spec, "strategy");
    let ty = s(strategy, "type");
    match ty {
        "Recreate" => {
            if get(strategy, "rollingUpdate").is_some() {
                e.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'");
            }
        }
        "RollingUpdate" => match get(strategy, "rollingUpdate") {
            None => e.required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil"),
            Some(ru) => validate_rolling_update(ru, "spec.strategy.rollingUpdate", e),
        },
        _ => {
            let ru = if get(strategy, "rollingUpdate").is_some() { "(...)" } else { "(nil)" };
            e.not_supported(
                "spec.strategy",
                Bad::Text(format!(
                    "apps.DeploymentStrategy{{Type:{}, RollingUpdate:(*apps.RollingUpdateDeployment){ru}}}",
                    go_quote(ty)
                )),
                &["Recreate", "RollingUpdate"],
            );
        }
    }
    let min_ready = int(spec, "minReadySeconds");
    e.nonnegative("spec.minReadySeconds", min_ready);
    e.nonnegative("spec.revisionHistoryLimit", int(spec, "revisionHistoryLimit"));
    if let Some(pds) = int(spec, "progressDeadlineSeconds") {
        e.nonnegative("spec.progressDeadlineSeconds", Some(pds));
        if pds <= min_ready.unwrap_or(0) {
            e.invalid("spec.progressDeadlineSeconds", Bad::Int(pds), "must be greater than minReadySeconds");
        }
    }
    selector_immutable(obj, old, e);
}

// ---------------------------------------------------------------------------
// Jobs and CronJobs
// ---------------------------------------------------------------------------

const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
const JOB_NAME: &str = "batch.kubernetes.io/job-name";
const LEGACY_CONTROLLER_UID: &str = "controller-uid";
const LEGACY_JOB_NAME: &str = "job-name";

/// Upstream `ValidateHasLabel`.
fn has_label(m: &Value, path: &str, k: &str, expected: &str, e: &mut Errs) {
    let p = key(&child(path, "labels"), k);
    match get(m, "labels").and_then(|l| l.get(k)).and_then(Value::as_str) {
        None => e.required(&p, expected),
        Some(v) if v != expected => {
            e.invalid(&p, Bad::Text(go_string_map(get(m, "labels"))), &format!("must be '{expected}'"))
        }
        Some(_) => {}
    }
}

/// Upstream `validateGeneratedSelector`: unless `manualSelector`, the
/// template carries the generated labels and the selector selects them.
fn validate_generated_selector(obj: &Value, prefixed: bool, e: &mut Errs) {
    let spec = field(obj, "spec");
    if boolean(spec, "manualSelector") == Some(true) {
        return;
    }
    let Some(sel) = get(spec, "selector") else { return };
    let m = meta(obj);
    let (uid, name) = (s(m, "uid"), s(m, "name"));
    if uid.is_empty() {
        e.required("metadata.uid", "");
    }
    let tm = field(field(spec, "template"), "metadata");
    let tp = "spec.template.metadata";
    has_label(tm, tp, LEGACY_CONTROLLER_UID, uid, e);
    has_label(tm, tp, LEGACY_JOB_NAME, name, e);
    let mut expected = Map::new();
    if prefixed {
        has_label(tm, tp, CONTROLLER_UID, uid, e);
        has_label(tm, tp, JOB_NAME, name, e);
        expected.insert(CONTROLLER_UID.to_string(), Value::from(uid));
        expected.insert(JOB_NAME.to_string(), Value::from(name));
    }
    expected.insert(LEGACY_CONTROLLER_UID.to_string(), Value::from(uid));
    expected.insert(LEGACY_JOB_NAME.to_string(), Value::from(name));
    let selector = Selector::of(Some(sel));
    if !matches!(selector, Selector::Invalid) && !selector.matches(Some(&Value::Object(expected))) {
        e.invalid("spec.selector", Bad::Text(go_selector(Some(sel))), "`selector` not auto-generated");
    }
}

/// Go's `%q` of a `[]string`: `["a" "b"]`.
fn go_quoted_list(items: &[&str]) -> String {
    let q: Vec<String> = items.iter().map(|i| go_quote(i)).collect();
    format!("[{}]", q.join(" "))
}

fn validate_pod_failure_policy(spec: &Value, pfp: &Value, path: &str, e: &mut Errs) {
    const ACTIONS: [&str; 4] = ["Count", "FailIndex", "FailJob", "Ignore"];
    let rules = arr(pfp, "rules");
    let rules_path = child(path, "rules");
    if rules.len() > 20 {
        e.too_many(&rules_path, rules.len(), 20);
    }
    let pod_spec = field(field(spec, "template"), "spec");
    let containers: HashSet<&str> =
        arr(pod_spec, "containers").iter().chain(arr(pod_spec, "initContainers")).map(|c| s(c, "name")).collect();
    for (i, rule) in rules.iter().enumerate() {
        let rp = index(&rules_path, i);
        let action = s(rule, "action");
        let ap = child(&rp, "action");
        if action.is_empty() {
            e.required(&ap, &format!("valid values: {}", go_quoted_list(&ACTIONS)));
        } else if action == "FailIndex" {
            if get(spec, "backoffLimitPerIndex").is_none() {
                e.invalid(&ap, Bad::Str(action), "requires the backoffLimitPerIndex to be set");
            }
        } else if !ACTIONS.contains(&action) {
            e.not_supported(&ap, Bad::Str(action), &ACTIONS);
        }
        let on_exit = get(rule, "onExitCodes");
        let on_conditions = arr(rule, "onPodConditions");
        if let Some(oe) = on_exit {
            let op_path = child(&rp, "onExitCodes");
            match s(oe, "operator") {
                "" => e.required(&child(&op_path, "operator"), "valid values: [\"In\" \"NotIn\"]"),
                "In" | "NotIn" => {}
                other => e.not_supported(&child(&op_path, "operator"), Bad::Str(other), &["In", "NotIn"]),
            }
            if let Some(cn) = opt_s(oe, "containerName") {
                if !containers.contains(cn) {
                    e.invalid(
                        &child(&op_path, "containerName"),
                        Bad::Str(cn),
                        "must be one of the container or initContainer names in the pod template",
                    );
                }
            }
            let values: Vec<i64> = arr(oe, "values").iter().filter_map(as_int).collect();
            let vp = child(&op_path, "values");
            let shown = || {
                let v: Vec<String> = values.iter().map(i64::to_string).collect();
                Bad::Text(format!("[]int32{{{}}}", v.join(", ")))
            };
            if values.is_empty() {
                e.invalid(&vp, shown(), "at least one value is required");
            } else if values.len() > 255 {
                e.too_many(&vp, values.len(), 255);
            }
            let mut seen = HashSet::new();
            for (j, v) in values.iter().enumerate() {
                if s(oe, "operator") == "In" && *v == 0 {
                    e.invalid(&index(&vp, j), Bad::Int(*v), "must not be 0 for the In operator");
                }
                if !seen.insert(*v) {
                    e.duplicate(&index(&vp, j), Bad::Int(*v));
                }
            }
            if values.windows(2).any(|w| w[0] > w[1]) {
                e.invalid(&vp, shown(), "must be ordered");
            }
        }
        if !on_conditions.is_empty() {
            let cp = child(&rp, "onPodConditions");
            if on_conditions.len() > 20 {
                e.too_many(&cp, on_conditions.len(), 20);
            }
            for (j, pat) in on_conditions.iter().enumerate() {
                let pp = index(&cp, j);
                let t = s(pat, "type");
                e.invalid_each(&child(&pp, "type"), t, names::qualified_name_errors(t));
                match s(pat, "status") {
                    "" => e.required(&child(&pp, "status"), "valid values: [\"False\" \"True\" \"Unknown\"]"),
                    "False" | "True" | "Unknown" => {}
                    other => e.not_supported(&child(&pp, "status"), Bad::Str(other), &["False", "True", "Unknown"]),
                }
            }
        }
        if on_exit.is_some() && !on_conditions.is_empty() {
            e.invalid(&rp, Bad::Omit, "specifying both OnExitCodes and OnPodConditions is not supported");
        }
        if on_exit.is_none() && on_conditions.is_empty() {
            e.invalid(&rp, Bad::Omit, "specifying one of OnExitCodes and OnPodConditions is required");
        }
    }
}

/// Upstream `validateJobSpec` (everything but the selector).
fn validate_job_spec(spec: &Value, path: &str, e: &mut Errs) {
    for f in ["parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished"] {
        e.nonnegative(&child(path, f), int(spec, f));
    }
    e.nonnegative(&child(path, "backoffLimitPerIndex"), int(spec, "backoffLimitPerIndex"));
    if let Some(mfi) = int(spec, "maxFailedIndexes") {
        e.nonnegative(&child(path, "maxFailedIndexes"), Some(mfi));
        if get(spec, "backoffLimitPerIndex").is_none() {
            e.required(&child(path, "backoffLimitPerIndex"), "when maxFailedIndexes is specified");
        }
    }
    if let Some(mb) = opt_s(spec, "managedBy") {
        let mp = child(path, "managedBy");
        match mb.split_once('/') {
            Some((host, rest)) if !host.is_empty() && !rest.is_empty() => {
                e.invalid_each(&mp, host, names::dns1123_subdomain_errors(host));
            }
            _ => e.invalid(&mp, Bad::Str(mb), "must be a domain-prefixed path (such as \"acme.io/foo\")"),
        }
        if mb.len() > 63 {
            e.push(TOO_LONG, &mp, "Too long: may not be longer than 63".to_string());
        }
    }
    let mode = opt_s(spec, "completionMode");
    let indexed = mode == Some("Indexed");
    if let Some(m) = mode {
        if !matches!(m, "NonIndexed" | "Indexed") {
            e.not_supported(&child(path, "completionMode"), Bad::Str(m), &["NonIndexed", "Indexed"]);
        }
        if indexed {
            if get(spec, "completions").is_none() {
                e.required(&child(path, "completions"), "when completion mode is Indexed");
            }
            if let Some(p) = int(spec, "parallelism").filter(|p| *p > 100_000) {
                e.invalid(
                    &child(path, "parallelism"),
                    Bad::Int(p),
                    "must be less than or equal to 100000 when completion mode is Indexed",
                );
            }
            if let (Some(c), Some(mfi)) = (int(spec, "completions"), int(spec, "maxFailedIndexes")) {
                if mfi > c {
                    e.invalid(
                        &child(path, "maxFailedIndexes"),
                        Bad::Int(mfi),
                        "must be less than or equal to completions",
                    );
                }
            }
        }
    }
    if !indexed {
        for f in ["backoffLimitPerIndex", "maxFailedIndexes"] {
            if let Some(v) = int(spec, f) {
                e.invalid(&child(path, f), Bad::Int(v), "requires indexed completion mode");
            }
        }
    }
    let pfp = get(spec, "podFailurePolicy");
    if let Some(p) = pfp {
        validate_pod_failure_policy(spec, p, &child(path, "podFailurePolicy"), e);
    }
    if let Some(sp) = get(spec, "successPolicy") {
        let spp = child(path, "successPolicy");
        if !indexed {
            e.invalid(&spp, Bad::Text(json_text(Some(sp))), "requires indexed completion mode");
        } else {
            let rules = arr(sp, "rules");
            let rules_path = child(&spp, "rules");
            if rules.is_empty() {
                e.required(&rules_path, "at least one rules must be specified when the successPolicy is specified");
            }
            if rules.len() > 20 {
                e.too_many(&rules_path, rules.len(), 20);
            }
            let completions = int(spec, "completions").unwrap_or(0);
            for (i, r) in rules.iter().enumerate() {
                let rp = index(&rules_path, i);
                let count = int(r, "succeededCount");
                if count.is_none() && get(r, "succeededIndexes").is_none() {
                    e.required(&rp, "at least one of succeededCount or succeededIndexes must be specified");
                }
                if let Some(c) = count {
                    e.nonnegative(&child(&rp, "succeededCount"), Some(c));
                    if c > completions {
                        e.invalid(
                            &child(&rp, "succeededCount"),
                            Bad::Int(c),
                            &format!(
                                "must be less than or equal to {completions} (the number of specified completions)"
                            ),
                        );
                    }
                }
            }
        }
    }
    if let Some(prp) = opt_s(spec, "podReplacementPolicy") {
        let pp = child(path, "podReplacementPolicy");
        if pfp.is_some() {
            if prp != "Failed" {
                e.not_supported(&pp, Bad::Str(prp), &["Failed"]);
            }
        } else if !matches!(prp, "Failed" | "TerminatingOrFailed") {
            e.not_supported(&pp, Bad::Str(prp), &["Failed", "TerminatingOrFailed"]);
        }
    }
    let tpl_path = child(path, "template");
    validate_pod_template(field(spec, "template"), &tpl_path, e);
    let rp_path = child(&child(&tpl_path, "spec"), "restartPolicy");
    let rp = s(field(field(spec, "template"), "spec"), "restartPolicy");
    match rp {
        "" | "Always" => e.required(&rp_path, "valid values: \"OnFailure\", \"Never\""),
        "OnFailure" | "Never" => {
            if pfp.is_some() && rp != "Never" {
                e.invalid(&rp_path, Bad::Str(rp), "only \"Never\" is supported when podFailurePolicy is specified");
            }
        }
        other => e.not_supported(&rp_path, Bad::Str(other), &["OnFailure", "Never"]),
    }
}

/// How an immutable field's new value is printed.
fn shown_value(v: Option<&Value>) -> Bad<'_> {
    match v {
        None | Some(Value::Null) => Bad::Str("null"),
        Some(Value::String(t)) => Bad::Str(t),
        Some(Value::Number(n)) => Bad::Text(n.to_string()),
        Some(Value::Bool(b)) => Bad::Text(b.to_string()),
        Some(other) => Bad::Text(json_text(Some(other))),
    }
}

fn immutable(path: &str, new: Option<&Value>, old: Option<&Value>, e: &mut Errs) {
    if !same(new, old) {
        e.invalid(path, shown_value(new), IMMUTABLE);
    }
}

fn validate_job(obj: &Value, old: Option<&Value>, e: &mut Errs) {
    validate_object_meta(obj, true, NameRule::Subdomain, e);
    let prefixed = match old {
        None => true,
        Some(o) => get(field(field(field(o, "spec"), "template"), "metadata"), "labels")
            .is_some_and(|l| l.get(CONTROLLER_UID).is_some()),
    };
    validate_generated_selector(obj, prefixed, e);
    let spec = field(obj, "spec");
    validate_job_spec(spec, "spec", e);
    match get(spec, "selector") {
        None => e.required("spec.selector", ""),
        Some(sel) => validate_label_selector(sel, "spec.selector", e),
    }
    let selector = Selector::of(get(spec, "selector"));
    let labels = get(field(field(spec, "template"), "metadata"), "labels");
    if !matches!(selector, Selector::Invalid) && !selector.matches(labels) {
        e.invalid(
            "spec.template.metadata.labels",
            Bad::Text(go_string_map(labels)),
            "`selector` does not match template `labels`",
        );
    }
    let name = s(meta(obj), "name");
    if s(spec, "completionMode") == "Indexed" {
        if let Some(c) = int(spec, "completions").filter(|c| *c > 0) {
            let host = format!("{name}-{}", c - 1);
            if !names::dns1123_label_errors(&host).is_empty() {
                e.invalid(
                    "metadata.name",
                    Bad::Str(name),
                    &format!("will not able to create pod with invalid DNS label: {host}"),
                );
            }
        }
    }
    if let Some(old) = old {
        validate_job_update(spec, field(old, "spec"), field(old, "status"), e);
    }
}

fn validate_job_update(spec: &Value, old_spec: &Value, old_status: &Value, e: &mut Errs) {
    let (new_c, old_c) = (get(spec, "completions"), get(old_spec, "completions"));
    if !same(new_c, old_c) {
        if s(spec, "completionMode") != "Indexed" {
            e.invalid("spec.completions", shown_value(new_c), IMMUTABLE);
        } else if let Some(c) = int(spec, "completions") {
            if Some(c) != int(spec, "parallelism") {
                e.invalid("spec.completions", Bad::Int(c), "can only be modified in tandem with spec.parallelism");
            }
        }
    }
    let new_sel = get(spec, "selector");
    if !same(new_sel, get(old_spec, "selector")) {
        e.invalid("spec.selector", Bad::Text(go_selector(new_sel)), IMMUTABLE);
    }
    let template = get(spec, "template");
    let mut old_template = get(old_spec, "template").cloned().unwrap_or(Value::Null);
    let suspended = boolean(old_spec, "suspend") == Some(true);
    if suspended && get(old_status, "startTime").is_none() {
        // Scheduling directives of a suspended Job that never started may change.
        let tpl = template.unwrap_or(&NULL);
        if let Some(ot) = old_template.as_object_mut() {
            if let Some(om) = ot.entry("metadata").or_insert_with(|| Value::Object(Map::new())).as_object_mut() {
                for f in ["labels", "annotations"] {
                    set_or_remove(om, f, get(field(tpl, "metadata"), f));
                }
            }
            if let Some(os) = ot.entry("spec").or_insert_with(|| Value::Object(Map::new())).as_object_mut() {
                let new_spec = field(tpl, "spec");
                for f in ["nodeSelector", "tolerations", "schedulingGates"] {
                    set_or_remove(os, f, get(new_spec, f));
                }
                let new_node_affinity = get(field(new_spec, "affinity"), "nodeAffinity");
                match get(new_spec, "affinity") {
                    None => {
                        if let Some(a) = os.get_mut("affinity").and_then(Value::as_object_mut) {
                            a.remove("nodeAffinity");
                        }
                    }
                    Some(_) => {
                        let a = os.entry("affinity").or_insert_with(|| Value::Object(Map::new()));
                        if let Some(a) = a.as_object_mut() {
                            set_or_remove(a, "nodeAffinity", new_node_affinity);
                        }
                    }
                }
            }
        }
    }
    if !same(template, Some(&old_template)) {
        e.invalid("spec.template", shown_value(template), IMMUTABLE);
    }
    for f in ["completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"] {
        immutable(&child("spec", f), get(spec, f), get(old_spec, f), e);
    }
}

fn validate_time_zone(tz: &str, path: &str, e: &mut Errs) {
    if tz.is_empty() {
        e.invalid(path, Bad::Str(tz), "timeZone must be nil or non-empty string");
        return;
    }
    if !valid_time_zone_name(tz) {
        e.invalid(path, Bad::Str(tz), &format!("unknown time zone {tz}"));
        return;
    }
    if tz.eq_ignore_ascii_case("local") {
        e.invalid(
            path,
            Bad::Str(tz),
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
        );
    }
}

fn validate_cronjob(obj: &Value, old: Option<&Value>, e: &mut Errs) {
    validate_object_meta(obj, true, NameRule::Subdomain, e);
    let spec = field(obj, "spec");
    let old_spec = old.map(|o| field(o, "spec"));
    let schedule = s(spec, "schedule");
    if schedule.is_empty() {
        e.required("spec.schedule", "");
    } else {
        if let Err(err) = parse_cron(schedule) {
            e.invalid("spec.schedule", Bad::Str(schedule), &err.to_string());
        }
        let allow_tz = old_spec.is_some_and(|o| s(o, "schedule").contains("TZ"));
        if schedule.contains("TZ") {
            if !allow_tz {
                e.invalid(
                    "spec.schedule",
                    Bad::Str(schedule),
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
                );
            } else if get(spec, "timeZone").is_some() {
                e.invalid(
                    "spec.schedule",
                    Bad::Str(schedule),
                    "cannot use both timeZone field and TZ or CRON_TZ in schedule",
                );
            }
        }
    }
    e.nonnegative("spec.startingDeadlineSeconds", int(spec, "startingDeadlineSeconds"));
    let tz = opt_s(spec, "timeZone");
    if let Some(tz) = tz {
        if old_spec.is_none_or(|o| opt_s(o, "timeZone") != Some(tz)) {
            validate_time_zone(tz, "spec.timeZone", e);
        }
    }
    validate_enum(opt_s(spec, "concurrencyPolicy"), "spec.concurrencyPolicy", &["Allow", "Forbid", "Replace"], "", e);
    let jt = field(field(spec, "jobTemplate"), "spec");
    validate_job_spec(jt, "spec.jobTemplate.spec", e);
    if let Some(sel) = get(jt, "selector") {
        e.invalid(
            "spec.jobTemplate.spec.selector",
            Bad::Text(go_selector(Some(sel))),
            "`selector` will be auto-generated",
        );
    }
    if boolean(jt, "manualSelector") == Some(true) {
        e.not_supported("spec.jobTemplate.spec.manualSelector", Bad::Text("true".to_string()), &["nil", "false"]);
    }
    e.nonnegative("spec.successfulJobsHistoryLimit", int(spec, "successfulJobsHistoryLimit"));
    e.nonnegative("spec.failedJobsHistoryLimit", int(spec, "failedJobsHistoryLimit"));
    let name = s(meta(obj), "name");
    if old.is_none() && name.len() > 52 {
        e.invalid("metadata.name", Bad::Str(name), "must be no more than 52 characters");
    }
}

// ---------------------------------------------------------------------------
// Services and Endpoints
// ---------------------------------------------------------------------------

const NODE_PORT_RANGE: (i64, i64) = (30000, 32767);
const KUBELET_PORT: i64 = 10250;

/// The primary cluster IP: `clusterIPs[0]`, else `clusterIP`.
fn primary_cluster_ip(spec: &Value) -> &str {
    arr(spec, "clusterIPs").first().and_then(Value::as_str).unwrap_or_else(|| s(spec, "clusterIP"))
}

fn is_headless(spec: &Value) -> bool {
    primary_cluster_ip(spec) == "None"
}

fn validate_service(obj: &Value, old: Option<&Value>, e: &mut Errs) {
    validate_object_meta(obj, true, NameRule::Dns1035, e);
    let spec = field(obj, "spec");
    if let Some(old) = old {
        validate_cluster_ip_update(spec, field(old, "spec"), e);
    }
    let ty = s(spec, "type");
    let headless = is_headless(spec);
    let ports = arr(spec, "ports");
    if ports.is_empty() && !headless && ty != "ExternalName" {
        e.required("spec.ports", "");
    }
    match ty {
        "LoadBalancer" | "NodePort" => {
            if headless {
                e.invalid(
                    "spec.clusterIPs[0]",
                    Bad::Str("None"),
                    &format!("may not be set to 'None' for {ty} services"),
                );
            }
            if ty == "LoadBalancer" {
                for (i, p) in ports.iter().enumerate() {
                    if int(p, "port") == Some(KUBELET_PORT) {
                        e.invalid(
                            &index("spec.ports", i),
                            Bad::Int(KUBELET_PORT),
                            &format!("may not expose port {KUBELET_PORT} externally since it is used by kubelet"),
                        );
                    }
                }
            }
        }
        "ExternalName" => {
            if !primary_cluster_ip(spec).is_empty() {
                e.forbidden("spec.clusterIPs", "may not be set for ExternalName services");
            }
            if !arr(spec, "ipFamilies").is_empty() {
                e.forbidden("spec.ipFamilies", "may not be set for ExternalName services");
            }
            if get(spec, "ipFamilyPolicy").is_some() {
                e.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services");
            }
            let cname = s(spec, "externalName");
            let cname = cname.strip_suffix('.').unwrap_or(cname);
            if cname.is_empty() {
                e.required("spec.externalName", "");
            } else {
                e.invalid_each("spec.externalName", cname, names::dns1123_subdomain_errors(cname));
            }
        }
        _ => {}
    }
    let mut port_names = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        validate_service_port(p, ports.len() > 1, &mut port_names, &index("spec.ports", i), e);
    }
    validate_labels(get(spec, "selector"), "spec.selector", e);
    let affinity = opt_s(spec, "sessionAffinity");
    validate_enum(affinity, "spec.sessionAffinity", &["ClientIP", "None"], "", e);
    match affinity {
        Some("ClientIP") => {
            let timeout = get(spec, "sessionAffinityConfig")
                .and_then(|c| get(c, "clientIP"))
                .and_then(|c| int(c, "timeoutSeconds"));
            match timeout {
                None => e.required("spec.sessionAffinityConfig", "when session affinity type is ClientIP"),
                Some(t) if !(1..=86400).contains(&t) => e.invalid(
                    "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                    Bad::Int(t),
                    "must be greater than 0 and less than 86400",
                ),
                Some(_) => {}
            }
        }
        Some("None") if get(spec, "sessionAffinityConfig").is_some() => {
            e.forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None")
        }
        _ => {}
    }
    validate_cluster_ips(spec, e);
    for (i, ip) in arr(spec, "externalIPs").iter().enumerate() {
        let ip = ip.as_str().unwrap_or("");
        let p = index("spec.externalIPs", i);
        if validate_ip(&p, ip, e) {
            validate_non_special_ip(&p, ip, e);
        }
    }
    validate_enum(Some(ty), "spec.type", &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"], "", e);
    let mut node_ports = HashSet::new();
    let mut port_keys = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = index("spec.ports", i);
        let node_port = int(p, "nodePort").unwrap_or(0);
        if node_port != 0 {
            if ty == "ClusterIP" {
                e.forbidden(&child(&pp, "nodePort"), "may not be used when `type` is 'ClusterIP'");
            } else if matches!(ty, "NodePort" | "LoadBalancer")
                && !(NODE_PORT_RANGE.0..=NODE_PORT_RANGE.1).contains(&node_port)
            {
                e.invalid(
                    &child(&pp, "nodePort"),
                    Bad::Int(node_port),
                    &format!(
                        "provided port is not in the valid range. The range of valid ports is {}-{}",
                        NODE_PORT_RANGE.0, NODE_PORT_RANGE.1
                    ),
                );
            }
            if !node_ports.insert((s(p, "protocol"), node_port)) {
                e.duplicate(&child(&pp, "nodePort"), Bad::Int(node_port));
            }
        }
        let port = int(p, "port").unwrap_or(0);
        if !port_keys.insert((s(p, "protocol"), port)) {
            e.duplicate(
                &pp,
                Bad::Text(format!(
                    "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{port}, \
                     TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
                    go_quote(s(p, "protocol"))
                )),
            );
        }
    }
    let external =
        matches!(ty, "LoadBalancer" | "NodePort") || (ty == "ClusterIP" && !arr(spec, "externalIPs").is_empty());
    match (opt_s(spec, "externalTrafficPolicy"), external) {
        (Some(p), false) if !p.is_empty() => {
            e.invalid("spec.externalTrafficPolicy", Bad::Str(p), "may only be set for externally-accessible services")
        }
        (p, true) => validate_enum(p, "spec.externalTrafficPolicy", &["Cluster", "Local"], "", e),
        _ => {}
    }
    match opt_s(spec, "internalTrafficPolicy") {
        None => {
            if matches!(ty, "ClusterIP" | "NodePort" | "LoadBalancer") {
                e.required("spec.internalTrafficPolicy", "");
            }
        }
        Some(p) if !matches!(p, "Cluster" | "Local") => {
            e.not_supported("spec.internalTrafficPolicy", Bad::Str(p), &["Cluster", "Local"])
        }
        Some(_) => {}
    }
}

fn validate_service_port(p: &Value, require_name: bool, seen: &mut HashSet<String>, path: &str, e: &mut Errs) {
    let name = s(p, "name");
    if require_name && name.is_empty() {
        e.required(&child(path, "name"), "");
    } else if !name.is_empty() {
        e.invalid_each(&child(path, "name"), name, names::dns1123_label_errors(name));
        if !seen.insert(name.to_string()) {
            e.duplicate(&child(path, "name"), Bad::Str(name));
        }
    }
    let port = int(p, "port").unwrap_or(0);
    for m in names::port_number_errors(port) {
        e.invalid(&child(path, "port"), Bad::Int(port), &m);
    }
    validate_enum(opt_s(p, "protocol"), &child(path, "protocol"), &SUPPORTED_PROTOCOLS, "", e);
    validate_port_num_or_name(get(p, "targetPort"), &child(path, "targetPort"), e);
    if let Some(ap) = opt_s(p, "appProtocol") {
        e.invalid_each(&child(path, "appProtocol"), ap, names::qualified_name_errors(ap));
    }
}

/// Cluster IPs, IP families and the IP family policy.
fn validate_cluster_ips(spec: &Value, e: &mut Errs) {
    let ips = arr(spec, "clusterIPs");
    if ips.len() > 2 {
        e.invalid(
            "spec.clusterIPs",
            Bad::Text(go_string_slice(get(spec, "clusterIPs"))),
            "may only hold up to 2 values",
        );
    }
    for (i, ip) in ips.iter().enumerate() {
        let ip = ip.as_str().unwrap_or("");
        let p = index("spec.clusterIPs", i);
        if ip == "None" {
            if i > 0 {
                e.invalid(&p, Bad::Str(ip), "may not be 'None' for secondary clusterIP");
            }
        } else if !ip.is_empty() {
            validate_ip(&p, ip, e);
        }
    }
    if let Some(policy) = opt_s(spec, "ipFamilyPolicy") {
        const POLICIES: [&str; 3] = ["PreferDualStack", "RequireDualStack", "SingleStack"];
        if !POLICIES.contains(&policy) {
            e.not_supported("spec.ipFamilyPolicy", Bad::Str(policy), &POLICIES);
        }
    }
    let mut seen = HashSet::new();
    for (i, fam) in arr(spec, "ipFamilies").iter().enumerate() {
        let fam = fam.as_str().unwrap_or("");
        let p = index("spec.ipFamilies", i);
        if !matches!(fam, "IPv4" | "IPv6") {
            e.not_supported(&p, Bad::Str(fam), &["IPv4", "IPv6"]);
        } else if !seen.insert(fam) {
            e.duplicate(&p, Bad::Str(fam));
        }
    }
}

/// Upstream `validateUpgradeDowngradeClusterIPs`: the primary cluster IP may
/// be set once, then never changed or unset (ExternalName aside).
fn validate_cluster_ip_update(spec: &Value, old_spec: &Value, e: &mut Errs) {
    if s(spec, "type") == "ExternalName" || s(old_spec, "type") == "ExternalName" {
        return;
    }
    if is_headless(spec) && is_headless(old_spec) {
        return;
    }
    let (new_ip, old_ip) = (primary_cluster_ip(spec), primary_cluster_ip(old_spec));
    if old_ip.is_empty() {
        return;
    }
    let shown = || {
        if get(spec, "clusterIPs").is_some() {
            Bad::Text(go_string_slice(get(spec, "clusterIPs")))
        } else if new_ip.is_empty() {
            Bad::Text("[]string(nil)".to_string())
        } else {
            Bad::Text(format!("[]string{{{}}}", go_quote(new_ip)))
        }
    };
    if new_ip.is_empty() {
        e.invalid("spec.clusterIPs[0]", shown(), "primary clusterIP can not be unset");
    } else if new_ip != old_ip {
        e.invalid("spec.clusterIPs[0]", shown(), "may not change once set");
    }
}

fn validate_endpoints(obj: &Value, e: &mut Errs) {
    validate_object_meta(obj, true, NameRule::Subdomain, e);
    for (i, ss) in arr(obj, "subsets").iter().enumerate() {
        let sp = index("subsets", i);
        let (ready, not_ready) = (arr(ss, "addresses"), arr(ss, "notReadyAddresses"));
        if ready.is_empty() && not_ready.is_empty() {
            e.required(&sp, "must specify `addresses` or `notReadyAddresses`");
        }
        for (list, addrs) in [("addresses", ready), ("notReadyAddresses", not_ready)] {
            for (j, a) in addrs.iter().enumerate() {
                let ap = index(&child(&sp, list), j);
                let ip = s(a, "ip");
                validate_ip(&child(&ap, "ip"), ip, e);
                let host = s(a, "hostname");
                if !host.is_empty() {
                    e.invalid_each(&child(&ap, "hostname"), host, names::dns1123_label_errors(host));
                }
                if let Some(n) = opt_s(a, "nodeName") {
                    e.invalid_each(&child(&ap, "nodeName"), n, names::dns1123_subdomain_errors(n));
                }
                if parse_ip(ip).is_some() {
                    validate_non_special_ip(&child(&ap, "ip"), ip, e);
                }
            }
        }
        let ports = arr(ss, "ports");
        for (j, p) in ports.iter().enumerate() {
            let pp = index(&child(&sp, "ports"), j);
            let name = s(p, "name");
            if ports.len() > 1 && name.is_empty() {
                e.required(&child(&pp, "name"), "");
            } else if !name.is_empty() {
                e.invalid_each(&child(&pp, "name"), name, names::dns1123_label_errors(name));
            }
            let port = int(p, "port").unwrap_or(0);
            for m in names::port_number_errors(port) {
                e.invalid(&child(&pp, "port"), Bad::Int(port), &m);
            }
            validate_enum(opt_s(p, "protocol"), &child(&pp, "protocol"), &SUPPORTED_PROTOCOLS, "", e);
            if let Some(ap) = opt_s(p, "appProtocol") {
                e.invalid_each(&child(&pp, "appProtocol"), ap, names::qualified_name_errors(ap));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// ConfigMaps and Secrets
// ---------------------------------------------------------------------------

/// The number of bytes a base64 text decodes to.
fn base64_decoded_len(b64: &str) -> usize {
    let trimmed = b64.trim_end_matches('=');
    trimmed.len() * 3 / 4
}

fn validate_config_map(obj: &Value, old: Option<&Value>, e: &mut Errs) {
    if let Some(old) = old {
        immutable_data(obj, old, &["data", "binaryData"], e);
    }
    validate_object_meta(obj, true, NameRule::Subdomain, e);
    let binary = get(obj, "binaryData").and_then(Value::as_object);
    let mut total = 0usize;
    for (k, v) in get(obj, "data").and_then(Value::as_object).into_iter().flatten() {
        let p = key("data", k);
        e.invalid_each(&p, k, names::config_map_key_errors(k));
        if binary.is_some_and(|b| b.contains_key(k)) {
            e.invalid(&p, Bad::Str(k), "duplicate of key present in binaryData");
        }
        total = total.saturating_add(v.as_str().map_or(0, str::len));
    }
    for (k, v) in binary.into_iter().flatten() {
        e.invalid_each(&key("binaryData", k), k, names::config_map_key_errors(k));
        total = total.saturating_add(v.as_str().map_or(0, base64_decoded_len));
    }
    if total > MAX_SECRET_SIZE {
        e.too_long("", MAX_SECRET_SIZE);
    }
}

/// With `immutable: true` stored, it stays set and the data never changes.
fn immutable_data(obj: &Value, old: &Value, fields: &[&str], e: &mut Errs) {
    if boolean(old, "immutable") != Some(true) {
        return;
    }
    if boolean(obj, "immutable") != Some(true) {
        e.forbidden("immutable", IMMUTABLE_WHEN_SET);
    }
    for f in fields {
        if !same(get(obj, f), get(old, f)) {
            e.forbidden(f, IMMUTABLE_WHEN_SET);
        }
    }
}

fn validate_secret(obj: &Value, old: Option<&Value>, e: &mut Errs) {
    if let Some(old) = old {
        let (t, ot) = (s(obj, "type"), s(old, "type"));
        if t != ot {
            e.invalid("type", Bad::Str(t), IMMUTABLE);
        }
        immutable_data(obj, old, &["data"], e);
    }
    validate_object_meta(obj, true, NameRule::Subdomain, e);
    let data = get(obj, "data").and_then(Value::as_object);
    let mut total = 0usize;
    for (k, v) in data.into_iter().flatten() {
        e.invalid_each(&key("data", k), k, names::config_map_key_errors(k));
        total = total.saturating_add(v.as_str().map_or(0, base64_decoded_len));
    }
    if total > MAX_SECRET_SIZE {
        e.too_long("data", MAX_SECRET_SIZE);
    }
    let has = |k: &str| data.is_some_and(|d| d.contains_key(k));
    let require = |k: &str, e: &mut Errs| {
        if !has(k) {
            e.required(&key("data", k), "");
        }
    };
    match s(obj, "type") {
        "kubernetes.io/service-account-token" => {
            let sa = get(meta(obj), "annotations")
                .and_then(|a| a.get("kubernetes.io/service-account.name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if sa.is_empty() {
                e.required("metadata.annotations[kubernetes.io/service-account.name]", "");
            }
        }
        "kubernetes.io/dockercfg" => require(".dockercfg", e),
        "kubernetes.io/dockerconfigjson" => require(".dockerconfigjson", e),
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            require("username", e);
            require("password", e);
        }
        "kubernetes.io/ssh-auth" => {
            let empty = data.and_then(|d| d.get("ssh-privatekey")).and_then(Value::as_str).is_none_or(str::is_empty);
            if empty {
                e.required("data[ssh-privatekey]", "");
            }
        }
        "kubernetes.io/tls" => {
            require("tls.crt", e);
            require("tls.key", e);
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Namespaces, Nodes, Events, Leases
// ---------------------------------------------------------------------------

fn validate_namespace(obj: &Value, e: &mut Errs) {
    validate_object_meta(obj, false, NameRule::Label, e);
    let fins = get(field(obj, "spec"), "finalizers").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    for f in fins {
        let f = f.as_str().unwrap_or("");
        e.invalid_each("spec.finalizers", f, names::qualified_name_errors(f));
        validate_kube_finalizer_name(f, "spec.finalizers", e);
    }
}

fn validate_node(obj: &Value, old: Option<&Value>, e: &mut Errs) {
    validate_object_meta(obj, false, NameRule::Subdomain, e);
    let spec = field(obj, "spec");
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    for (i, t) in arr(spec, "taints").iter().enumerate() {
        let tp = index("spec.taints", i);
        let k = s(t, "key");
        e.invalid_each(&child(&tp, "key"), k, names::qualified_name_errors(k));
        let v = s(t, "value");
        let msgs = names::label_value_errors(v);
        if !msgs.is_empty() {
            e.invalid(&child(&tp, "value"), Bad::Str(v), &msgs.join(";"));
        }
        let effect = s(t, "effect");
        validate_taint_effect(effect, &child(&tp, "effect"), e);
        if !seen.insert((effect, k)) {
            let msg = format!("Duplicate value: {}: taints must be unique by key and effect pair", json_text(Some(t)));
            e.push(DUPLICATE, &tp, msg);
        }
    }
    let cidrs = arr(spec, "podCIDRs");
    for (i, c) in cidrs.iter().enumerate() {
        let c = c.as_str().unwrap_or("");
        if !is_cidr(c) {
            e.invalid(
                &index("spec.podCIDRs", i),
                Bad::Str(c),
                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            );
        }
    }
    if cidrs.len() > 1 {
        let v4 = |c: &Value| c.as_str().and_then(|c| c.split('/').next()).and_then(parse_ip).map(|ip| ip.is_ipv4());
        let dual =
            cidrs.len() == 2 && v4(&cidrs[0]).is_some() && v4(&cidrs[1]).is_some() && v4(&cidrs[0]) != v4(&cidrs[1]);
        if !dual {
            e.invalid(
                "spec.podCIDRs",
                Bad::Text(go_string_slice(get(spec, "podCIDRs"))),
                "may specify no more than one CIDR for each IP family",
            );
        }
    }
    if let Some(old) = old {
        let old_spec = field(old, "spec");
        let old_cidrs = arr(old_spec, "podCIDRs");
        if !old_cidrs.is_empty() && old_cidrs != cidrs {
            e.forbidden("spec.podCIDRs", "node updates may not change podCIDR except from \"\" to valid");
        }
        let old_provider = s(old_spec, "providerID");
        if !old_provider.is_empty() && old_provider != s(spec, "providerID") {
            e.forbidden("spec.providerID", "node updates may not change providerID except from \"\" to valid");
        }
    }
}

/// Upstream legacy (core/v1) Event validation, plus the name and metadata
/// maps every stored object needs.
fn validate_event(obj: &Value, e: &mut Errs) {
    let m = meta(obj);
    let name = s(m, "name");
    if name.is_empty() {
        e.required("metadata.name", "name or generateName is required");
    } else {
        e.invalid_each("metadata.name", name, name_errors(NameRule::PathSegment, name));
    }
    validate_labels(get(m, "labels"), "metadata.labels", e);
    validate_annotations(get(m, "annotations"), "metadata.annotations", e);
    let ns = s(m, "namespace");
    let involved_ns = s(field(obj, "involvedObject"), "namespace");
    let has_event_time = opt_s(obj, "eventTime").is_some_and(|t| !t.is_empty());
    if !has_event_time {
        let ok = if involved_ns.is_empty() { ns.is_empty() || ns == "default" } else { ns == involved_ns };
        if !ok {
            e.invalid("involvedObject.namespace", Bad::Str(involved_ns), "does not match event.namespace");
        }
    } else {
        if involved_ns.is_empty() && ns != "default" && ns != "kube-system" {
            e.invalid("involvedObject.namespace", Bad::Str(involved_ns), "does not match event.namespace");
        }
        let controller = s(obj, "reportingComponent");
        if controller.is_empty() {
            e.required("source", "");
        }
        e.invalid_each("source", controller, names::qualified_name_errors(controller));
        for (f, path, limit) in [
            ("reportingInstance", "reportingInstance", 128),
            ("action", "action", 128),
            ("reason", "reason", 128),
            ("message", "message", 1024),
        ] {
            let v = s(obj, f);
            if v.is_empty() && f != "message" {
                e.required(path, "");
            }
            if v.len() > limit {
                e.invalid(path, Bad::Str(""), &format!("can have at most {limit} characters"));
            }
        }
    }
    e.invalid_each("namespace", ns, names::dns1123_subdomain_errors(ns));
}

fn validate_lease(obj: &Value, e: &mut Errs) {
    validate_object_meta(obj, true, NameRule::Subdomain, e);
    let spec = field(obj, "spec");
    if let Some(d) = int(spec, "leaseDurationSeconds") {
        if d <= 0 {
            e.invalid("spec.leaseDurationSeconds", Bad::Int(d), "must be greater than 0");
        }
    }
    e.nonnegative("spec.leaseTransitions", int(spec, "leaseTransitions"));
    if let Some(st) = opt_s(spec, "strategy") {
        if st != "OldestEmulationVersion" {
            e.not_supported("spec.strategy", Bad::Str(st), &["OldestEmulationVersion"]);
        }
    }
    if opt_s(spec, "preferredHolder").is_some_and(|p| !p.is_empty())
        && opt_s(spec, "strategy").is_none_or(str::is_empty)
    {
        e.forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined");
    }
}

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

/// Validates an object of `kind` on create (`old` = `None`) or update (`old`
/// = the stored object), returning every problem found (empty = valid).
///
/// Known kinds: Namespace, Node, Pod, Service, Endpoints, ConfigMap, Secret,
/// Event, ServiceAccount, Deployment, ReplicaSet, Job, CronJob, Lease. Other
/// kinds get the generic metadata checks (name as a DNS-1123 subdomain,
/// labels, annotations, owner references, finalizers).
pub fn validate(kind: &str, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut e = Errs::default();
    match kind {
        "Namespace" => validate_namespace(obj, &mut e),
        "Node" => validate_node(obj, old, &mut e),
        "Pod" => validate_pod(obj, old, &mut e),
        "Service" => validate_service(obj, old, &mut e),
        "Endpoints" => validate_endpoints(obj, &mut e),
        "ConfigMap" => validate_config_map(obj, old, &mut e),
        "Secret" => validate_secret(obj, old, &mut e),
        "Event" => validate_event(obj, &mut e),
        "ServiceAccount" => validate_object_meta(obj, true, NameRule::Subdomain, &mut e),
        "Deployment" => validate_deployment(obj, old, &mut e),
        "ReplicaSet" => validate_replicaset(obj, old, &mut e),
        "Job" => validate_job(obj, old, &mut e),
        "CronJob" => validate_cronjob(obj, old, &mut e),
        "Lease" => validate_lease(obj, &mut e),
        _ => validate_object_meta(obj, false, NameRule::Subdomain, &mut e),
    }
    e.0
}

/// The `message` of the 422 `Invalid` Status for these errors, as the
/// Kubernetes API server writes it: `Deployment.apps "web" is invalid:
/// spec.replicas: Invalid value: -1: must be greater than or equal to 0`, with
/// several errors in `[...]` separated by ", " (repeated messages once).
pub fn invalid_message(kind: &str, group: &str, name: &str, errs: &[FieldError]) -> String {
    let qualified = if group.is_empty() { kind.to_string() } else { format!("{kind}.{group}") };
    let mut seen = HashSet::new();
    let msgs: Vec<String> = errs.iter().map(ToString::to_string).filter(|m| seen.insert(m.clone())).collect();
    let head = format!("{qualified} {} is invalid", go_quote(name));
    match msgs.as_slice() {
        [] => head,
        [one] => format!("{head}: {one}"),
        many => format!("{head}: [{}]", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::defaults::apply_defaults;
    use super::*;
    use serde_json::json;

    /// Defaults then validates a new object; "field: message" per error.
    fn check(kind: &str, mut obj: Value) -> Vec<String> {
        apply_defaults(kind, &mut obj);
        validate(kind, &obj, None).iter().map(ToString::to_string).collect()
    }

    /// Defaults both, then validates `new` as an update of `old`.
    fn check_update(kind: &str, mut old: Value, mut new: Value) -> Vec<String> {
        apply_defaults(kind, &mut old);
        apply_defaults(kind, &mut new);
        validate(kind, &new, Some(&old)).iter().map(ToString::to_string).collect()
    }

    #[track_caller]
    fn assert_has(errs: &[String], needle: &str) {
        assert!(errs.iter().any(|e| e.contains(needle)), "no error containing {needle:?} in {errs:#?}");
    }

    #[track_caller]
    fn assert_exact(errs: &[String], expected: &str) {
        assert!(errs.iter().any(|e| e == expected), "no error {expected:?} in {errs:#?}");
    }

    #[track_caller]
    fn assert_valid(errs: &[String]) {
        assert!(errs.is_empty(), "unexpected errors: {errs:#?}");
    }

    fn container() -> Value {
        json!({"name": "app", "image": "nginx:1.25", "ports": [{"containerPort": 80}]})
    }

    fn pod() -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
               "spec": {"containers": [container()]}})
    }

    fn template() -> Value {
        json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container()]}})
    }

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
               "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template()}})
    }

    fn replicaset() -> Value {
        let mut d = deployment();
        d["kind"] = json!("ReplicaSet");
        d
    }

    fn job() -> Value {
        json!({"apiVersion": "batch/v1", "kind": "Job",
               "metadata": {"name": "pi", "namespace": "default", "uid": "0b4f-11"},
               "spec": {"template": {"spec": {"restartPolicy": "Never",
                        "containers": [{"name": "pi", "image": "perl:5.34"}]}}}})
    }

    fn cronjob() -> Value {
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "default"},
               "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                   "restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}}}}})
    }

    fn service() -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    }

    fn set(v: &mut Value, path: &[&str], x: Value) {
        let mut cur = v;
        for (i, k) in path.iter().enumerate() {
            if i + 1 == path.len() {
                cur[*k] = x;
                return;
            }
            cur = if let Ok(n) = k.parse::<usize>() { &mut cur[n] } else { &mut cur[*k] };
        }
    }

    fn with(mut v: Value, path: &[&str], x: Value) -> Value {
        set(&mut v, path, x);
        v
    }

    // ----- messages -------------------------------------------------------

    #[test]
    fn invalid_message_formats_like_upstream() {
        let e1 = FieldError {
            reason: INVALID,
            field: "spec.replicas".into(),
            message: "Invalid value: -1: must be greater than or equal to 0".into(),
        };
        let e2 = FieldError { reason: REQUIRED, field: "spec.selector".into(), message: "Required value".into() };
        assert_eq!(invalid_message("Deployment", "apps", "web", &[]), "Deployment.apps \"web\" is invalid");
        assert_eq!(
            invalid_message("Deployment", "apps", "web", std::slice::from_ref(&e1)),
            "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        assert_eq!(
            invalid_message("Pod", "", "p\"q", &[e1.clone(), e2.clone(), e1.clone()]),
            "Pod \"p\\\"q\" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, \
             spec.selector: Required value]"
        );
    }

    #[test]
    fn error_values_are_go_formatted() {
        assert_eq!(go_quote("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\x01é\"");
        assert_eq!(go_string_map(None), "map[string]string(nil)");
        assert_eq!(go_string_map(Some(&json!({"b": "2", "a": "1"}))), "map[string]string{\"a\":\"1\", \"b\":\"2\"}");
        assert_eq!(go_string_slice(Some(&json!(["x", "y"]))), "[]string{\"x\", \"y\"}");
        assert_eq!(
            go_selector(Some(&json!({"matchExpressions": [{"key": "k", "operator": "In", "values": ["v"]}]}))),
            "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{\
             v1.LabelSelectorRequirement{Key:\"k\", Operator:\"In\", Values:[]string{\"v\"}}}}"
        );
        assert_eq!(go_selector(None), "null");
    }

    // ----- quantities and cron -------------------------------------------

    #[test]
    fn quantities_parse_and_canonicalize() {
        let cases = [
            ("100m", "100m"),
            ("0.1", "100m"),
            ("1Gi", "1Gi"),
            ("1024Mi", "1Gi"),
            ("1.5Gi", "1536Mi"),
            ("0.5Ki", "512"),
            ("1.5", "1500m"),
            ("2e3", "2e3"),
            ("12e-1", "1200e-3"),
            ("1000", "1k"),
            ("1E", "1E"),
            ("0", "0"),
            ("000", "0"),
            ("+5", "5"),
            ("-1", "-1"),
            (".5", "500m"),
            ("1.", "1"),
            ("1n", "1n"),
            ("0.0000000001", "1n"),
            ("1e40", "9223372036854775807"),
            ("99999999999999999999999999999999999999999", "9223372036854775807"),
        ];
        for (input, canonical) in cases {
            assert_eq!(Quantity::parse(input).map(|q| q.canonical()), Ok(canonical.to_string()), "{input}");
        }
        assert_eq!(Quantity::parse("1GG"), Err(ParseError::QuantitySuffix));
        assert_eq!(Quantity::parse("1e"), Err(ParseError::QuantitySuffix));
        assert_eq!(Quantity::parse(""), Err(ParseError::QuantityFormat));
        assert_eq!(Quantity::parse("1.5.5"), Err(ParseError::QuantityFormat));
        assert_eq!(Quantity::parse("abc"), Err(ParseError::QuantityFormat));
        assert_eq!(Quantity::parse("1 Gi"), Err(ParseError::QuantityFormat));
        assert_eq!(
            ParseError::QuantityFormat.to_string(),
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        );
        let half = Quantity::parse("500m").unwrap_or(Quantity { nanos: 0, format: QuantityFormat::DecimalSi });
        let one = Quantity::parse("1").unwrap_or(half);
        assert!(half < one);
        assert_eq!(Quantity::parse("0.5").ok(), Some(half));
        assert_eq!(Quantity::parse("1n").map(|q| q.round_up_milli().canonical()), Ok("1m".to_string()));
        assert_eq!(Quantity::parse("-1n").map(|q| q.round_up_milli().canonical()), Ok("-1m".to_string()));
        assert!(Quantity::parse("2").is_ok_and(|q| q.is_integer()));
        assert!(Quantity::parse("2.5").is_ok_and(|q| !q.is_integer()));
    }

    #[test]
    fn cron_schedules() {
        for ok in [
            "* * * * *",
            "*/5 * * * *",
            "0 3 * * 1-5",
            "0 0 1,15 * *",
            "0 0 * JAN,dec sun",
            "5/10 * ? * *",
            "@hourly",
            "@every 1h30m",
            "TZ=Etc/UTC 0 * * * *",
        ] {
            assert_eq!(parse_cron(ok), Ok(()), "{ok}");
        }
        let err = |s: &str| parse_cron(s).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err("* * *"), "expected exactly 5 fields, found 3: [* * *]");
        assert_eq!(err("60 * * * *"), "end of range (60) above maximum (59): 60");
        assert_eq!(err("* * 0 * *"), "beginning of range (0) below minimum (1): 0");
        assert_eq!(err("5-1 * * * *"), "beginning of range (5) beyond end of range (1): 5-1");
        assert_eq!(err("*/0 * * * *"), "step of range should be a positive number: */0");
        assert_eq!(err("1-2-3 * * * *"), "too many hyphens: 1-2-3");
        assert_eq!(err("1/2/3 * * * *"), "too many slashes: 1/2/3");
        assert_eq!(err("x * * * *"), "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax");
        assert_eq!(err("@weekly2"), "unrecognized descriptor: @weekly2");
        assert_eq!(err("@every 1x"), "failed to parse duration @every 1x: time: unknown unit \"x\" in duration \"1x\"");
        assert_eq!(err(""), "empty spec string");
    }

    // ----- metadata --------------------------------------------------------

    #[test]
    fn metadata_name_and_namespace() {
        assert_valid(&check("Pod", pod()));
        let mut p = pod();
        if let Some(m) = p["metadata"].as_object_mut() {
            m.remove("name");
        }
        assert_exact(&check("Pod", p), "metadata.name: Required value: name or generateName is required");
        let errs = check("Pod", with(pod(), &["metadata", "name"], json!("Bad_Name")));
        assert_has(&errs, "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of");
        assert_valid(&check("Pod", with(pod(), &["metadata", "name"], json!("web.v1"))));
        let errs = check("Pod", with(pod(), &["metadata", "namespace"], json!("my.ns")));
        assert_exact(&errs, "metadata.namespace: Invalid value: \"my.ns\": must not contain dots");
        let errs = check("Pod", with(pod(), &["metadata", "namespace"], Value::Null));
        assert_exact(&errs, "metadata.namespace: Required value");
        assert_valid(&check("ServiceAccount", json!({"metadata": {"name": "builder", "namespace": "ci"}})));
        let errs = check("ServiceAccount", json!({"metadata": {"name": "-x", "namespace": "ci"}}));
        assert_has(&errs, "metadata.name: Invalid value: \"-x\"");
    }

    #[test]
    fn metadata_labels_annotations_finalizers_owners() {
        let p = with(pod(), &["metadata", "labels"], json!({"app": "web", "bad key": "v", "k": "bad value"}));
        let errs = check("Pod", p);
        assert_has(&errs, "metadata.labels: Invalid value: \"bad key\": name part must consist of alphanumeric");
        assert_has(&errs, "metadata.labels: Invalid value: \"bad value\": a valid label must be an empty string");
        assert_eq!(errs.len(), 2, "{errs:#?}");

        let p = with(pod(), &["metadata", "annotations"], json!({"example.com/Note": "x", "a/b/c": "y"}));
        let errs = check("Pod", p);
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert_has(&errs, "metadata.annotations: Invalid value: \"a/b/c\": a qualified name must consist of");

        let big = "x".repeat(MAX_ANNOTATIONS_SIZE);
        let errs = check("Pod", with(pod(), &["metadata", "annotations"], json!({"note": big})));
        assert_exact(&errs, "metadata.annotations: Too long: may not be more than 262144 bytes");
        let fits = "x".repeat(MAX_ANNOTATIONS_SIZE - 4);
        assert_valid(&check("Pod", with(pod(), &["metadata", "annotations"], json!({"note": fits}))));

        let errs = check("Pod", with(pod(), &["metadata", "finalizers"], json!(["example.com/cleanup", "cleanup"])));
        assert_exact(
            &errs,
            "metadata.finalizers[1]: Invalid value: \"cleanup\": name is neither a standard finalizer name nor is \
             it fully qualified",
        );
        assert_eq!(errs.len(), 1);

        let refs = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": ""}]);
        let errs = check("Pod", with(pod(), &["metadata", "ownerReferences"], refs));
        assert_exact(&errs, "metadata.ownerReferences.uid: Invalid value: \"\": must not be empty");
    }

    // ----- pods ------------------------------------------------------------

    #[test]
    fn pod_containers() {
        let errs = check("Pod", with(pod(), &["spec", "containers"], json!([])));
        assert_exact(&errs, "spec.containers: Required value");
        let errs = check("Pod", with(pod(), &["spec", "containers", "0", "name"], json!("App")));
        assert_has(&errs, "spec.containers[0].name: Invalid value: \"App\": a lowercase RFC 1123 label");
        let errs = check("Pod", with(pod(), &["spec", "containers"], json!([container(), container()])));
        assert_exact(&errs, "spec.containers[1].name: Duplicate value: \"app\"");
        let errs = check("Pod", with(pod(), &["spec", "initContainers"], json!([{"name": "app", "image": "busybox"}])));
        assert_exact(&errs, "spec.initContainers[0].name: Duplicate value: \"app\"");
        let errs = check("Pod", with(pod(), &["spec", "containers", "0", "image"], json!("")));
        assert_exact(&errs, "spec.containers[0].image: Required value");
        let errs = check("Pod", with(pod(), &["spec", "containers", "0", "image"], json!(" nginx")));
        assert_exact(
            &errs,
            "spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing whitespace",
        );
        let init = json!([{"name": "setup", "image": "busybox", "livenessProbe": {"exec": {"command": ["true"]}}}]);
        let errs = check("Pod", with(pod(), &["spec", "initContainers"], init));
        assert_exact(
            &errs,
            "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without \
             restartPolicy=Always",
        );
        let sidecar = json!([{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]);
        assert_valid(&check("Pod", with(pod(), &["spec", "initContainers"], sidecar)));
    }

    #[test]
    fn pod_ports() {
        let errs = check("Pod", with(pod(), &["spec", "containers", "0", "ports", "0", "containerPort"], json!(70000)));
        assert_exact(
            &errs,
            "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        );
        let errs = check("Pod", with(pod(), &["spec", "containers", "0", "ports", "0", "containerPort"], json!(0)));
        assert_exact(&errs, "spec.containers[0].ports[0].containerPort: Required value");
        let errs = check("Pod", with(pod(), &["spec", "containers", "0", "ports", "0", "protocol"], json!("HTTP")));
        assert_exact(
            &errs,
            "spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \
             \"UDP\"",
        );
        let ports = json!([{"name": "http", "containerPort": 80}, {"name": "http", "containerPort": 81}]);
        let errs = check("Pod", with(pod(), &["spec", "containers", "0", "ports"], ports));
        assert_exact(&errs, "spec.containers[0].ports[1].name: Duplicate value: \"http\"");
        let ports = json!([{"containerPort": 53, "protocol": "UDP"}, {"containerPort": 9000, "protocol": "SCTP"}]);
        assert_valid(&check("Pod", with(pod(), &["spec", "containers", "0", "ports"], ports)));
        let p = with(pod(), &["spec", "hostNetwork"], json!(true));
        let p = with(p, &["spec", "containers", "0", "ports", "0", "hostPort"], json!(81));
        let errs = check("Pod", p);
        assert_exact(
            &errs,
            "spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is \
             true",
        );
        assert_valid(&check("Pod", with(pod(), &["spec", "hostNetwork"], json!(true))));
    }

    #[test]
    fn pod_policies() {
        let errs = check("Pod", with(pod(), &["spec", "restartPolicy"], json!("Sometimes")));
        assert_exact(
            &errs,
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \
             \"Never\"",
        );
        assert_valid(&check("Pod", with(pod(), &["spec", "restartPolicy"], json!("OnFailure"))));
        let errs = check("Pod", with(pod(), &["spec", "dnsPolicy"], json!("Google")));
        assert_has(
            &errs,
            "spec.dnsPolicy: Unsupported value: \"Google\": supported values: \"ClusterFirstWithHostNet\"",
        );
        let errs = check("Pod", with(pod(), &["spec", "dnsPolicy"], json!("None")));
        assert_exact(&errs, "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None");
        let p = with(pod(), &["spec", "dnsPolicy"], json!("None"));
        assert_valid(&check("Pod", with(p, &["spec", "dnsConfig"], json!({"nameservers": ["1.1.1.1"]}))));
        let errs = check("Pod", with(pod(), &["spec", "containers", "0", "imagePullPolicy"], json!("Sometimes")));
        assert_has(&errs, "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\"");
        let errs = check("Pod", with(pod(), &["spec", "activeDeadlineSeconds"], json!(0)));
        assert_exact(
            &errs,
            "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive",
        );
        let errs = check("Pod", with(pod(), &["spec", "nodeSelector"], json!({"disk": "fast ssd"})));
        assert_has(&errs, "spec.nodeSelector: Invalid value: \"fast ssd\"");
        let errs = check("Pod", with(pod(), &["spec", "tolerations"], json!([{"operator": "Equal", "value": "x"}])));
        assert_has(
            &errs,
            "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty",
        );
        let tol = json!([{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30}]);
        assert_valid(&check("Pod", with(pod(), &["spec", "tolerations"], tol)));
        let errs = check("Pod", with(pod(), &["spec", "tolerations"], json!([{"key": "k", "effect": "Never"}])));
        assert_has(&errs, "spec.tolerations[0].effect: Unsupported value: \"Never\"");
    }

    #[test]
    fn pod_resources() {
        let res = |r: Value| with(pod(), &["spec", "containers", "0", "resources"], r);
        assert_valid(&check(
            "Pod",
            res(json!({"requests": {"cpu": "100m", "memory": "64Mi"},
                                                 "limits": {"cpu": "1.5", "memory": "1Gi"}})),
        ));
        assert_valid(&check("Pod", res(json!({"limits": {"cpu": "2e3", "example.com/gpu": "1"}}))));
        let errs = check("Pod", res(json!({"limits": {"cpu": "1GG"}})));
        assert_exact(
            &errs,
            "spec.containers[0].resources.limits[cpu]: Invalid value: \"1GG\": unable to parse quantity's suffix",
        );
        let errs = check("Pod", res(json!({"requests": {"memory": "lots"}})));
        assert_has(&errs, "resources.requests[memory]: Invalid value: \"lots\": quantities must match the regular");
        let errs = check("Pod", res(json!({"requests": {"cpu": "2"}, "limits": {"cpu": "1"}})));
        assert_exact(
            &errs,
            "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
        );
        let errs = check("Pod", res(json!({"requests": {"memory": "-1Mi"}})));
        assert_has(&errs, "resources.requests[memory]: Invalid value: \"-1Mi\": must be greater than or equal to 0");
        let errs = check("Pod", res(json!({"limits": {"gpu": "1"}})));
        assert_has(&errs, "limits[gpu]: Invalid value: \"gpu\": must be a standard resource type or fully qualified");
        let errs = check("Pod", res(json!({"limits": {"pods": "1"}})));
        assert_has(&errs, "limits[pods]: Invalid value: \"pods\": must be a standard resource for containers");
        let errs = check("Pod", res(json!({"limits": {"example.com/gpu": "500m"}})));
        assert_has(&errs, "limits[example.com/gpu]: Invalid value: 500m: must be an integer");
        let errs = check("Pod", with(res(json!({"requests": {"example.com/gpu": "1"}})), &["kind"], json!("Pod")));
        assert_exact(
            &errs,
            "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources",
        );
    }

    #[test]
    fn pod_volumes_env_and_probes() {
        let vols = json!([{"name": "data", "emptyDir": {}}, {"name": "data", "configMap": {"name": "cfg"}}]);
        let errs = check("Pod", with(pod(), &["spec", "volumes"], vols));
        assert_exact(&errs, "spec.volumes[1].name: Duplicate value: \"data\"");
        let vols = json!([{"name": "data", "emptyDir": {}, "hostPath": {"path": "/x"}}]);
        let errs = check("Pod", with(pod(), &["spec", "volumes"], vols));
        assert_exact(&errs, "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type");
        let errs = check("Pod", with(pod(), &["spec", "volumes"], json!([{"name": "s", "secret": {}}])));
        assert_exact(&errs, "spec.volumes[0].secret.secretName: Required value");
        let mounts = json!([{"name": "missing", "mountPath": "/data"}]);
        let errs = check("Pod", with(pod(), &["spec", "containers", "0", "volumeMounts"], mounts));
        assert_exact(&errs, "spec.containers[0].volumeMounts[0].name: Not found: \"missing\"");
        let p = with(pod(), &["spec", "volumes"], json!([{"name": "data"}]));
        let mounts = json!([{"name": "data", "mountPath": "/data", "subPath": "../x"}]);
        let errs = check("Pod", with(p.clone(), &["spec", "containers", "0", "volumeMounts"], mounts));
        assert_exact(&errs, "spec.containers[0].volumeMounts.subPath: Invalid value: \"../x\": must not contain '..'");
        let mounts = json!([{"name": "data", "mountPath": "/data", "subPath": "logs"}]);
        assert_valid(&check("Pod", with(p, &["spec", "containers", "0", "volumeMounts"], mounts)));

        let env = json!([{"name": "A=B", "value": "x"}, {"name": "1_RELAXED.name", "value": "y"}]);
        let errs = check("Pod", with(pod(), &["spec", "containers", "0", "env"], env));
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert_exact(
            &errs,
            "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist \
             only of printable ASCII characters other than '='",
        );
        let env = json!([{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                         {"name": "K", "value": "v", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]);
        let errs = check("Pod", with(pod(), &["spec", "containers", "0", "env"], env));
        assert_exact(
            &errs,
            "spec.containers[0].env[1].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty",
        );
        assert_eq!(errs.len(), 1, "{errs:#?}");

        let probe = json!({"httpGet": {"port": 8080}, "successThreshold": 2});
        let errs = check("Pod", with(pod(), &["spec", "containers", "0", "livenessProbe"], probe));
        assert_exact(&errs, "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1");
        assert_eq!(errs.len(), 1, "{errs:#?}");
        let errs =
            check("Pod", with(pod(), &["spec", "containers", "0", "readinessProbe"], json!({"periodSeconds": 5})));
        assert_exact(&errs, "spec.containers[0].readinessProbe: Required value: must specify a handler type");
        let probe = json!({"tcpSocket": {"port": "http"}});
        assert_valid(&check("Pod", with(pod(), &["spec", "containers", "0", "readinessProbe"], probe)));
    }

    #[test]
    fn pod_updates() {
        let old = pod();
        assert_valid(&check_update("Pod", old.clone(), old.clone()));
        let new = with(old.clone(), &["spec", "containers", "0", "image"], json!("nginx:1.26"));
        assert_valid(&check_update("Pod", old.clone(), new));
        let new = with(old.clone(), &["metadata", "labels"], json!({"tier": "front"}));
        assert_valid(&check_update("Pod", old.clone(), new));
        let new = with(old.clone(), &["spec", "tolerations"], json!([{"key": "k", "operator": "Exists"}]));
        assert_valid(&check_update("Pod", old.clone(), new));
        let new = with(old.clone(), &["spec", "activeDeadlineSeconds"], json!(60));
        assert_valid(&check_update("Pod", old.clone(), new.clone()));
        let errs = check_update("Pod", new, with(old.clone(), &["spec", "activeDeadlineSeconds"], json!(120)));
        assert_exact(
            &errs,
            "spec.activeDeadlineSeconds: Invalid value: 120: must be less than or equal to previous value",
        );

        let new = with(old.clone(), &["spec", "containers", "0", "ports", "0", "containerPort"], json!(8080));
        let errs = check_update("Pod", old.clone(), new);
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert!(
            errs[0].starts_with(
                "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,\
                 `spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to \
                 existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was \
                 previously negative)\n"
            ),
            "{}",
            errs[0]
        );
        assert_has(&errs, "spec.containers[0].ports[0].containerPort: 80 -> 8080");
        let new = with(old.clone(), &["spec", "containers"], json!([container(), {"name": "b", "image": "x"}]));
        assert_exact(
            &check_update("Pod", old.clone(), new),
            "spec.containers: Forbidden: pod updates may not add or remove containers",
        );
        let tolerated = with(old.clone(), &["spec", "tolerations"], json!([{"key": "k", "operator": "Exists"}]));
        let errs = check_update("Pod", tolerated, old);
        assert_has(&errs, "spec.tolerations: Forbidden: existing toleration can not be modified");
    }

    // ----- pod templates ----------------------------------------------------

    #[test]
    fn templates_are_validated_like_pods() {
        let errs = check(
            "Deployment",
            with(deployment(), &["spec", "template", "spec", "containers", "0", "image"], json!("")),
        );
        assert_exact(&errs, "spec.template.spec.containers[0].image: Required value");
        let errs =
            check("Deployment", with(deployment(), &["spec", "template", "metadata", "labels", "app"], json!("we b")));
        assert_has(&errs, "spec.template.labels: Invalid value: \"we b\"");
        let errs =
            check("Deployment", with(deployment(), &["spec", "template", "spec", "restartPolicy"], json!("OnFailure")));
        assert_exact(
            &errs,
            "spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\"",
        );
        let errs =
            check("ReplicaSet", with(replicaset(), &["spec", "template", "spec", "activeDeadlineSeconds"], json!(30)));
        assert_exact(
            &errs,
            "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported",
        );
        // Resource quantities are checked in templates, too.
        let res = json!({"limits": {"memory": "1GG"}});
        let errs =
            check("Deployment", with(deployment(), &["spec", "template", "spec", "containers", "0", "resources"], res));
        assert_has(&errs, "spec.template.spec.containers[0].resources.limits[memory]: Invalid value: \"1GG\"");
    }

    // ----- deployments and replicasets ---------------------------------------

    #[test]
    fn deployment_spec() {
        assert_valid(&check("Deployment", deployment()));
        let errs = check("Deployment", with(deployment(), &["spec", "replicas"], json!(-1)));
        assert_exact(&errs, "spec.replicas: Invalid value: -1: must be greater than or equal to 0");
        assert_valid(&check("Deployment", with(deployment(), &["spec", "replicas"], json!(0))));
        let errs = check("Deployment", with(deployment(), &["spec", "selector"], Value::Null));
        assert_exact(&errs, "spec.selector: Required value");
        assert_exact(
            &errs,
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not \
             match template `labels`",
        );
        let errs = check("Deployment", with(deployment(), &["spec", "selector"], json!({})));
        assert_exact(
            &errs,
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), \
             MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
        );
        let errs = check("Deployment", with(deployment(), &["spec", "selector", "matchLabels", "app"], json!("api")));
        assert_exact(
            &errs,
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not \
             match template `labels`",
        );
        let sel = json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]});
        assert_valid(&check("Deployment", with(deployment(), &["spec", "selector"], sel)));
        let sel = json!({"matchExpressions": [{"key": "app", "operator": "Near", "values": ["web"]}]});
        let errs = check("Deployment", with(deployment(), &["spec", "selector"], sel));
        assert_has(
            &errs,
            "spec.selector.matchExpressions[0].operator: Invalid value: \"Near\": not a valid selector operator",
        );
        assert_has(&errs, "spec.selector: Invalid value: v1.LabelSelector{");
        let errs = check("Deployment", with(deployment(), &["spec", "strategy", "type"], json!("BlueGreen")));
        assert_has(&errs, "spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:\"BlueGreen\"");
        assert_has(&errs, "supported values: \"Recreate\", \"RollingUpdate\"");
        assert_valid(&check("Deployment", with(deployment(), &["spec", "strategy"], json!({"type": "Recreate"}))));
        let errs = check(
            "Deployment",
            with(deployment(), &["spec", "strategy"], json!({"type": "Recreate", "rollingUpdate": {"maxSurge": 1}})),
        );
        assert_exact(
            &errs,
            "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
        );
        let ru = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}});
        let errs = check("Deployment", with(deployment(), &["spec", "strategy"], ru));
        assert_exact(
            &errs,
            "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0%: may not be 0 when `maxSurge` is 0",
        );
        let ru = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "x%", "maxUnavailable": "150%"}});
        let errs = check("Deployment", with(deployment(), &["spec", "strategy"], ru));
        assert_has(&errs, "spec.strategy.rollingUpdate.maxSurge: Invalid value: x%: a valid percent string must be");
        assert_exact(
            &errs,
            "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 150%: must not be greater than 100%",
        );
        let errs = check("Deployment", with(deployment(), &["spec", "revisionHistoryLimit"], json!(-1)));
        assert_exact(&errs, "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0");
        let errs = check("Deployment", with(deployment(), &["spec", "minReadySeconds"], json!(-5)));
        assert_exact(&errs, "spec.minReadySeconds: Invalid value: -5: must be greater than or equal to 0");
        let d = with(deployment(), &["spec", "minReadySeconds"], json!(700));
        let errs = check("Deployment", d);
        assert_exact(&errs, "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds");
    }

    #[test]
    fn deployment_selector_is_immutable() {
        let old = deployment();
        let scaled = with(old.clone(), &["spec", "replicas"], json!(5));
        assert_valid(&check_update("Deployment", old.clone(), scaled));
        let new = with(old.clone(), &["spec", "selector", "matchLabels", "app"], json!("web2"));
        let new = with(new, &["spec", "template", "metadata", "labels", "app"], json!("web2"));
        let errs = check_update("Deployment", old, new);
        assert_eq!(
            errs,
            vec!["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, \
                  MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
                .to_string()]
        );
    }

    #[test]
    fn replicaset_spec() {
        assert_valid(&check("ReplicaSet", replicaset()));
        let errs = check("ReplicaSet", with(replicaset(), &["spec", "replicas"], json!(-2)));
        assert_exact(&errs, "spec.replicas: Invalid value: -2: must be greater than or equal to 0");
        let errs = check("ReplicaSet", with(replicaset(), &["spec", "template", "metadata", "labels"], json!({})));
        assert_exact(
            &errs,
            "spec.template.metadata.labels: Invalid value: map[string]string{}: `selector` does not match template \
             `labels`",
        );
        let old = replicaset();
        let new = with(old.clone(), &["spec", "selector", "matchLabels"], json!({"app": "web", "v": "2"}));
        let new = with(new, &["spec", "template", "metadata", "labels", "v"], json!("2"));
        assert_has(&check_update("ReplicaSet", old, new), "spec.selector: Invalid value: v1.LabelSelector{");
    }

    // ----- jobs and cronjobs ---------------------------------------------------

    #[test]
    fn job_spec() {
        assert_valid(&check("Job", job()));
        for f in ["parallelism", "completions", "backoffLimit", "activeDeadlineSeconds"] {
            let errs = check("Job", with(job(), &["spec", f], json!(-1)));
            assert_exact(&errs, &format!("spec.{f}: Invalid value: -1: must be greater than or equal to 0"));
        }
        let mut j = job();
        if let Some(s) = j["spec"]["template"]["spec"].as_object_mut() {
            s.remove("restartPolicy");
        }
        assert_eq!(
            check("Job", j),
            vec!["spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"".to_string()]
        );
        let errs = check("Job", with(job(), &["spec", "template", "spec", "restartPolicy"], json!("Later")));
        assert_exact(
            &errs,
            "spec.template.spec.restartPolicy: Unsupported value: \"Later\": supported values: \"OnFailure\", \
             \"Never\"",
        );
        assert_valid(&check("Job", with(job(), &["spec", "template", "spec", "restartPolicy"], json!("OnFailure"))));
        let errs = check("Job", with(job(), &["spec", "completionMode"], json!("Indexed")));
        assert_valid(&errs); // completions defaulted to 1
        let j = with(job(), &["spec", "completionMode"], json!("Indexed"));
        let j = with(j, &["spec", "parallelism"], json!(2));
        assert_exact(&check("Job", j), "spec.completions: Required value: when completion mode is Indexed");
        let errs = check("Job", with(job(), &["spec", "completionMode"], json!("Sequential")));
        assert_has(&errs, "spec.completionMode: Unsupported value: \"Sequential\"");
        let pfp = json!({"rules": [{"action": "Explode", "onExitCodes": {"operator": "In", "values": [3, 1, 1]}}]});
        let errs = check("Job", with(job(), &["spec", "podFailurePolicy"], pfp));
        assert_has(&errs, "spec.podFailurePolicy.rules[0].action: Unsupported value: \"Explode\"");
        assert_has(&errs, "spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate value: 1");
        assert_has(
            &errs,
            "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: []int32{3, 1, 1}: must be ordered",
        );
        let pfp = json!({"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]});
        assert_valid(&check("Job", with(job(), &["spec", "podFailurePolicy"], pfp)));
    }

    #[test]
    fn job_selector_generation_and_manual_selectors() {
        let errs =
            check("Job", with(job(), &["spec", "template", "metadata"], json!({"labels": {"job-name": "other"}})));
        assert_exact(
            &errs,
            "spec.template.metadata.labels[job-name]: Invalid value: map[string]string{\"batch.kubernetes.io/\
             controller-uid\":\"0b4f-11\", \"batch.kubernetes.io/job-name\":\"pi\", \"controller-uid\":\"0b4f-11\", \
             \"job-name\":\"other\"}: must be 'pi'",
        );
        let manual = with(job(), &["spec", "manualSelector"], json!(true));
        assert_exact(&check("Job", manual.clone()), "spec.selector: Required value");
        let manual = with(manual, &["spec", "selector"], json!({"matchLabels": {"app": "pi"}}));
        let errs = check("Job", manual.clone());
        assert_exact(
            &errs,
            "spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template \
             `labels`",
        );
        let manual = with(manual, &["spec", "template", "metadata"], json!({"labels": {"app": "pi"}}));
        assert_valid(&check("Job", manual));
        let mut j = job();
        if let Some(m) = j["metadata"].as_object_mut() {
            m.remove("uid");
        }
        let mut j2 = j.clone();
        apply_defaults("Job", &mut j2);
        j2["spec"]["selector"] = json!({"matchLabels": {"app": "pi"}});
        let errs: Vec<String> = validate("Job", &j2, None).iter().map(ToString::to_string).collect();
        assert_exact(&errs, "metadata.uid: Required value");
        assert_exact(
            &errs,
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"pi\"}, \
             MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` not auto-generated",
        );
    }

    #[test]
    fn job_names_longer_than_a_label_are_rejected() {
        let name = "j".repeat(64);
        let errs = check("Job", with(job(), &["metadata", "name"], json!(name)));
        assert_exact(
            &errs,
            &format!("spec.template.labels: Invalid value: \"{name}\": must be no more than 63 characters"),
        );
        assert_valid(&check("Job", with(job(), &["metadata", "name"], json!("j".repeat(63)))));
        let indexed =
            with(with(job(), &["spec", "completionMode"], json!("Indexed")), &["spec", "completions"], json!(10));
        let errs = check("Job", with(indexed, &["metadata", "name"], json!("j".repeat(62))));
        assert_exact(
            &errs,
            &format!(
                "metadata.name: Invalid value: \"{}\": will not able to create pod with invalid DNS label: {}-9",
                "j".repeat(62),
                "j".repeat(62)
            ),
        );
    }

    #[test]
    fn job_updates() {
        // Updates start from the stored (defaulted) object, as clients do.
        let mut old = job();
        apply_defaults("Job", &mut old);
        assert_valid(&check_update("Job", old.clone(), with(old.clone(), &["spec", "parallelism"], json!(4))));
        assert_valid(&check_update("Job", old.clone(), with(old.clone(), &["spec", "suspend"], json!(true))));
        let errs = check_update("Job", old.clone(), with(old.clone(), &["spec", "completions"], json!(3)));
        assert_exact(&errs, "spec.completions: Invalid value: 3: field is immutable");
        let new = with(old.clone(), &["spec", "template", "spec", "containers", "0", "image"], json!("perl:5.36"));
        let errs = check_update("Job", old.clone(), new);
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert!(errs[0].starts_with("spec.template: Invalid value: {"), "{}", errs[0]);
        assert!(errs[0].ends_with("}: field is immutable"), "{}", errs[0]);
        let mut defaulted = old.clone();
        apply_defaults("Job", &mut defaulted);
        let new = with(defaulted.clone(), &["spec", "selector", "matchLabels", "extra"], json!("x"));
        let errs = check_update("Job", defaulted.clone(), new);
        assert_has(&errs, "spec.selector: Invalid value: v1.LabelSelector{");
        assert_has(&errs, "field is immutable");
        // A suspended Job that never ran may change its scheduling directives.
        let suspended = with(defaulted, &["spec", "suspend"], json!(true));
        let moved = with(suspended.clone(), &["spec", "template", "spec", "nodeSelector"], json!({"zone": "b"}));
        assert_valid(&check_update("Job", suspended.clone(), moved.clone()));
        let started = with(suspended, &["status", "startTime"], json!("2024-01-01T00:00:00Z"));
        assert_has(&check_update("Job", started, moved), "spec.template: Invalid value");
        // Indexed jobs may scale completions together with parallelism.
        let indexed =
            with(with(old, &["spec", "completionMode"], json!("Indexed")), &["spec", "completions"], json!(2));
        let indexed = with(indexed, &["spec", "parallelism"], json!(2));
        let scaled =
            with(with(indexed.clone(), &["spec", "completions"], json!(4)), &["spec", "parallelism"], json!(4));
        assert_valid(&check_update("Job", indexed.clone(), scaled));
        let errs = check_update("Job", indexed.clone(), with(indexed, &["spec", "completions"], json!(4)));
        assert_exact(&errs, "spec.completions: Invalid value: 4: can only be modified in tandem with spec.parallelism");
    }

    #[test]
    fn cronjob_spec() {
        assert_valid(&check("CronJob", cronjob()));
        for ok in ["@hourly", "*/15 9-17 * * mon-fri", "@every 2h"] {
            assert_valid(&check("CronJob", with(cronjob(), &["spec", "schedule"], json!(ok))));
        }
        let errs = check("CronJob", with(cronjob(), &["spec", "schedule"], json!("")));
        assert_exact(&errs, "spec.schedule: Required value");
        let errs = check("CronJob", with(cronjob(), &["spec", "schedule"], json!("* * *")));
        assert_exact(&errs, "spec.schedule: Invalid value: \"* * *\": expected exactly 5 fields, found 3: [* * *]");
        let errs = check("CronJob", with(cronjob(), &["spec", "schedule"], json!("TZ=UTC 0 * * * *")));
        assert_exact(
            &errs,
            "spec.schedule: Invalid value: \"TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone \
             field instead",
        );
        let errs = check("CronJob", with(cronjob(), &["spec", "concurrencyPolicy"], json!("Sometimes")));
        assert_exact(
            &errs,
            "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \
             \"Replace\"",
        );
        assert_valid(&check("CronJob", with(cronjob(), &["spec", "timeZone"], json!("Europe/Berlin"))));
        let errs = check("CronJob", with(cronjob(), &["spec", "timeZone"], json!("Local")));
        assert_exact(
            &errs,
            "spec.timeZone: Invalid value: \"Local\": timeZone must be an explicit time zone as defined in \
             https://www.iana.org/time-zones",
        );
        let errs = check("CronJob", with(cronjob(), &["spec", "timeZone"], json!("../etc")));
        assert_exact(&errs, "spec.timeZone: Invalid value: \"../etc\": unknown time zone ../etc");
        let errs = check("CronJob", with(cronjob(), &["metadata", "name"], json!("n".repeat(53))));
        assert_has(&errs, "must be no more than 52 characters");
        let long = with(cronjob(), &["metadata", "name"], json!("n".repeat(53)));
        assert_valid(&check_update("CronJob", long.clone(), long));
        let errs = check(
            "CronJob",
            with(cronjob(), &["spec", "jobTemplate", "spec", "template", "spec", "restartPolicy"], json!("Always")),
        );
        assert_exact(
            &errs,
            "spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"",
        );
        let errs = check(
            "CronJob",
            with(cronjob(), &["spec", "jobTemplate", "spec", "selector"], json!({"matchLabels": {"a": "b"}})),
        );
        assert_has(&errs, "`selector` will be auto-generated");
        let errs = check("CronJob", with(cronjob(), &["spec", "successfulJobsHistoryLimit"], json!(-1)));
        assert_exact(&errs, "spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0");
    }

    // ----- services and endpoints ------------------------------------------------

    #[test]
    fn service_spec() {
        assert_valid(&check("Service", service()));
        let errs = check("Service", with(service(), &["metadata", "name"], json!("1web")));
        assert_has(&errs, "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of");
        let errs = check("Service", with(service(), &["spec", "ports"], json!([])));
        assert_exact(&errs, "spec.ports: Required value");
        let headless = with(with(service(), &["spec", "ports"], json!([])), &["spec", "clusterIP"], json!("None"));
        assert_valid(&check("Service", headless));
        let ext = json!({"metadata": {"name": "db", "namespace": "default"}, "spec": {"type": "ExternalName"}});
        assert_exact(&check("Service", ext.clone()), "spec.externalName: Required value");
        assert_valid(&check("Service", with(ext.clone(), &["spec", "externalName"], json!("db.example.com."))));
        let errs = check("Service", with(ext, &["spec", "externalName"], json!("db_example")));
        assert_has(&errs, "spec.externalName: Invalid value: \"db_example\": a lowercase RFC 1123 subdomain");
        let errs = check("Service", with(service(), &["spec", "ports", "0", "port"], json!(0)));
        assert_exact(&errs, "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive");
        let two = json!([{"port": 80}, {"port": 443}]);
        let errs = check("Service", with(service(), &["spec", "ports"], two));
        assert_exact(&errs, "spec.ports[0].name: Required value");
        assert_exact(&errs, "spec.ports[1].name: Required value");
        let two = json!([{"name": "web", "port": 80}, {"name": "web", "port": 443}]);
        assert_exact(
            &check("Service", with(service(), &["spec", "ports"], two)),
            "spec.ports[1].name: Duplicate value: \"web\"",
        );
        let two = json!([{"name": "http", "port": 80}, {"name": "https", "port": 443, "targetPort": "https"}]);
        assert_valid(&check("Service", with(service(), &["spec", "ports"], two)));
        let errs = check("Service", with(service(), &["spec", "ports", "0", "protocol"], json!("HTTP")));
        assert_has(&errs, "spec.ports[0].protocol: Unsupported value: \"HTTP\"");
        let errs = check("Service", with(service(), &["spec", "type"], json!("Magic")));
        assert_exact(
            &errs,
            "spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \
             \"LoadBalancer\", \"NodePort\"",
        );
        let node_port = with(service(), &["spec", "type"], json!("NodePort"));
        assert_valid(&check("Service", with(node_port.clone(), &["spec", "ports", "0", "nodePort"], json!(30080))));
        let errs = check("Service", with(node_port, &["spec", "ports", "0", "nodePort"], json!(8080)));
        assert_exact(
            &errs,
            "spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid \
             ports is 30000-32767",
        );
        let errs = check("Service", with(service(), &["spec", "ports", "0", "nodePort"], json!(30080)));
        assert_exact(&errs, "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'");
        let errs = check("Service", with(service(), &["spec", "selector"], json!({"app": "we b"})));
        assert_has(&errs, "spec.selector: Invalid value: \"we b\"");
        let errs = check("Service", with(service(), &["spec", "clusterIP"], json!("10.0.0.300")));
        assert_has(&errs, "spec.clusterIPs[0]: Invalid value: \"10.0.0.300\": must be a valid IP address");
        let errs = check("Service", with(service(), &["spec", "sessionAffinity"], json!("Sticky")));
        assert_has(&errs, "spec.sessionAffinity: Unsupported value: \"Sticky\"");
    }

    #[test]
    fn service_cluster_ip_is_immutable() {
        let unset = service();
        let set_ip = with(service(), &["spec", "clusterIP"], json!("10.96.0.10"));
        assert_valid(&check_update("Service", unset, set_ip.clone()));
        assert_valid(&check_update("Service", set_ip.clone(), set_ip.clone()));
        let changed = with(service(), &["spec", "clusterIP"], json!("10.96.0.11"));
        assert_exact(
            &check_update("Service", set_ip.clone(), changed),
            "spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.11\"}: may not change once set",
        );
        assert_exact(
            &check_update("Service", set_ip, service()),
            "spec.clusterIPs[0]: Invalid value: []string(nil): primary clusterIP can not be unset",
        );
    }

    #[test]
    fn endpoints_subsets() {
        let ep = |subsets: Value| json!({"metadata": {"name": "web", "namespace": "default"}, "subsets": subsets});
        assert_valid(&check("Endpoints", ep(json!([{"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 80}]}]))));
        let errs = check("Endpoints", ep(json!([{"addresses": [{"ip": "10.1.2"}], "ports": [{"port": 80}]}])));
        assert_exact(
            &errs,
            "subsets[0].addresses[0].ip: Invalid value: \"10.1.2\": must be a valid IP address, (e.g. 10.9.8.7 or \
             2001:db8::ffff)",
        );
        let errs = check("Endpoints", ep(json!([{"addresses": [{"ip": "127.0.0.1"}]}])));
        assert_exact(
            &errs,
            "subsets[0].addresses[0].ip: Invalid value: \"127.0.0.1\": may not be in the loopback range \
             (127.0.0.0/8, ::1/128)",
        );
        let errs = check("Endpoints", ep(json!([{"ports": [{"port": 0, "protocol": "TCP"}]}])));
        assert_exact(&errs, "subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`");
        assert_exact(&errs, "subsets[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive");
        assert_valid(&check("Endpoints", ep(json!([{"notReadyAddresses": [{"ip": "fd00::1"}]}]))));
    }

    // ----- configmaps and secrets ----------------------------------------------------

    #[test]
    fn config_maps() {
        let cm = json!({"metadata": {"name": "cfg", "namespace": "default"}, "data": {"app.yaml": "x: 1"}});
        assert_valid(&check("ConfigMap", cm.clone()));
        let errs = check("ConfigMap", with(cm.clone(), &["data", "a/b"], json!("x")));
        assert_has(
            &errs,
            "data[a/b]: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters",
        );
        let errs = check("ConfigMap", with(cm.clone(), &["binaryData"], json!({"app.yaml": "eA=="})));
        assert_exact(&errs, "data[app.yaml]: Invalid value: \"app.yaml\": duplicate of key present in binaryData");
        let errs = check("ConfigMap", with(cm.clone(), &["data", "big"], json!("x".repeat(MAX_SECRET_SIZE))));
        assert_exact(&errs, ": Too long: may not be more than 1048576 bytes");
        let errs = check("ConfigMap", with(cm.clone(), &["data", "..x"], json!("x")));
        assert_exact(&errs, "data[..x]: Invalid value: \"..x\": must not start with '..'");

        let frozen = with(cm.clone(), &["immutable"], json!(true));
        let relabeled = with(frozen.clone(), &["metadata", "labels"], json!({"a": "b"}));
        assert_valid(&check_update("ConfigMap", frozen.clone(), relabeled));
        let changed = with(frozen.clone(), &["data", "app.yaml"], json!("x: 2"));
        assert_eq!(
            check_update("ConfigMap", frozen.clone(), changed),
            vec!["data: Forbidden: field is immutable when `immutable` is set".to_string()]
        );
        let thawed = with(frozen.clone(), &["immutable"], json!(false));
        assert_exact(
            &check_update("ConfigMap", frozen, thawed),
            "immutable: Forbidden: field is immutable when `immutable` is set",
        );
        assert_valid(&check_update("ConfigMap", cm.clone(), with(cm, &["data", "app.yaml"], json!("x: 3"))));
    }

    #[test]
    fn secrets() {
        let secret =
            json!({"metadata": {"name": "creds", "namespace": "default"}, "data": {"password": "aHVudGVyMg=="}});
        assert_valid(&check("Secret", secret.clone()));
        let errs = check("Secret", with(secret.clone(), &["data", "bad key"], json!("eA==")));
        assert_has(&errs, "data[bad key]: Invalid value: \"bad key\"");
        let tls = with(secret.clone(), &["type"], json!("kubernetes.io/tls"));
        let errs = check("Secret", tls);
        assert_exact(&errs, "data[tls.crt]: Required value");
        assert_exact(&errs, "data[tls.key]: Required value");
        let errs =
            check_update("Secret", secret.clone(), with(secret.clone(), &["type"], json!("kubernetes.io/basic-auth")));
        assert_exact(&errs, "type: Invalid value: \"kubernetes.io/basic-auth\": field is immutable");
        let frozen = with(secret.clone(), &["immutable"], json!(true));
        let errs = check_update("Secret", frozen.clone(), with(frozen, &["data", "password"], json!("eA==")));
        assert_exact(&errs, "data: Forbidden: field is immutable when `immutable` is set");
        let big = "QUFB".repeat(MAX_SECRET_SIZE / 3 + 1);
        let errs = check("Secret", with(secret, &["data", "blob"], json!(big)));
        assert_exact(&errs, "data: Too long: may not be more than 1048576 bytes");
    }

    // ----- namespaces, nodes, events, leases --------------------------------------------

    #[test]
    fn namespaces() {
        assert_valid(&check("Namespace", json!({"metadata": {"name": "team-a"}})));
        let errs = check("Namespace", json!({"metadata": {"name": "team.a"}}));
        assert_exact(&errs, "metadata.name: Invalid value: \"team.a\": must not contain dots");
        let errs = check("Namespace", json!({"metadata": {"name": "Team"}}));
        assert_has(&errs, "metadata.name: Invalid value: \"Team\": a lowercase RFC 1123 label");
        let errs = check("Namespace", json!({"metadata": {"name": "ns"}, "spec": {"finalizers": ["custom"]}}));
        assert_exact(
            &errs,
            "spec.finalizers: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully \
             qualified",
        );
    }

    #[test]
    fn nodes() {
        let node = json!({"metadata": {"name": "node-1.example.com"}, "spec": {"podCIDRs": ["10.244.1.0/24"]}});
        assert_valid(&check("Node", node.clone()));
        let errs = check("Node", with(node.clone(), &["metadata", "name"], json!("Node_1")));
        assert_has(&errs, "metadata.name: Invalid value: \"Node_1\": a lowercase RFC 1123 subdomain");
        let errs =
            check("Node", with(node.clone(), &["spec", "taints"], json!([{"key": "gpu", "effect": "Sometimes"}])));
        assert_exact(
            &errs,
            "spec.taints[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \
             \"PreferNoSchedule\", \"NoExecute\"",
        );
        let taints = json!([{"key": "gpu", "value": "true", "effect": "NoSchedule"}]);
        assert_valid(&check("Node", with(node.clone(), &["spec", "taints"], taints)));
        let errs = check("Node", with(node.clone(), &["spec", "podCIDRs"], json!(["10.244.1.0/33"])));
        assert_has(&errs, "spec.podCIDRs[0]: Invalid value: \"10.244.1.0/33\": must be a valid CIDR value");
        let errs = check_update("Node", node.clone(), with(node, &["spec", "podCIDRs"], json!(["10.244.2.0/24"])));
        assert_exact(&errs, "spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid");
    }

    #[test]
    fn events() {
        let ev = json!({"metadata": {"name": "web.17a2b", "namespace": "default"},
                        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
                        "reason": "Started", "message": "Started container"});
        assert_valid(&check("Event", ev.clone()));
        let errs = check("Event", with(ev.clone(), &["involvedObject", "namespace"], json!("other")));
        assert_exact(&errs, "involvedObject.namespace: Invalid value: \"other\": does not match event.namespace");
        let errs = check("Event", with(ev, &["metadata", "name"], json!("a/b")));
        assert_exact(&errs, "metadata.name: Invalid value: \"a/b\": may not contain '/'");
    }

    #[test]
    fn leases() {
        let lease = json!({"metadata": {"name": "kube-scheduler", "namespace": "kube-system"},
                           "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}});
        assert_valid(&check("Lease", lease.clone()));
        let errs = check("Lease", with(lease.clone(), &["spec", "leaseDurationSeconds"], json!(0)));
        assert_exact(&errs, "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0");
        let errs = check("Lease", with(lease, &["spec", "leaseTransitions"], json!(-1)));
        assert_exact(&errs, "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0");
    }

    // ----- robustness ----------------------------------------------------------------

    const KINDS: [&str; 15] = [
        "Namespace",
        "Node",
        "Pod",
        "Service",
        "Endpoints",
        "ConfigMap",
        "Secret",
        "Event",
        "ServiceAccount",
        "Deployment",
        "ReplicaSet",
        "Job",
        "CronJob",
        "Lease",
        "Widget",
    ];

    /// Replaces, one at a time, every value in `v` by values of other types.
    fn mutations(v: &Value) -> Vec<Value> {
        fn walk(root: &Value, path: &mut Vec<Value>, cur: &Value, out: &mut Vec<Value>) {
            for junk in [Value::Null, json!(-1), json!("x"), json!([]), json!({}), json!([null]), json!(1.5)] {
                let mut copy = root.clone();
                let mut slot = &mut copy;
                for p in path.iter() {
                    slot = match p {
                        Value::String(k) => &mut slot[k.as_str()],
                        Value::Number(n) => &mut slot[n.as_u64().unwrap_or(0) as usize],
                        _ => slot,
                    };
                }
                *slot = junk;
                out.push(copy);
            }
            match cur {
                Value::Object(m) => {
                    for (k, x) in m {
                        path.push(json!(k));
                        walk(root, path, x, out);
                        path.pop();
                    }
                }
                Value::Array(a) => {
                    for (i, x) in a.iter().enumerate() {
                        path.push(json!(i));
                        walk(root, path, x, out);
                        path.pop();
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(v, &mut Vec::new(), v, &mut out);
        out
    }

    #[test]
    fn never_panics_on_malformed_input() {
        let samples = [pod(), deployment(), job(), cronjob(), service(), json!({"metadata": {"name": "n"}})];
        for kind in KINDS {
            for sample in &samples {
                for bad in mutations(sample) {
                    let mut defaulted = bad.clone();
                    apply_defaults(kind, &mut defaulted);
                    apply_defaults(kind, &mut defaulted);
                    let _ = validate(kind, &bad, None);
                    let _ = validate(kind, &defaulted, Some(&bad));
                    let _ = validate(kind, &bad, Some(&defaulted));
                }
            }
            for odd in [Value::Null, json!(1), json!("pod"), json!([1, 2]), json!({"metadata": null, "spec": []})] {
                let mut o = odd.clone();
                apply_defaults(kind, &mut o);
                assert!(!validate(kind, &odd, None).is_empty() || kind == "Widget" || odd.is_object(), "{kind}");
                let _ = validate(kind, &odd, Some(&odd));
            }
        }
        let mut deep = json!("leaf");
        for _ in 0..500 {
            deep = json!({"spec": deep, "x": [deep.clone()]});
            if deep.to_string().len() > 1 << 20 {
                break;
            }
        }
        for kind in KINDS {
            let _ = validate(kind, &deep, Some(&deep));
        }
    }
}
