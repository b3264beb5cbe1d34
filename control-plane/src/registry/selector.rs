//! Label and field selectors with Kubernetes semantics.
//!
//! [`LabelSelector`] parses the `labelSelector` query-parameter syntax (`a=b`, `a==b`, `a!=b`,
//! `a in (x,y)`, `a notin (x)`, `a`, `!a`, and the integer comparisons `a>1`, `a<1`) and the
//! `metav1.LabelSelector` JSON object (`matchLabels` + `matchExpressions`). Keys and values are
//! validated like the Kubernetes API server does (qualified names, 63-character label values),
//! and the canonical string form (requirements sorted by key, `in` values sorted) is what
//! Kubernetes prints, e.g. in `status.selector` of a Scale.
//!
//! [`FieldSelector`] parses the `fieldSelector` syntax (`f=v`, `f==v`, `f!=v`, comma-separated,
//! with `\,` `\=` `\\` escapes in values), rejects fields the kind does not support, and matches
//! objects on the same derived field values the API server uses (booleans as `true`/`false`,
//! counters as decimal numbers, absent strings as `""`).
//!
//! Guarantees: parsing never panics on any input; errors name the offending part of the input;
//! matching is a pure function of the selector and the JSON it is given.

use std::fmt;

use serde_json::{Map, Value};
use thiserror::Error;

/// Why a label or field selector could not be parsed or built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SelectorError {
    /// The label selector string is not well formed.
    #[error("invalid label selector {selector:?}: {detail}")]
    LabelSyntax {
        /// The whole selector as given.
        selector: String,
        /// What was expected and what was found.
        detail: String,
    },
    /// A label key is not a valid qualified name.
    #[error(
        "invalid label key {key:?}: {reason} (a key is an optional DNS subdomain prefix and '/', then a name of at \
         most 63 characters from [A-Za-z0-9-_.] that starts and ends with a letter or digit)"
    )]
    InvalidKey {
        /// The rejected key.
        key: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// A label value is not valid.
    #[error(
        "invalid value {value:?} for label {key:?}: {reason} (a value is empty or at most 63 characters from \
         [A-Za-z0-9-_.] that starts and ends with a letter or digit)"
    )]
    InvalidValue {
        /// The label key the value belongs to.
        key: String,
        /// The rejected value.
        value: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// An operator was given the wrong number or kind of values.
    #[error("invalid requirement for label {key:?}: {reason}")]
    InvalidRequirement {
        /// The label key of the requirement.
        key: String,
        /// What is wrong with its values.
        reason: String,
    },
    /// A `matchExpressions` entry uses an operator Kubernetes does not know.
    #[error("{operator:?} is not a valid label selector operator: use In, NotIn, Exists or DoesNotExist")]
    InvalidOperator {
        /// The rejected operator.
        operator: String,
    },
    /// A `metav1.LabelSelector` JSON object has the wrong shape.
    #[error("invalid label selector object: {0}")]
    InvalidObject(String),
    /// A field selector term has no `=`, `==` or `!=` operator.
    #[error(
        "invalid field selector {selector:?}: cannot understand {term:?}; write terms as <field>=<value>, \
         <field>==<value> or <field>!=<value>, separated by commas"
    )]
    FieldSyntax {
        /// The whole selector as given.
        selector: String,
        /// The term that could not be split.
        term: String,
    },
    /// A field selector value contains a bad escape or an unescaped special character.
    #[error("invalid field selector value {value:?}: {reason}")]
    FieldValue {
        /// The raw (still escaped) value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The field cannot be used to select objects of this kind.
    #[error("{field:?} is not a known field selector: only {supported} are supported")]
    UnknownField {
        /// The rejected field path.
        field: String,
        /// The supported fields, quoted and comma-separated.
        supported: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equals,
    DoubleEquals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Operator,
    /// Sorted and de-duplicated for `In`/`NotIn`; exactly one for the other value operators.
    values: Vec<String>,
}

impl Requirement {
    fn new(key: String, op: Operator, mut values: Vec<String>) -> Result<Self, SelectorError> {
        validate_key(&key)?;
        let bad = |reason: &str| SelectorError::InvalidRequirement { key: key.clone(), reason: reason.to_string() };
        match op {
            Operator::In | Operator::NotIn => {
                if values.is_empty() {
                    return Err(bad("the 'in' and 'notin' operators need at least one value"));
                }
                values.sort();
                values.dedup();
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
                if values.len() != 1 {
                    return Err(bad("the '=', '==' and '!=' operators need exactly one value"));
                }
            }
            Operator::Exists | Operator::DoesNotExist => {
                if !values.is_empty() {
                    return Err(bad("the 'exists' and 'does not exist' operators take no values"));
                }
            }
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    return Err(bad("the '>' and '<' operators need exactly one value"));
                }
                if values.iter().any(|v| v.parse::<i64>().is_err()) {
                    return Err(bad("the '>' and '<' operators need an integer value"));
                }
            }
        }
        for value in &values {
            validate_value(&key, value)?;
        }
        Ok(Self { key, op, values })
    }

    fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        let actual = labels.and_then(|m| m.get(&self.key)).and_then(Value::as_str);
        let listed = |v: &str| self.values.iter().any(|x| x == v);
        match self.op {
            Operator::Equals | Operator::DoubleEquals | Operator::In => actual.is_some_and(listed),
            Operator::NotEquals | Operator::NotIn => actual.is_none_or(|v| !listed(v)),
            Operator::Exists => actual.is_some(),
            Operator::DoesNotExist => actual.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(actual), Some(bound)) = (actual, self.values.first()) else { return false };
                let (Ok(actual), Ok(bound)) = (actual.parse::<i64>(), bound.parse::<i64>()) else { return false };
                if self.op == Operator::GreaterThan {
                    actual > bound
                } else {
                    actual < bound
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.values.join(",");
        match self.op {
            Operator::Exists => write!(f, "{}", self.key),
            Operator::DoesNotExist => write!(f, "!{}", self.key),
            Operator::Equals => write!(f, "{}={value}", self.key),
            Operator::DoubleEquals => write!(f, "{}=={value}", self.key),
            Operator::NotEquals => write!(f, "{}!={value}", self.key),
            Operator::GreaterThan => write!(f, "{}>{value}", self.key),
            Operator::LessThan => write!(f, "{}<{value}", self.key),
            Operator::In => write!(f, "{} in ({value})", self.key),
            Operator::NotIn => write!(f, "{} notin ({value})", self.key),
        }
    }
}

