//! Taint/toleration matching.
//!
//! Guarantees: a toleration tolerates a taint when its effect is empty or equal, its key is empty (only
//! meaningful with `Exists`, which then tolerates every taint) or equal, and either the operator is `Exists`
//! or the operator is `Equal`/unset and the values are equal (a missing value equals the empty string).

use k8s_openapi::api::core::v1::{Taint, Toleration};

/// Taint effect that blocks scheduling.
pub const NO_SCHEDULE: &str = "NoSchedule";
/// Taint effect that blocks scheduling and evicts running pods.
pub const NO_EXECUTE: &str = "NoExecute";
/// Soft taint effect: avoided by scoring only.
pub const PREFER_NO_SCHEDULE: &str = "PreferNoSchedule";

/// Whether `toleration` tolerates `taint`.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or_default();
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or_default();
    let operator = toleration.operator.as_deref().unwrap_or("Equal");
    if key.is_empty() {
        return operator == "Exists";
    }
    if key != taint.key {
        return false;
    }
    match operator {
        "Exists" => true,
        "Equal" | "" => toleration.value.as_deref().unwrap_or_default() == taint.value.as_deref().unwrap_or_default(),
        _ => false,
    }
}

/// Whether any toleration tolerates `taint`.
pub fn tolerated(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| tolerates(t, taint))
}

/// The first taint with one of `effects` that no toleration tolerates.
pub fn first_untolerated<'t>(taints: &'t [Taint], tolerations: &[Toleration], effects: &[&str]) -> Option<&'t Taint> {
    taints.iter().find(|taint| effects.contains(&taint.effect.as_str()) && !tolerated(tolerations, taint))
}

/// Whether a synthetic taint `key:NoSchedule` (e.g. `node.kubernetes.io/unschedulable`) is tolerated.
pub fn tolerates_no_schedule_key(tolerations: &[Toleration], key: &str) -> bool {
    let taint = Taint { key: key.to_string(), effect: NO_SCHEDULE.to_string(), ..Default::default() };
    tolerated(tolerations, &taint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(key: &str, value: &str, effect: &str) -> Taint {
        Taint { key: key.into(), value: Some(value.into()), effect: effect.into(), time_added: None }
    }

    fn tol(key: &str, op: &str, value: &str, effect: &str) -> Toleration {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Toleration {
            key: opt(key),
            operator: opt(op),
            value: opt(value),
            effect: opt(effect),
            toleration_seconds: None,
        }
    }

    #[test]
    fn matching_rules() {
        let gpu = taint("dedicated", "gpu", NO_SCHEDULE);
        assert!(tolerates(&tol("dedicated", "Equal", "gpu", "NoSchedule"), &gpu));
        assert!(tolerates(&tol("dedicated", "", "gpu", ""), &gpu), "Equal is the default, empty effect matches all");
        assert!(!tolerates(&tol("dedicated", "Equal", "cpu", ""), &gpu));
        assert!(tolerates(&tol("dedicated", "Exists", "", ""), &gpu));
        assert!(!tolerates(&tol("dedicated", "Exists", "", "NoExecute"), &gpu));
        assert!(tolerates(&tol("", "Exists", "", ""), &gpu), "empty key + Exists tolerates everything");
        assert!(!tolerates(&tol("", "Equal", "", ""), &gpu));
        assert!(!tolerates(&tol("other", "Exists", "", ""), &gpu));
    }

    #[test]
    fn first_untolerated_respects_effects() {
        let taints = [taint("soft", "", PREFER_NO_SCHEDULE), taint("a", "1", NO_EXECUTE), taint("b", "2", NO_SCHEDULE)];
        let tolerations = [tol("a", "Exists", "", "")];
        let found = first_untolerated(&taints, &tolerations, &[NO_SCHEDULE, NO_EXECUTE]);
        assert_eq!(found.map(|t| t.key.as_str()), Some("b"));
        assert!(tolerates_no_schedule_key(
            &[tol("node.kubernetes.io/unschedulable", "Exists", "", "")],
            "node.kubernetes.io/unschedulable"
        ));
    }
}
