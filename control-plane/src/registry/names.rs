//! Format checks for names, label keys and values, DNS labels and
//! subdomains, config keys, environment variable names and port names, with
//! the Kubernetes 1.32 wording of their failure messages.
//!
//! Every `*_errors` function returns the list of problems with a value (empty
//! when it is valid), one message per problem, each worded as the Kubernetes
//! API server words it (`a lowercase RFC 1123 label must consist of ...`).
//! The `Option` forms (`dns1123_label`, ...) return `None` for a valid value
//! and otherwise all the messages joined with `"; "`. Lengths are counted in
//! bytes, as Kubernetes does. None of these functions panics, whatever the
//! input.

/// Longest DNS-1123 label (and DNS-1035 label, and label value).
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;
/// Longest DNS-1123 subdomain (and config key).
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
/// Longest name part of a qualified name.
pub const QUALIFIED_NAME_MAX_LENGTH: usize = 63;
/// Longest label value.
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', \
     and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric \
     characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start \
     with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' \
     or '.', and must start and end with an alphanumeric character";
const CONFIG_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const CONFIG_KEY_ERR: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const RELAXED_ENV_ERR: &str =
    "a valid environment variable name must consist only of printable ASCII characters other than '='";

/// The upstream "regex" error text: `msg (e.g. 'a',  or 'b', regex used for
/// validation is 'fmt')` (the doubled space is upstream's).
pub fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut out = format!("{msg} (e.g. ");
    for (i, ex) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push('\'');
        out.push_str(ex);
        out.push_str("', ");
    }
    out.push_str("regex used for validation is '");
    out.push_str(fmt);
    out.push_str("')");
    out
}

/// The upstream "too long" text: `must be no more than N characters`.
pub fn max_len_error(max: usize) -> String {
    format!("must be no more than {max} characters")
}

/// The upstream range text: `must be between LO and HI, inclusive`.
pub fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