/// A parsed label selector: a conjunction of requirements on an object's labels.
///
/// The default value is the empty selector, which matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    /// Sorted by key (stable), as Kubernetes keeps them.
    requirements: Vec<Requirement>,
    /// Built from a `null` `metav1.LabelSelector`: selects nothing.
    nothing: bool,
}

impl LabelSelector {
    /// Parses the `labelSelector` query-string syntax.
    ///
    /// Accepts `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`,
    /// comma-separated and whitespace tolerant. The empty string selects everything.
    /// Errors name the unexpected token, the bad key or the bad value.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut parser = Parser { tokens: lex(s), pos: 0, input: s };
        let mut requirements = Vec::new();
        loop {
            match parser.peek_value() {
                Token::End => break,
                Token::Ident(_) | Token::Bang => {
                    requirements.push(parser.requirement()?);
                    match parser.next_value() {
                        Token::End => break,
                        Token::Comma => match parser.peek_value() {
                            Token::Ident(_) | Token::Bang => {}
                            other => return Err(parser.error(format!("expected a label key after ',', found {other}"))),
                        },
                        other => {
                            return Err(
                                parser.error(format!("expected ',' or the end after a requirement, found {other}"))
                            )
                        }
                    }
                }
                other => return Err(parser.error(format!("expected a label key or '!', found {other}"))),
            }
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Self { requirements, nothing: false })
    }

    /// Builds a selector from a `metav1.LabelSelector` JSON object.
    ///
    /// `matchLabels` entries become `key=value` requirements; `matchExpressions` entries use the
    /// operators `In`, `NotIn`, `Exists` and `DoesNotExist`. A JSON `null` yields a selector that
    /// matches nothing (as Kubernetes treats a nil selector); an object with neither field set
    /// matches everything. Unknown operators, `In`/`NotIn` without values, values on
    /// `Exists`/`DoesNotExist`, bad keys or values and wrongly typed fields are errors.
    pub fn from_object(v: &Value) -> Result<Self, SelectorError> {
        let object = match v {
            Value::Null => return Ok(Self { requirements: Vec::new(), nothing: true }),
            Value::Object(object) => object,
            other => {
                return Err(SelectorError::InvalidObject(format!(
                    "expected an object with matchLabels and/or matchExpressions, found {}",
                    json_type(other)
                )))
            }
        };
        let mut requirements = Vec::new();
        match object.get("matchLabels") {
            None | Some(Value::Null) => {}
            Some(Value::Object(labels)) => {
                for (key, value) in labels {
                    let Some(value) = value.as_str() else {
                        return Err(SelectorError::InvalidObject(format!(
                            "matchLabels[{key:?}] must be a string, found {}",
                            json_type(value)
                        )));
                    };
                    requirements.push(Requirement::new(key.clone(), Operator::Equals, vec![value.to_string()])?);
                }
            }
            Some(other) => {
                return Err(SelectorError::InvalidObject(format!(
                    "matchLabels must be an object of strings, found {}",
                    json_type(other)
                )))
            }
        }
        match object.get("matchExpressions") {
            None | Some(Value::Null) => {}
            Some(Value::Array(expressions)) => {
                for (i, expression) in expressions.iter().enumerate() {
                    requirements.push(expression_requirement(i, expression)?);
                }
            }
            Some(other) => {
                return Err(SelectorError::InvalidObject(format!(
                    "matchExpressions must be an array, found {}",
                    json_type(other)
                )))
            }
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Self { requirements, nothing: false })
    }

    /// Whether an object with these labels is selected. `None` means the object has no labels.
    ///
    /// Label values that are not JSON strings are treated as absent.
    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether the selector has no requirements and so selects everything.
    ///
    /// A selector built from a `null` object selects nothing and is not empty.
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }
}

/// The canonical form: requirements sorted by key and joined with `,`; `in`/`notin` values sorted.
/// The empty selector and the select-nothing selector both print as `""`.
impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, requirement) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{requirement}")?;
        }
        Ok(())
    }
}

