//! Effective cpu/memory requests of a pod, as the scheduler accounts them.
//!
//! Guarantees: the effective request is `max(sum of app containers and sidecars, max over init containers of
//! (the init container + the sidecars started before it))` plus `spec.overhead`, computed twice: once with
//! missing requests counting 0 (used for fitting) and once with upstream's "non-zero" defaults of 100m cpu and
//! 200Mi memory for a container that sets no request (used for scoring). Malformed quantities count as 0.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::scheduler::quantity;

/// Default cpu (millicores) counted for scoring when a container requests none.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Default memory (bytes) counted for scoring when a container requests none.
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// An amount of cpu (millicores) and memory (bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resources {
    /// Millicores.
    pub milli_cpu: i64,
    /// Bytes.
    pub memory: i64,
}

impl Resources {
    /// Component-wise sum.
    pub fn plus(self, other: Resources) -> Resources {
        Resources {
            milli_cpu: self.milli_cpu.saturating_add(other.milli_cpu),
            memory: self.memory.saturating_add(other.memory),
        }
    }

    /// Component-wise difference.
    pub fn minus(self, other: Resources) -> Resources {
        Resources {
            milli_cpu: self.milli_cpu.saturating_sub(other.milli_cpu),
            memory: self.memory.saturating_sub(other.memory),
        }
    }

    /// Component-wise maximum.
    pub fn max(self, other: Resources) -> Resources {
        Resources { milli_cpu: self.milli_cpu.max(other.milli_cpu), memory: self.memory.max(other.memory) }
    }
}

/// The requests of one pod: exact (for fit) and with non-zero defaults (for scoring).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PodRequests {
    /// Requests with missing values counted as 0.
    pub actual: Resources,
    /// Requests with a missing cpu/memory request of a container counted as 100m/200Mi.
    pub non_zero: Resources,
}

impl PodRequests {
    /// Computes both request flavours of `pod`.
    pub fn of(pod: &Pod) -> PodRequests {
        PodRequests { actual: effective(pod, false), non_zero: effective(pod, true) }
    }
}

fn effective(pod: &Pod, non_zero: bool) -> Resources {
    let Some(spec) = pod.spec.as_ref() else {
        return Resources::default();
    };
    let mut total = spec.containers.iter().map(|c| container(c, non_zero)).fold(Resources::default(), Resources::plus);
    let mut sidecars = Resources::default();
    let mut init_peak = Resources::default();
    for init in spec.init_containers.iter().flatten() {
        let own = container(init, non_zero);
        if init.restart_policy.as_deref() == Some("Always") {
            total = total.plus(own);
            sidecars = sidecars.plus(own);
            init_peak = init_peak.max(sidecars);
        } else {
            init_peak = init_peak.max(own.plus(sidecars));
        }
    }
    let overhead = spec.overhead.as_ref().map(|o| from_list(o, false)).unwrap_or_default();
    total.max(init_peak).plus(overhead)
}

fn container(c: &Container, non_zero: bool) -> Resources {
    let empty = BTreeMap::new();
    let requests = c.resources.as_ref().and_then(|r| r.requests.as_ref()).unwrap_or(&empty);
    from_list(requests, non_zero)
}

fn from_list(list: &BTreeMap<String, Quantity>, non_zero: bool) -> Resources {
    let milli_cpu = match list.get("cpu") {
        Some(q) => quantity::cpu_millis(q).unwrap_or(0),
        None if non_zero => DEFAULT_MILLI_CPU_REQUEST,
        None => 0,
    };
    let memory = match list.get("memory") {
        Some(q) => quantity::value(q).unwrap_or(0),
        None if non_zero => DEFAULT_MEMORY_REQUEST,
        None => 0,
    };
    Resources { milli_cpu, memory }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSpec, ResourceRequirements};

    fn c(cpu: Option<&str>, mem: Option<&str>, restart: Option<&str>) -> Container {
        let mut requests = BTreeMap::new();
        if let Some(v) = cpu {
            requests.insert("cpu".to_string(), Quantity(v.into()));
        }
        if let Some(v) = mem {
            requests.insert("memory".to_string(), Quantity(v.into()));
        }
        Container {
            name: "c".into(),
            resources: Some(ResourceRequirements { requests: Some(requests), ..Default::default() }),
            restart_policy: restart.map(String::from),
            ..Default::default()
        }
    }

    fn pod(containers: Vec<Container>, init: Vec<Container>) -> Pod {
        Pod {
            spec: Some(PodSpec { containers, init_containers: Some(init), ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn sums_app_containers() {
        let r = PodRequests::of(&pod(vec![c(Some("100m"), Some("1Mi"), None), c(Some("1"), None, None)], vec![]));
        assert_eq!(r.actual, Resources { milli_cpu: 1100, memory: 1 << 20 });
        assert_eq!(r.non_zero, Resources { milli_cpu: 1100, memory: (1 << 20) + DEFAULT_MEMORY_REQUEST });
    }

    #[test]
    fn init_containers_take_the_max() {
        let r = PodRequests::of(&pod(vec![c(Some("100m"), Some("1Mi"), None)], vec![c(Some("2"), Some("1Ki"), None)]));
        assert_eq!(r.actual, Resources { milli_cpu: 2000, memory: 1 << 20 });
    }

    #[test]
    fn sidecars_add_to_app_and_later_inits() {
        let sidecar = c(Some("500m"), None, Some("Always"));
        let r = PodRequests::of(&pod(vec![c(Some("100m"), None, None)], vec![sidecar, c(Some("1"), None, None)]));
        assert_eq!(r.actual.milli_cpu, 1500, "init 1000m runs next to the 500m sidecar");
    }

    #[test]
    fn overhead_and_empty_pods() {
        let mut p = pod(vec![c(None, None, None)], vec![]);
        if let Some(spec) = p.spec.as_mut() {
            spec.overhead = Some(BTreeMap::from([("cpu".to_string(), Quantity("250m".into()))]));
        }
        let r = PodRequests::of(&p);
        assert_eq!(r.actual, Resources { milli_cpu: 250, memory: 0 });
        assert_eq!(r.non_zero, Resources { milli_cpu: 350, memory: DEFAULT_MEMORY_REQUEST });
        assert_eq!(PodRequests::of(&Pod::default()), PodRequests::default());
    }
}
