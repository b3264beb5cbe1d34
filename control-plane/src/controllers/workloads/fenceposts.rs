//! Deployment strategy parameters: desired replicas, strategy kind and the
//! resolved `maxSurge` / `maxUnavailable` fenceposts.
//!
//! Guarantees (upstream `ResolveFenceposts`): absent values default to 25%;
//! percentages scale against the desired replicas, surge rounding up and
//! unavailable rounding down; if both resolve to 0, unavailable becomes 1;
//! malformed values fall back to the default; results are never negative.
//! For the Recreate strategy both are 0; `maxUnavailable` never exceeds the
//! desired replicas.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Default for both `maxSurge` and `maxUnavailable`.
pub const DEFAULT_FENCEPOST_PERCENT: i32 = 25;

/// The deployment's desired replicas (default 1, never negative).
pub fn desired_replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0)
}

/// True unless the strategy type is `Recreate` (RollingUpdate is the default).
pub fn is_rolling_update(d: &Deployment) -> bool {
    strategy_type(d) != Some("Recreate")
}

/// The strategy type string, if set.
pub fn strategy_type(d: &Deployment) -> Option<&str> {
    d.spec.as_ref()?.strategy.as_ref()?.type_.as_deref()
}

/// Resolve `(surge, unavailable)` for `desired` replicas.
pub fn resolve_fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> (i32, i32) {
    let surge = scaled_value(max_surge, desired, true);
    let unavailable = scaled_value(max_unavailable, desired, false);
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

/// An int-or-percent value scaled against `total` (default 25%).
pub fn scaled_value(value: Option<&IntOrString>, total: i32, round_up: bool) -> i32 {
    let percent = |p: i32| {
        let scaled = i64::from(p) * i64::from(total);
        let v = if round_up { (scaled + 99).div_euclid(100) } else { scaled.div_euclid(100) };
        i32::try_from(v).unwrap_or(i32::MAX)
    };
    let resolved = match value {
        Some(IntOrString::Int(i)) => *i,
        Some(IntOrString::String(s)) => parse_percent(s).map_or(percent(DEFAULT_FENCEPOST_PERCENT), percent),
        None => percent(DEFAULT_FENCEPOST_PERCENT),
    };
    resolved.max(0)
}

fn parse_percent(s: &str) -> Option<i32> {
    s.strip_suffix('%')?.trim().parse().ok()
}

fn rolling_params(d: &Deployment) -> (i32, i32) {
    let ru = d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.rolling_update.as_ref());
    resolve_fenceposts(
        ru.and_then(|r| r.max_surge.as_ref()),
        ru.and_then(|r| r.max_unavailable.as_ref()),
        desired_replicas(d),
    )
}

/// Resolved `maxSurge` (0 for Recreate).
pub fn max_surge(d: &Deployment) -> i32 {
    if !is_rolling_update(d) {
        return 0;
    }
    rolling_params(d).0
}

/// Desired replicas + maxSurge (saturating): the most replicas a rollout may run.
pub fn max_total_replicas(d: &Deployment) -> i32 {
    desired_replicas(d).saturating_add(max_surge(d))
}

/// Resolved `maxUnavailable`, capped at the desired replicas (0 for Recreate
/// or zero replicas).
pub fn max_unavailable(d: &Deployment) -> i32 {
    let desired = desired_replicas(d);
    if !is_rolling_update(d) || desired == 0 {
        return 0;
    }
    rolling_params(d).1.min(desired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};

    fn pct(s: &str) -> IntOrString {
        IntOrString::String(s.into())
    }

    fn deployment(replicas: i32, kind: &str, surge: Option<IntOrString>, unavail: Option<IntOrString>) -> Deployment {
        Deployment {
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                strategy: Some(DeploymentStrategy {
                    type_: Some(kind.into()),
                    rolling_update: Some(RollingUpdateDeployment { max_surge: surge, max_unavailable: unavail }),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn percentages_round_surge_up_and_unavailable_down() {
        assert_eq!(resolve_fenceposts(Some(&pct("25%")), Some(&pct("25%")), 10), (3, 2));
        assert_eq!(resolve_fenceposts(None, None, 6), (2, 1));
        assert_eq!(resolve_fenceposts(Some(&IntOrString::Int(1)), Some(&IntOrString::Int(1)), 6), (1, 1));
        assert_eq!(resolve_fenceposts(Some(&IntOrString::Int(0)), Some(&pct("10%")), 5), (0, 1), "both zero");
        assert_eq!(resolve_fenceposts(Some(&pct("bogus")), Some(&IntOrString::Int(-3)), 8), (2, 0));
    }

    #[test]
    fn strategy_specific_values() {
        let d = deployment(3, "Recreate", None, None);
        assert!(!is_rolling_update(&d));
        assert_eq!((max_surge(&d), max_unavailable(&d)), (0, 0));
        let d = deployment(2, "RollingUpdate", Some(IntOrString::Int(1)), Some(IntOrString::Int(5)));
        assert_eq!((max_surge(&d), max_unavailable(&d)), (1, 2), "unavailable capped at replicas");
        assert_eq!(max_total_replicas(&d), 3);
        assert_eq!(max_total_replicas(&deployment(i32::MAX, "RollingUpdate", None, None)), i32::MAX);
        assert_eq!(desired_replicas(&Deployment::default()), 1);
        assert!(is_rolling_update(&Deployment::default()));
    }
}