fn expression_requirement(index: usize, expression: &Value) -> Result<Requirement, SelectorError> {
    let shape = |what: String| SelectorError::InvalidObject(format!("matchExpressions[{index}]: {what}"));
    let Some(expression) = expression.as_object() else {
        return Err(shape(format!("must be an object, found {}", json_type(expression))));
    };
    let key = match expression.get("key") {
        Some(Value::String(key)) => key.clone(),
        None | Some(Value::Null) => String::new(),
        Some(other) => return Err(shape(format!("key must be a string, found {}", json_type(other)))),
    };
    let operator = match expression.get("operator") {
        Some(Value::String(operator)) => operator.as_str(),
        None | Some(Value::Null) => "",
        Some(other) => return Err(shape(format!("operator must be a string, found {}", json_type(other)))),
    };
    let op = match operator {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        other => return Err(SelectorError::InvalidOperator { operator: other.to_string() }),
    };
    let values = match expression.get("values") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(values)) => {
            let mut out = Vec::with_capacity(values.len());
            for value in values {
                match value.as_str() {
                    Some(value) => out.push(value.to_string()),
                    None => return Err(shape(format!("values must be strings, found {}", json_type(value)))),
                }
            }
            out
        }
        Some(other) => return Err(shape(format!("values must be an array of strings, found {}", json_type(other)))),
    };
    Requirement::new(key, op, values)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// --- validation ------------------------------------------------------------------------------

const MAX_NAME_LEN: usize = 63;
const MAX_SUBDOMAIN_LEN: usize = 253;

/// Checks the `[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]` shape shared by label names and values.
fn name_shape_error(s: &str) -> Option<&'static str> {
    let bytes = s.as_bytes();
    if !bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return Some("only letters, digits, '-', '_' and '.' are allowed");
    }
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else { return None };
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Some("it must start and end with a letter or digit");
    }
    None
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= MAX_SUBDOMAIN_LEN
        && s.split('.').all(|label| {
            let bytes = label.as_bytes();
            match (bytes.first(), bytes.last()) {
                (Some(first), Some(last)) => {
                    bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
                        && first.is_ascii_alphanumeric()
                        && last.is_ascii_alphanumeric()
                }
                _ => false,
            }
        })
}

fn validate_key(key: &str) -> Result<(), SelectorError> {
    let bad = |reason: String| SelectorError::InvalidKey { key: key.to_string(), reason };
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts.as_slice() {
        [name] => name,
        [prefix, name] => {
            if prefix.is_empty() {
                return Err(bad("the prefix before '/' is empty".to_string()));
            }
            if !is_dns_subdomain(prefix) {
                return Err(bad(format!(
                    "the prefix {prefix:?} is not a DNS subdomain (lowercase letters, digits, '-' and '.', at most \
                     253 characters)"
                )));
            }
            name
        }
        _ => return Err(bad("it contains more than one '/'".to_string())),
    };
    if name.is_empty() {
        return Err(bad("the name part is empty".to_string()));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(bad(format!("the name part is {} characters long", name.len())));
    }
    match name_shape_error(name) {
        Some(reason) => Err(bad(format!("the name part {name:?} is malformed: {reason}"))),
        None => Ok(()),
    }
}

fn validate_value(key: &str, value: &str) -> Result<(), SelectorError> {
    let bad = |reason: String| SelectorError::InvalidValue { key: key.to_string(), value: value.to_string(), reason };
    if value.len() > MAX_NAME_LEN {
        return Err(bad(format!("it is {} characters long", value.len())));
    }
    match name_shape_error(value) {
        Some(reason) => Err(bad(reason.to_string())),
        None => Ok(()),
    }
}

// --- lexer and parser ------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    In,
    NotIn,
    Bang,
    Equals,
    DoubleEquals,
    NotEquals,
    GreaterThan,
    LessThan,
    Open,
    Close,
    Comma,
    End,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Ident(s) => write!(f, "{s:?}"),
            Token::In => f.write_str("'in'"),
            Token::NotIn => f.write_str("'notin'"),
            Token::Bang => f.write_str("'!'"),
            Token::Equals => f.write_str("'='"),
            Token::DoubleEquals => f.write_str("'=='"),
            Token::NotEquals => f.write_str("'!='"),
            Token::GreaterThan => f.write_str("'>'"),
            Token::LessThan => f.write_str("'<'"),
            Token::Open => f.write_str("'('"),
            Token::Close => f.write_str("')'"),
            Token::Comma => f.write_str("','"),
            Token::End => f.write_str("the end of the selector"),
        }
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '>' | '<')
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn lex(s: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if is_space(c) {
            chars.next();
            continue;
        }
        if is_special(c) {
            chars.next();
            let doubled = chars.peek() == Some(&'=');
            let token = match c {
                '!' if doubled => Token::NotEquals,
                '=' if doubled => Token::DoubleEquals,
                '!' => Token::Bang,
                '=' => Token::Equals,
                '(' => Token::Open,
                ')' => Token::Close,
                ',' => Token::Comma,
                '>' => Token::GreaterThan,
                _ => Token::LessThan,
            };
            if matches!(token, Token::NotEquals | Token::DoubleEquals) {
                chars.next();
            }
            tokens.push(token);
            continue;
        }
        let mut ident = String::new();
        while let Some(&c) = chars.peek() {
            if is_space(c) || is_special(c) {
                break;
            }
            ident.push(c);
            chars.next();
        }
        tokens.push(match ident.as_str() {
            "in" => Token::In,
            "notin" => Token::NotIn,
            _ => Token::Ident(ident),
        });
    }
    tokens
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    input: &'a str,
}