fn join(errs: Vec<String>) -> Option<String> {
    if errs.is_empty() {
        None
    } else {
        Some(errs.join("; "))
    }
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            is_lower_alnum(f) && is_lower_alnum(l) && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`
fn matches_dns1123_subdomain(s: &str) -> bool {
    s.split('.').all(matches_dns1123_label)
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1035_label(s: &str) -> bool {
    matches_dns1123_label(s) && s.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn matches_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// Problems with a DNS-1123 label (at most 63 lower-case alphanumerics or
/// '-', starting and ending with an alphanumeric).
pub fn dns1123_label_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns1123_label(s) {
        if matches_dns1123_subdomain(s) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, &["my-name", "123-abc"]));
        }
    }
    errs
}

/// Problems with a DNS-1123 subdomain (at most 253 characters: labels joined
/// by '.').
pub fn dns1123_subdomain_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !matches_dns1123_subdomain(s) {
        errs.push(regex_error(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, &["example.com"]));
    }
    errs
}

/// Problems with a DNS-1035 label (a DNS-1123 label that starts with a
/// letter; Service names).
pub fn dns1035_label_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns1035_label(s) {
        errs.push(regex_error(DNS1035_LABEL_ERR, DNS1035_LABEL_FMT, &["my-name", "abc-123"]));
    }
    errs
}

/// Problems with a qualified name (label keys, annotation keys, finalizers):
/// an optional DNS-1123 subdomain prefix and '/', then a name of at most 63
/// alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric.
pub fn qualified_name_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = s.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(dns1123_subdomain_errors(prefix).into_iter().map(|m| format!("prefix part {m}")));
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > QUALIFIED_NAME_MAX_LENGTH {
        errs.push(format!("name part {}", max_len_error(QUALIFIED_NAME_MAX_LENGTH)));
    }
    if !matches_qualified_name_part(name) {
        errs.push(format!(
            "name part {}",
            regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
        ));
    }
    errs
}

/// Problems with a label value (empty, or at most 63 alphanumerics, '-', '_'
/// or '.', starting and ending with an alphanumeric).
pub fn label_value_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(max_len_error(LABEL_VALUE_MAX_LENGTH));
    }
    if !s.is_empty() && !matches_qualified_name_part(s) {
        errs.push(regex_error(LABEL_VALUE_ERR, LABEL_VALUE_FMT, &["MyValue", "my_value", "12345"]));
    }
    errs
}

/// Problems with a ConfigMap or Secret data key (at most 253 alphanumerics,
/// '-', '_' or '.'; not `.`, `..` or starting with `..`).
pub fn config_map_key_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    let charset_ok = !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    if !charset_ok {
        errs.push(regex_error(CONFIG_KEY_ERR, CONFIG_KEY_FMT, &["key.name", "KEY_NAME", "key-name"]));
    }
    if s == "." {
        errs.push("must not be '.'".to_string());
    } else if s == ".." {
        errs.push("must not be '..'".to_string());
    } else if s.starts_with("..") {
        errs.push("must not start with '..'".to_string());
    }
    errs
}

/// Problems with an environment variable name under the relaxed rule that
/// Kubernetes 1.32 applies by default: printable ASCII other than '='.
pub fn env_var_name_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.is_empty() {
        errs.push("environment variable name must be non-empty".to_string());
    }
    if s.chars().any(|c| !(' '..='~').contains(&c) || c == '=') {
        errs.push(RELAXED_ENV_ERR.to_string());
    }
    errs
}

/// Problems with a port name (IANA service name: at most 15 of [-a-z0-9],
/// with a letter, no "--", not starting or ending with '-').
pub fn port_name_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 15 {
        errs.push(max_len_error(15));
    }
    if s.is_empty() || !s.bytes().all(|c| is_lower_alnum(c) || c == b'-') {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string());
    }
    if !s.bytes().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_string());
    }
    if s.contains("--") {
        errs.push("must not contain consecutive hyphens".to_string());
    }
    if s.starts_with('-') || s.ends_with('-') {
        errs.push("must not begin or end with a hyphen".to_string());
    }
    errs
}

/// Problems with a port number (1-65535).
pub fn port_number_errors(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec![inclusive_range_error(1, 65535)]
    }
}

/// Problems with a percentage string (`[0-9]+%`).
pub fn percent_errors(s: &str) -> Vec<String> {
    let digits = s.strip_suffix('%').unwrap_or("");
    if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
        Vec::new()
    } else {
        vec![regex_error(
            "a valid percent string must be a numeric string followed by an ending '%'",
            "[0-9]+%",
            &["1%", "93%"],
        )]
    }
}

/// Problems with a name used as a URL path segment (every object name):
/// not `.` or `..`, no '/' or '%'.
pub fn path_segment_name_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s == "." || s == ".." {
        errs.push(format!("may not be '{s}'"));
        return errs;
    }
    for illegal in ["/", "%"] {
        if s.contains(illegal) {
            errs.push(format!("may not contain '{illegal}'"));
        }
    }
    errs
}

/// `None` if `s` is a valid DNS-1123 subdomain, otherwise the upstream
/// message(s).
pub fn dns1123_subdomain(s: &str) -> Option<String> {
    join(dns1123_subdomain_errors(s))
}

/// `None` if `s` is a valid DNS-1123 label, otherwise the upstream
/// message(s).
pub fn dns1123_label(s: &str) -> Option<String> {
    join(dns1123_label_errors(s))
}

/// `None` if `s` is a valid DNS-1035 label, otherwise the upstream
/// message(s).
pub fn dns1035_label(s: &str) -> Option<String> {
    join(dns1035_label_errors(s))
}

/// `None` if `s` is a valid qualified name (label or annotation key),
/// otherwise the upstream message(s).
pub fn qualified_name(s: &str) -> Option<String> {
    join(qualified_name_errors(s))
}

/// `None` if `s` is a valid label value, otherwise the upstream message(s).
pub fn label_value(s: &str) -> Option<String> {
    join(label_value_errors(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns1123_label_accepts_and_rejects() {
        assert_eq!(dns1123_label("my-name"), None);
        assert_eq!(dns1123_label("123-abc"), None);
        assert_eq!(dns1123_label("a"), None);
        assert_eq!(
            dns1123_label("My_Name").as_deref(),
            Some(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must \
                 start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for \
                 validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            )
        );
        assert_eq!(dns1123_label("a.b").as_deref(), Some("must not contain dots"));
        assert!(dns1123_label("").is_some());
        assert!(dns1123_label("-a").is_some());
        assert!(dns1123_label("a-").is_some());
        let long = "a".repeat(64);
        assert_eq!(dns1123_label(&long).as_deref(), Some("must be no more than 63 characters"));
        assert_eq!(dns1123_label(&"a".repeat(63)), None);
    }

    #[test]
    fn dns1123_subdomain_accepts_and_rejects() {
        assert_eq!(dns1123_subdomain("example.com"), None);
        assert_eq!(dns1123_subdomain("a-b.c-d.e"), None);
        assert!(dns1123_subdomain("a..b").is_some());
        assert!(dns1123_subdomain(".a").is_some());
        assert!(dns1123_subdomain("Example.com").is_some());
        assert!(dns1123_subdomain("").is_some());
        let long = format!("{}.{}", "a".repeat(200), "b".repeat(60));
        let msg = dns1123_subdomain(&long).unwrap_or_default();
        assert!(msg.starts_with("must be no more than 253 characters"), "{msg}");
        assert!(dns1123_subdomain("ünïcode").is_some());
    }

    #[test]
    fn dns1035_label_requires_leading_letter() {
        assert_eq!(dns1035_label("web"), None);
        let msg = dns1035_label("1web").unwrap_or_default();
        assert!(msg.starts_with("a DNS-1035 label must consist of"), "{msg}");
        assert!(msg.contains("(e.g. 'my-name',  or 'abc-123', regex used for validation is"), "{msg}");
    }

    #[test]
    fn qualified_names() {
        for ok in ["app", "app.kubernetes.io/name", "A_b-c.d", "example.com/X"] {
            assert_eq!(qualified_name(ok), None, "{ok}");
        }
        assert_eq!(qualified_name("/a").as_deref(), Some("prefix part must be non-empty"));
        let msg = qualified_name("a/").unwrap_or_default();
        assert!(msg.starts_with("name part must be non-empty; name part must consist of"), "{msg}");
        let msg = qualified_name("a/b/c").unwrap_or_default();
        assert!(msg.starts_with("a qualified name must consist of"), "{msg}");
        assert!(msg.ends_with("with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"));
        let msg = qualified_name("Bad_Prefix/x").unwrap_or_default();
        assert!(msg.starts_with("prefix part a lowercase RFC 1123 subdomain"), "{msg}");
        let msg = qualified_name(&"a".repeat(64)).unwrap_or_default();
        assert_eq!(msg, "name part must be no more than 63 characters");
        assert!(qualified_name("-a").is_some());
        assert!(qualified_name("").is_some());
    }

    #[test]
    fn label_values() {
        assert_eq!(label_value(""), None);
        assert_eq!(label_value("v1.2_x-y"), None);
        let msg = label_value("a b").unwrap_or_default();
        assert!(msg.starts_with("a valid label must be an empty string"), "{msg}");
        assert!(msg.contains("(e.g. 'MyValue',  or 'my_value',  or '12345', regex used"), "{msg}");
        assert_eq!(label_value(&"a".repeat(64)).as_deref(), Some("must be no more than 63 characters"));
        assert!(label_value("-a").is_some());
    }

    #[test]
    fn config_keys() {
        assert!(config_map_key_errors("key.name").is_empty());
        assert!(config_map_key_errors("KEY_NAME-1").is_empty());
        assert_eq!(config_map_key_errors("..a"), vec!["must not start with '..'".to_string()]);
        assert_eq!(config_map_key_errors(".."), vec!["must not be '..'".to_string()]);
        assert_eq!(config_map_key_errors("a/b").len(), 1);
        assert_eq!(config_map_key_errors("").len(), 1);
        assert_eq!(config_map_key_errors(&"a".repeat(254)).len(), 1);
    }

    #[test]
    fn env_names_ports_percent_segments() {
        assert!(env_var_name_errors("MY_VAR.1-x").is_empty());
        assert!(env_var_name_errors("1abc").is_empty());
        assert_eq!(env_var_name_errors("A=B").len(), 1);
        assert_eq!(env_var_name_errors("tab\t").len(), 1);
        assert_eq!(env_var_name_errors("é").len(), 1);
        assert_eq!(env_var_name_errors("").len(), 1);

        assert!(port_name_errors("http").is_empty());
        assert!(port_name_errors("web-8080").is_empty());
        assert_eq!(port_name_errors("8080"), vec!["must contain at least one letter (a-z)".to_string()]);
        assert_eq!(port_name_errors("a--b"), vec!["must not contain consecutive hyphens".to_string()]);
        assert_eq!(port_name_errors("-ab"), vec!["must not begin or end with a hyphen".to_string()]);
        assert_eq!(port_name_errors("abcdefghijklmnop"), vec!["must be no more than 15 characters".to_string()]);
        assert_eq!(port_name_errors("HTTP").len(), 2);

        assert!(port_number_errors(1).is_empty());
        assert!(port_number_errors(65535).is_empty());
        assert_eq!(port_number_errors(0), vec!["must be between 1 and 65535, inclusive".to_string()]);
        assert_eq!(port_number_errors(65536).len(), 1);

        assert!(percent_errors("25%").is_empty());
        assert_eq!(percent_errors("%").len(), 1);
        assert_eq!(percent_errors("2.5%").len(), 1);

        assert!(path_segment_name_errors("a.b").is_empty());
        assert_eq!(path_segment_name_errors(".."), vec!["may not be '..'".to_string()]);
        assert_eq!(path_segment_name_errors("a/b%"), vec!["may not contain '/'", "may not contain '%'"]);
    }
}