impl Parser<'_> {
    fn error(&self, detail: String) -> SelectorError {
        SelectorError::LabelSyntax { selector: self.input.to_string(), detail }
    }

    /// The next token in a key or value position, where `in`/`notin` are plain words.
    fn peek_value(&self) -> Token {
        match self.tokens.get(self.pos) {
            None => Token::End,
            Some(Token::In) => Token::Ident("in".to_string()),
            Some(Token::NotIn) => Token::Ident("notin".to_string()),
            Some(token) => token.clone(),
        }
    }

    fn next_value(&mut self) -> Token {
        let token = self.peek_value();
        self.pos += 1;
        token
    }

    /// The next token in operator position, where `in`/`notin` are keywords.
    fn next_operator(&mut self) -> Token {
        let token = self.tokens.get(self.pos).cloned().unwrap_or(Token::End);
        self.pos += 1;
        token
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        let mut unary = None;
        let mut token = self.next_value();
        if token == Token::Bang {
            unary = Some(Operator::DoesNotExist);
            token = self.next_value();
        }
        let Token::Ident(key) = token else {
            return Err(self.error(format!("expected a label key, found {token}")));
        };
        validate_key(&key)?;
        if matches!(self.peek_value(), Token::End | Token::Comma) && unary.is_none() {
            unary = Some(Operator::Exists);
        }
        if let Some(op) = unary {
            return Requirement::new(key, op, Vec::new());
        }
        let op = match self.next_operator() {
            Token::In => Operator::In,
            Token::NotIn => Operator::NotIn,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::NotEquals => Operator::NotEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            other => {
                return Err(self
                    .error(format!("expected an operator (=, ==, !=, in, notin, >, <) after {key:?}, found {other}")))
            }
        };
        let values = match op {
            Operator::In | Operator::NotIn => self.value_set(&key)?,
            _ => self.exact_value(&key)?,
        };
        Requirement::new(key, op, values)
    }

    fn value_set(&mut self, key: &str) -> Result<Vec<String>, SelectorError> {
        let token = self.next_value();
        if token != Token::Open {
            return Err(self.error(format!("expected '(' to open the values of {key:?}, found {token}")));
        }
        match self.peek_value() {
            Token::Ident(_) | Token::Comma => {
                let values = self.value_list(key)?;
                match self.next_value() {
                    Token::Close => Ok(values),
                    other => Err(self.error(format!("expected ')' to close the values of {key:?}, found {other}"))),
                }
            }
            Token::Close => {
                self.pos += 1;
                Ok(vec![String::new()])
            }
            other => Err(self.error(format!("expected a value, ',' or ')' in the values of {key:?}, found {other}"))),
        }
    }

    /// The comma-separated values inside `( )`; empty entries (`(,a)`, `(a,)`) stand for `""`.
    fn value_list(&mut self, key: &str) -> Result<Vec<String>, SelectorError> {
        let mut values: Vec<String> = Vec::new();
        loop {
            match self.next_value() {
                Token::Ident(value) => {
                    values.push(value);
                    match self.peek_value() {
                        Token::Comma => continue,
                        Token::Close => return Ok(values),
                        other => {
                            return Err(
                                self.error(format!("expected ',' or ')' after a value of {key:?}, found {other}"))
                            )
                        }
                    }
                }
                Token::Comma => {
                    if values.is_empty() {
                        values.push(String::new());
                    }
                    match self.peek_value() {
                        Token::Close => {
                            values.push(String::new());
                            return Ok(values);
                        }
                        Token::Comma => {
                            self.pos += 1;
                            values.push(String::new());
                        }
                        _ => {}
                    }
                }
                other => {
                    return Err(self.error(format!("expected a value or ',' in the values of {key:?}, found {other}")))
                }
            }
        }
    }

    fn exact_value(&mut self, key: &str) -> Result<Vec<String>, SelectorError> {
        if matches!(self.peek_value(), Token::End | Token::Comma) {
            return Ok(vec![String::new()]);
        }
        match self.next_value() {
            Token::Ident(value) => Ok(vec![value]),
            other => Err(self.error(format!("expected a value for {key:?}, found {other}"))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Field selectors
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldTerm {
    field: String,
    value: String,
    negated: bool,
}

/// A parsed field selector: a conjunction of `field=value` / `field!=value` terms, checked
/// against the fields the object's kind supports.
///
/// The default value is the empty selector, which matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    kind: String,
    terms: Vec<FieldTerm>,
}

impl FieldSelector {
    /// Parses the `fieldSelector` syntax for objects of `kind` (`"Pod"`, `"Event"`, ...).
    ///
    /// Terms are `f=v`, `f==v` or `f!=v`, separated by unescaped commas; in values `\,`, `\=`
    /// and `\\` stand for `,`, `=` and `\`, and a bare `,`-free `=` or any other escape is an
    /// error. Every kind supports `metadata.name` and `metadata.namespace`; Pod, Event, Node,
    /// Secret, Namespace, ReplicaSet, ReplicationController and Job support more (see
    /// [`supported_fields`]). A blank selector selects everything.
    pub fn parse(kind: &str, s: &str) -> Result<Self, SelectorError> {
        let mut selector = Self { kind: kind.to_string(), terms: Vec::new() };
        if s.trim().is_empty() {
            return Ok(selector);
        }
        let mut parts = split_terms(s);
        parts.sort_unstable();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((field, op, raw)) = split_term(part) else {
                return Err(SelectorError::FieldSyntax { selector: s.to_string(), term: part.to_string() });
            };
            let value = unescape_value(raw)?;
            let field = field.trim();
            let supported = supported_fields(kind);
            if !supported.contains(&field) {
                let list = supported.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", ");
                return Err(SelectorError::UnknownField { field: field.to_string(), supported: list });
            }
            selector.terms.push(FieldTerm { field: field.to_string(), value, negated: op == "!=" });
        }
        Ok(selector)
    }

    /// Whether `obj` is selected. Fields are derived as the API server does: absent strings
    /// compare as `""`, booleans as `"true"`/`"false"` (absent = `"false"`), counters as decimal
    /// numbers (absent = `"0"`).
    pub fn matches(&self, obj: &Value) -> bool {
        self.terms.iter().all(|term| (field_value(&self.kind, obj, &term.field) == term.value) != term.negated)
    }

    /// The name pinned by a `metadata.name=<x>` (or `==`) term, which lets a server do a point read.
    pub fn exact_name(&self) -> Option<&str> {
        self.terms.iter().find(|t| t.field == "metadata.name" && !t.negated).map(|t| t.value.as_str())
    }

    /// Whether the selector has no terms and so selects everything.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// The canonical form: terms in sorted order as `field=value` or `field!=value`, values escaped.
impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = if term.negated { "!=" } else { "=" };
            write!(f, "{}{op}{}", term.field, escape_value(&term.value))?;
        }
        Ok(())
    }
}

/// The field paths a field selector may use for objects of `kind`.
pub fn supported_fields(kind: &str) -> Vec<&'static str> {
    let mut fields = vec!["metadata.name", "metadata.namespace"];
    let extra: &[&'static str] = match kind {
        "Pod" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "Event" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        "Node" => &["spec.unschedulable"],
        "Secret" => &["type"],
        "Namespace" => &["status.phase"],
        "ReplicaSet" | "ReplicationController" => &["status.replicas"],
        "Job" => &["status.successful"],
        _ => &[],
    };
    fields.extend_from_slice(extra);
    fields
}

fn lookup<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(obj, |cur, key| cur.as_object()?.get(key))
}

fn scalar_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn non_empty_text(v: Option<&Value>) -> Option<String> {
    Some(scalar_text(v)).filter(|s| !s.is_empty())
}

fn field_value(kind: &str, obj: &Value, field: &str) -> String {
    let bool_text = |path: &str| lookup(obj, path).and_then(Value::as_bool).unwrap_or(false).to_string();
    let count_text = |path: &str| non_empty_text(lookup(obj, path)).unwrap_or_else(|| "0".to_string());
    match (kind, field) {
        ("Pod", "spec.hostNetwork") => bool_text("spec.hostNetwork"),
        ("Pod", "status.podIP") => lookup(obj, "status.podIPs")
            .and_then(Value::as_array)
            .and_then(|ips| ips.first())
            .map(|ip| scalar_text(lookup(ip, "ip")))
            .unwrap_or_else(|| scalar_text(lookup(obj, "status.podIP"))),
        ("Pod", "spec.serviceAccountName") => non_empty_text(lookup(obj, "spec.serviceAccountName"))
            .unwrap_or_else(|| scalar_text(lookup(obj, "spec.serviceAccount"))),
        ("Node", "spec.unschedulable") => bool_text("spec.unschedulable"),
        ("Event", "source") => non_empty_text(lookup(obj, "source.component"))
            .unwrap_or_else(|| scalar_text(lookup(obj, "reportingComponent"))),
        ("ReplicaSet" | "ReplicationController", "status.replicas") => count_text("status.replicas"),
        ("Job", "status.successful") => count_text("status.succeeded"),
        _ => scalar_text(lookup(obj, field)),
    }
}

/// Splits on commas that are not escaped with a backslash.
fn split_terms(s: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' {
            terms.push(&s[start..i]);
            start = i + 1;
        }
    }
    terms.push(&s[start..]);
    terms
}

/// Splits a term at the first `!=`, `==` or `=`; the field part has no escaping.
fn split_term(term: &str) -> Option<(&str, &'static str, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for op in ["!=", "==", "="] {
            if let Some(value) = rest.strip_prefix(op) {
                return Some((&term[..i], op, value));
            }
        }
    }
    None
}

fn unescape_value(raw: &str) -> Result<String, SelectorError> {
    let bad = |reason: String| SelectorError::FieldValue { value: raw.to_string(), reason };
    let mut out = String::with_capacity(raw.len());
    let mut escaped = false;
    for c in raw.chars() {
        if escaped {
            if !matches!(c, '\\' | ',' | '=') {
                return Err(bad(format!("'\\{c}' is not a valid escape; only '\\\\', '\\,' and '\\=' are")));
            }
            out.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            ',' | '=' => return Err(bad(format!("'{c}' must be escaped as '\\{c}'"))),
            _ => out.push(c),
        }
    }
    if escaped {
        return Err(bad("it ends with a lone '\\'".to_string()));
    }
    Ok(out)
}

fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn sel(s: &str) -> LabelSelector {
        match LabelSelector::parse(s) {
            Ok(sel) => sel,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    #[test]
    fn parses_all_operators_and_prints_canonically() {
        assert_eq!(sel("tier in (b,a), app=web").to_string(), "app=web,tier in (a,b)");
        assert_eq!(sel("a==b").to_string(), "a==b");
        assert_eq!(sel("a != b").to_string(), "a!=b");
        assert_eq!(sel("x notin (z, y ,y)").to_string(), "x notin (y,z)");
        assert_eq!(sel("  !gone ,  present ").to_string(), "!gone,present");
        assert_eq!(sel("n>3,m<10").to_string(), "m<10,n>3");
        assert_eq!(sel("example.com/role=db").to_string(), "example.com/role=db");
        assert_eq!(sel("a in(x)").to_string(), "a in (x)");
    }

    #[test]
    fn empty_values_are_allowed() {
        assert_eq!(sel("a=").to_string(), "a=");
        assert_eq!(sel("a=,b").to_string(), "a=,b");
        assert_eq!(sel("a in ()").to_string(), "a in ()");
        assert_eq!(sel("a in (,x)").to_string(), "a in (,x)");
        assert_eq!(sel("a in (x,)").to_string(), "a in (,x)");
        let s = sel("a in (x,)");
        assert!(s.matches(Some(&labels(json!({"a": ""})))));
        assert!(!s.matches(None));
    }

    #[test]
    fn keywords_are_plain_words_in_key_and_value_position() {
        assert_eq!(sel("in=notin").to_string(), "in=notin");
        assert!(sel("in=notin").matches(Some(&labels(json!({"in": "notin"})))));
    }

    #[test]
    fn empty_selector_matches_everything() {
        let s = sel("");
        assert!(s.is_empty());
        assert!(s.matches(None));
        assert_eq!(s.to_string(), "");
        assert!(sel("   ").is_empty());
        assert!(LabelSelector::default().matches(None));
    }

    #[test]
    fn matching_follows_kubernetes_semantics() {
        let l = labels(json!({"app": "web", "tier": "front", "n": "5", "bad": 3}));
        let m = Some(&l);
        assert!(sel("app=web").matches(m));
        assert!(sel("app==web,tier").matches(m));
        assert!(!sel("app=db").matches(m));
        assert!(sel("app!=db").matches(m));
        assert!(sel("missing!=x").matches(m), "!= matches when the label is absent");
        assert!(sel("missing notin (x)").matches(m), "notin matches when the label is absent");
        assert!(!sel("missing in (x)").matches(m));
        assert!(sel("tier in (back,front)").matches(m));
        assert!(!sel("tier notin (front)").matches(m));
        assert!(sel("!missing").matches(m));
        assert!(!sel("!app").matches(m));
        assert!(sel("n>4,n<6").matches(m));
        assert!(!sel("n>5").matches(m));
        assert!(!sel("app>1").matches(m), "non-integer label never satisfies >");
        assert!(!sel("bad").matches(m), "non-string label values count as absent");
        assert!(!sel("app=web").matches(None));
        assert!(sel("!app").matches(None));
    }

    #[test]
    fn syntax_errors_name_the_problem() {
        let err = |s: &str| match LabelSelector::parse(s) {
            Ok(v) => panic!("{s:?} should fail, got {v}"),
            Err(e) => e.to_string(),
        };
        assert!(err("a in (x").contains("expected ',' or ')'"), "{}", err("a in (x"));
        assert!(err("a in x").contains("expected '('"), "{}", err("a in x"));
        assert!(err("a,").contains("after ','"), "{}", err("a,"));
        assert!(err(",a").contains("expected a label key"), "{}", err(",a"));
        assert!(err("a b").contains("expected an operator"), "{}", err("a b"));
        assert!(err("a=b c").contains("expected ',' or the end"), "{}", err("a=b c"));
        assert!(err("!a=b").contains("found '='"), "{}", err("!a=b"));
        assert!(err("a=(b)").contains("expected a value"), "{}", err("a=(b)"));
        assert!(err("a>=1").contains("expected a value"), "{}", err("a>=1"));
        assert!(err("a in (x y)").contains("\"y\""), "{}", err("a in (x y)"));
        assert!(err("!").contains("expected a label key"), "{}", err("!"));
    }

    #[test]
    fn keys_and_values_are_validated() {
        let err = |s: &str| LabelSelector::parse(s).err();
        assert!(matches!(err("-a=b"), Some(SelectorError::InvalidKey { .. })));
        assert!(matches!(err("a/b/c=d"), Some(SelectorError::InvalidKey { .. })));
        assert!(matches!(err("/a=b"), Some(SelectorError::InvalidKey { .. })));
        assert!(matches!(err("Example.com/a=b"), Some(SelectorError::InvalidKey { .. })));
        assert!(matches!(err("a$=b"), Some(SelectorError::InvalidKey { .. })));
        let long = "k".repeat(64);
        assert!(matches!(err(&format!("{long}=v")), Some(SelectorError::InvalidKey { .. })));
        assert!(LabelSelector::parse(&format!("{}=v", "k".repeat(63))).is_ok());
        match err("app=-web") {
            Some(SelectorError::InvalidValue { key, value, .. }) => {
                assert_eq!((key.as_str(), value.as_str()), ("app", "-web"))
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(err(&format!("a={}", "v".repeat(64))), Some(SelectorError::InvalidValue { .. })));
        assert!(matches!(err("a in (ok,b@d)"), Some(SelectorError::InvalidValue { .. })));
        assert!(matches!(err("a>x"), Some(SelectorError::InvalidRequirement { .. })));
        assert!(matches!(err("a>-1"), Some(SelectorError::InvalidValue { .. })));
    }

    #[test]
    fn from_object_builds_sorted_requirements() {
        let s = LabelSelector::from_object(&json!({
            "matchLabels": {"tier": "web", "app": "shop"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "zone", "operator": "NotIn", "values": ["a"]},
                {"key": "team", "operator": "Exists"}
            ]
        }))
        .unwrap_or_default();
        assert_eq!(s.to_string(), "app=shop,!canary,env in (dev,prod),team,tier=web,zone notin (a)");
        let l = labels(json!({"app": "shop", "tier": "web", "env": "dev", "team": "x"}));
        assert!(s.matches(Some(&l)));
        let l = labels(json!({"app": "shop", "tier": "web", "env": "dev", "team": "x", "canary": "1"}));
        assert!(!s.matches(Some(&l)));
    }

    #[test]
    fn from_object_null_and_empty() {
        let nothing = LabelSelector::from_object(&Value::Null).unwrap_or_default();
        assert!(!nothing.matches(None));
        assert!(!nothing.is_empty());
        assert_eq!(nothing.to_string(), "");
        let everything = LabelSelector::from_object(&json!({})).unwrap_or(nothing);
        assert!(everything.is_empty());
        assert!(everything.matches(None));
        let everything = LabelSelector::from_object(&json!({"matchLabels": null, "matchExpressions": []}));
        assert!(everything.is_ok_and(|s| s.is_empty()));
    }

    #[test]
    fn from_object_errors() {
        let err = |v: Value| LabelSelector::from_object(&v).err();
        assert!(matches!(
            err(json!({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]})),
            Some(SelectorError::InvalidRequirement { .. })
        ));
        assert!(matches!(
            err(json!({"matchExpressions": [{"key": "a", "operator": "In"}]})),
            Some(SelectorError::InvalidRequirement { .. })
        ));
        assert!(matches!(
            err(json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})),
            Some(SelectorError::InvalidRequirement { .. })
        ));
        match err(json!({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]})) {
            Some(e @ SelectorError::InvalidOperator { .. }) => assert!(e.to_string().contains("\"Equals\"")),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(err(json!({"matchLabels": {"a": 1}})), Some(SelectorError::InvalidObject(_))));
        assert!(matches!(err(json!({"matchLabels": ["a"]})), Some(SelectorError::InvalidObject(_))));
        assert!(matches!(err(json!({"matchExpressions": {}})), Some(SelectorError::InvalidObject(_))));
        assert!(matches!(err(json!({"matchExpressions": [1]})), Some(SelectorError::InvalidObject(_))));
        assert!(matches!(
            err(json!({"matchExpressions": [{"key": "a", "operator": "In", "values": [1]}]})),
            Some(SelectorError::InvalidObject(_))
        ));
        assert!(matches!(err(json!("app=web")), Some(SelectorError::InvalidObject(_))));
        assert!(matches!(err(json!({"matchLabels": {"a": "-x"}})), Some(SelectorError::InvalidValue { .. })));
        assert!(matches!(
            err(json!({"matchExpressions": [{"operator": "Exists"}]})),
            Some(SelectorError::InvalidKey { .. })
        ));
    }

    #[test]
    fn parse_never_panics_on_odd_input() {
        for s in ["(", ")", "((", "a in ((", "!!a", "a!", "a=(", "é=ü", "a in (,,)", "\u{0}", "a==", "=", "a,,b"] {
            let _ = LabelSelector::parse(s);
        }
        // As in Kubernetes, a doubled comma is an empty value, but not right before ')'.
        assert_eq!(sel("a in (,,b)").to_string(), "a in (,b)");
        assert!(LabelSelector::parse("a in (,,)").is_err());
    }

    fn pod() -> Value {
        json!({
            "metadata": {"name": "web-1", "namespace": "shop"},
            "spec": {"nodeName": "node-a", "restartPolicy": "Always", "serviceAccount": "legacy"},
            "status": {"phase": "Running", "podIP": "10.0.0.9", "podIPs": [{"ip": "10.0.0.5"}]}
        })
    }

    fn fsel(kind: &str, s: &str) -> FieldSelector {
        match FieldSelector::parse(kind, s) {
            Ok(sel) => sel,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    #[test]
    fn field_selector_matches_pod_fields() {
        let p = pod();
        assert!(fsel("Pod", "spec.nodeName=node-a").matches(&p));
        assert!(fsel("Pod", "spec.nodeName==node-a,status.phase!=Pending").matches(&p));
        assert!(!fsel("Pod", "spec.nodeName=node-b").matches(&p));
        assert!(fsel("Pod", "status.podIP=10.0.0.5").matches(&p), "podIPs[0] wins over podIP");
        assert!(fsel("Pod", "spec.hostNetwork=false").matches(&p), "absent bool is false");
        assert!(fsel("Pod", "spec.serviceAccountName=legacy").matches(&p), "falls back to serviceAccount");
        assert!(fsel("Pod", "spec.schedulerName=").matches(&p), "absent string is empty");
        assert!(fsel("Pod", "status.nominatedNodeName!=x").matches(&p));
        assert!(fsel("Pod", "metadata.namespace=shop,metadata.name=web-1").matches(&p));
        assert!(fsel("Pod", "").matches(&p));
        assert!(fsel("Pod", "").is_empty());
    }

    #[test]
    fn field_selector_other_kinds() {
        let node = json!({"metadata": {"name": "n"}, "spec": {"unschedulable": true}});
        assert!(fsel("Node", "spec.unschedulable=true").matches(&node));
        assert!(!fsel("Node", "spec.unschedulable=false").matches(&node));
        assert!(fsel("Node", "metadata.namespace=").matches(&node), "cluster-scoped namespace is empty");
        let ev = json!({"involvedObject": {"kind": "Pod", "name": "web-1"}, "reason": "Pulled",
                        "reportingComponent": "kubelet", "type": "Normal"});
        assert!(fsel("Event", "involvedObject.kind=Pod,involvedObject.name=web-1,type=Normal").matches(&ev));
        assert!(fsel("Event", "source=kubelet").matches(&ev), "source falls back to reportingComponent");
        let ev2 = json!({"source": {"component": "scheduler"}, "reportingComponent": "x"});
        assert!(fsel("Event", "source=scheduler").matches(&ev2));
        let secret = json!({"type": "kubernetes.io/tls"});
        assert!(fsel("Secret", "type=kubernetes.io/tls").matches(&secret));
        let rs = json!({"status": {}});
        assert!(fsel("ReplicaSet", "status.replicas=0").matches(&rs), "absent counter is 0");
        let job = json!({"status": {"succeeded": 2}});
        assert!(fsel("Job", "status.successful=2").matches(&job));
        let ns = json!({"status": {"phase": "Terminating"}});
        assert!(fsel("Namespace", "status.phase=Terminating").matches(&ns));
    }

    #[test]
    fn field_selector_escapes() {
        let obj = json!({"metadata": {"name": "a,b=c\\d"}});
        let s = fsel("ConfigMap", "metadata.name=a\\,b\\=c\\\\d");
        assert!(s.matches(&obj));
        assert_eq!(s.exact_name(), Some("a,b=c\\d"));
        assert_eq!(s.to_string(), "metadata.name=a\\,b\\=c\\\\d");
        assert!(matches!(FieldSelector::parse("Pod", "metadata.name=a\\x"), Err(SelectorError::FieldValue { .. })));
        assert!(matches!(FieldSelector::parse("Pod", "metadata.name=a\\"), Err(SelectorError::FieldValue { .. })));
        assert!(matches!(FieldSelector::parse("Pod", "metadata.name=a=b"), Err(SelectorError::FieldValue { .. })));
    }

    #[test]
    fn field_selector_errors() {
        match FieldSelector::parse("Service", "spec.type=ClusterIP") {
            Err(e) => assert_eq!(
                e.to_string(),
                "\"spec.type\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\" \
                 are supported"
            ),
            Ok(s) => panic!("unexpected {s}"),
        }
        match FieldSelector::parse("Pod", "status.podIPs=x") {
            Err(SelectorError::UnknownField { supported, .. }) => assert!(supported.contains("\"spec.nodeName\"")),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(FieldSelector::parse("Pod", "metadata.name"), Err(SelectorError::FieldSyntax { .. })));
        assert!(matches!(FieldSelector::parse("Pod", "=x"), Err(SelectorError::UnknownField { .. })));
        assert!(FieldSelector::parse("Pod", "metadata.name=a,,metadata.namespace=b").is_ok(), "empty terms skipped");
    }

    #[test]
    fn exact_name_only_for_positive_name_terms() {
        assert_eq!(fsel("Pod", "metadata.name=web").exact_name(), Some("web"));
        assert_eq!(fsel("Pod", "metadata.name==web,status.phase=Running").exact_name(), Some("web"));
        assert_eq!(fsel("Pod", "metadata.name!=web").exact_name(), None);
        assert_eq!(fsel("Pod", "status.phase=Running").exact_name(), None);
        assert_eq!(fsel("Pod", " metadata.name =web").exact_name(), Some("web"));
    }

    #[test]
    fn field_values_may_contain_operators_after_the_first() {
        // The first operator splits; the rest of the value must escape '='.
        let s = fsel("Pod", "metadata.name!=a\\=b");
        assert!(s.matches(&json!({"metadata": {"name": "x"}})));
        assert!(!s.matches(&json!({"metadata": {"name": "a=b"}})));
        assert_eq!(s.to_string(), "metadata.name!=a\\=b");
    }
}
