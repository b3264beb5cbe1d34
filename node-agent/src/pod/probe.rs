//! Probe bookkeeping (startup, liveness, readiness): pure, driven by the
//! worker with the result of each run (`probe_run`).
//!
//! Guarantees (as the kubelet):
//! - Defaults: period 10 s, timeout 1 s, success threshold 1, failure
//!   threshold 3, initial delay 0; the first run is `initialDelaySeconds`
//!   after the container started.
//! - A result flips only after `successThreshold` consecutive successes or
//!   `failureThreshold` consecutive failures; liveness and startup always
//!   use a success threshold of 1.
//! - Readiness starts failed, liveness starts successful, startup starts
//!   failed; liveness and readiness do not run before startup succeeded;
//!   startup stops once it succeeded.
//! - A liveness or startup probe that flipped to failure holds (runs no
//!   more) until the container is replaced.
//! - At most one run per probe is in flight.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Probe};
use tokio::time::Instant;

/// Which probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    /// `startupProbe`.
    Startup,
    /// `livenessProbe`.
    Liveness,
    /// `readinessProbe`.
    Readiness,
}

impl ProbeKind {
    /// "Startup", "Liveness", "Readiness" (event messages).
    pub fn label(self) -> &'static str {
        match self {
            ProbeKind::Startup => "Startup",
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
        }
    }
}

/// Timing and thresholds of one probe, defaulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeSpec {
    /// `initialDelaySeconds`.
    pub initial_delay: Duration,
    /// `periodSeconds`.
    pub period: Duration,
    /// `timeoutSeconds`.
    pub timeout: Duration,
    /// `successThreshold`.
    pub success_threshold: u32,
    /// `failureThreshold`.
    pub failure_threshold: u32,
}

impl ProbeSpec {
    /// From the API object, with Kubernetes' defaults.
    pub fn from_probe(p: &Probe, kind: ProbeKind) -> Self {
        let secs = |v: Option<i32>, d: u64, min: u64| Duration::from_secs(v.map_or(d, |v| (v.max(0) as u64).max(min)));
        let count = |v: Option<i32>, d: u32| v.map_or(d, |v| v.max(1) as u32);
        ProbeSpec {
            initial_delay: secs(p.initial_delay_seconds, 0, 0),
            period: secs(p.period_seconds, 10, 1),
            timeout: secs(p.timeout_seconds, 1, 1),
            success_threshold: if kind == ProbeKind::Readiness { count(p.success_threshold, 1) } else { 1 },
            failure_threshold: count(p.failure_threshold, 3),
        }
    }
}

/// What a recorded result changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The probe's result is unchanged.
    Same,
    /// It flipped to success.
    Succeeded,
    /// It flipped to failure.
    Failed,
}

/// One probe of one running container.
#[derive(Debug, Clone)]
pub struct ProbeState {
    /// Which probe.
    pub kind: ProbeKind,
    /// Its timing.
    pub spec: ProbeSpec,
    next_due: Instant,
    run: u32,
    last: Option<bool>,
    result: bool,
    in_flight: bool,
    on_hold: bool,
}

impl ProbeState {
    /// A probe of a container that started at `started`.
    pub fn new(kind: ProbeKind, spec: ProbeSpec, started: Instant) -> Self {
        ProbeState {
            kind,
            spec,
            next_due: started + spec.initial_delay,
            run: 0,
            last: None,
            result: kind == ProbeKind::Liveness,
            in_flight: false,
            on_hold: false,
        }
    }

    /// The current result.
    pub fn result(&self) -> bool {
        self.result
    }

    /// When it next wants to run (`None` while in flight or on hold).
    pub fn next_due(&self) -> Option<Instant> {
        (!self.in_flight && !self.on_hold).then_some(self.next_due)
    }

    /// Whether it should run now.
    pub fn is_due(&self, now: Instant) -> bool {
        self.next_due().is_some_and(|d| d <= now)
    }

    /// A run started.
    pub fn begin(&mut self) {
        self.in_flight = true;
    }

    /// Record the result of a run that ended at `now`.
    pub fn record(&mut self, ok: bool, now: Instant) -> Verdict {
        self.in_flight = false;
        self.next_due = now + self.spec.period;
        if self.last == Some(ok) {
            self.run = self.run.saturating_add(1);
        } else {
            self.last = Some(ok);
            self.run = 1;
        }
        let threshold = if ok { self.spec.success_threshold } else { self.spec.failure_threshold };
        if self.run < threshold || self.result == ok {
            return Verdict::Same;
        }
        self.result = ok;
        if ok {
            Verdict::Succeeded
        } else {
            if self.kind != ProbeKind::Readiness {
                self.on_hold = true;
            }
            Verdict::Failed
        }
    }
}

/// The probes of one running container.
#[derive(Debug, Clone, Default)]
pub struct Probes {
    /// `startupProbe`, until it succeeded.
    pub startup: Option<ProbeState>,
    /// `livenessProbe`.
    pub liveness: Option<ProbeState>,
    /// `readinessProbe`.
    pub readiness: Option<ProbeState>,
}

impl Probes {
    /// The probes of `c`, for a container that started at `started`.
    pub fn for_container(c: &Container, started: Instant) -> Self {
        let mk = |p: &Option<Probe>, k| p.as_ref().map(|p| ProbeState::new(k, ProbeSpec::from_probe(p, k), started));
        Probes {
            startup: mk(&c.startup_probe, ProbeKind::Startup),
            liveness: mk(&c.liveness_probe, ProbeKind::Liveness),
            readiness: mk(&c.readiness_probe, ProbeKind::Readiness),
        }
    }

    /// No probe at all.
    pub fn is_empty(&self) -> bool {
        self.startup.is_none() && self.liveness.is_none() && self.readiness.is_none()
    }

    /// `started` of the container status: the startup probe (if any) succeeded.
    pub fn started(&self) -> bool {
        self.startup.as_ref().is_none_or(ProbeState::result)
    }

    /// `ready` of the container status (given it runs).
    pub fn ready(&self) -> bool {
        self.started() && self.readiness.as_ref().is_none_or(ProbeState::result)
    }

    /// The probe of kind `k`.
    pub fn get_mut(&mut self, k: ProbeKind) -> Option<&mut ProbeState> {
        match k {
            ProbeKind::Startup => self.startup.as_mut(),
            ProbeKind::Liveness => self.liveness.as_mut(),
            ProbeKind::Readiness => self.readiness.as_mut(),
        }
    }

    fn active(&self) -> impl Iterator<Item = &ProbeState> {
        let gated = self.started();
        let startup = self.startup.as_ref().filter(|s| !s.result());
        startup.into_iter().chain(self.liveness.iter().chain(self.readiness.iter()).filter(move |_| gated))
    }

    /// Probes that should run now (startup gates the others).
    pub fn due(&self, now: Instant) -> Vec<ProbeKind> {
        self.active().filter(|p| p.is_due(now)).map(|p| p.kind).collect()
    }

    /// The earliest time a probe wants to run.
    pub fn next_due(&self) -> Option<Instant> {
        self.active().filter_map(ProbeState::next_due).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(period: i32, success: i32, failure: i32, delay: i32) -> Probe {
        Probe {
            period_seconds: Some(period),
            success_threshold: Some(success),
            failure_threshold: Some(failure),
            initial_delay_seconds: Some(delay),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_as_kubernetes() {
        let s = ProbeSpec::from_probe(&Probe::default(), ProbeKind::Liveness);
        assert_eq!(s.period, Duration::from_secs(10));
        assert_eq!(s.timeout, Duration::from_secs(1));
        assert_eq!((s.success_threshold, s.failure_threshold), (1, 3));
        assert_eq!(s.initial_delay, Duration::ZERO);
        let l = ProbeSpec::from_probe(&probe(5, 4, 2, 0), ProbeKind::Liveness);
        assert_eq!(l.success_threshold, 1, "liveness success threshold is always 1");
    }

    #[test]
    fn thresholds_and_timing() {
        let t0 = Instant::now();
        let mut r =
            ProbeState::new(ProbeKind::Readiness, ProbeSpec::from_probe(&probe(5, 2, 2, 3), ProbeKind::Readiness), t0);
        assert!(!r.result(), "readiness starts failed");
        assert!(!r.is_due(t0));
        assert!(r.is_due(t0 + Duration::from_secs(3)), "initial delay");
        r.begin();
        assert_eq!(r.next_due(), None, "in flight");
        let t = t0 + Duration::from_secs(3);
        assert_eq!(r.record(true, t), Verdict::Same, "one success of two");
        assert_eq!(r.next_due(), Some(t + Duration::from_secs(5)));
        assert_eq!(r.record(true, t), Verdict::Succeeded);
        assert_eq!(r.record(false, t), Verdict::Same);
        assert_eq!(r.record(true, t), Verdict::Same, "a success breaks the failure run");
        assert_eq!(r.record(false, t), Verdict::Same);
        assert_eq!(r.record(false, t), Verdict::Failed);
        assert!(r.next_due().is_some(), "readiness keeps probing");

        let mut l =
            ProbeState::new(ProbeKind::Liveness, ProbeSpec::from_probe(&probe(1, 1, 3, 0), ProbeKind::Liveness), t0);
        assert!(l.result());
        assert_eq!(l.record(false, t0), Verdict::Same);
        assert_eq!(l.record(false, t0), Verdict::Same);
        assert_eq!(l.record(false, t0), Verdict::Failed);
        assert_eq!(l.next_due(), None, "liveness holds after failing");
    }

    #[test]
    fn startup_gates_the_others() {
        let t0 = Instant::now();
        let c = Container {
            startup_probe: Some(probe(1, 1, 3, 0)),
            liveness_probe: Some(probe(1, 1, 3, 0)),
            readiness_probe: Some(probe(1, 1, 3, 0)),
            ..Default::default()
        };
        let mut p = Probes::for_container(&c, t0);
        assert_eq!(p.due(t0), vec![ProbeKind::Startup]);
        assert!(!p.started() && !p.ready());
        assert_eq!(p.get_mut(ProbeKind::Startup).unwrap().record(true, t0), Verdict::Succeeded);
        assert!(p.started() && !p.ready());
        assert_eq!(p.due(t0), vec![ProbeKind::Liveness, ProbeKind::Readiness]);
        p.get_mut(ProbeKind::Readiness).unwrap().record(true, t0);
        assert!(p.ready());
        assert_eq!(p.next_due(), Some(t0), "liveness has not run yet");
        p.get_mut(ProbeKind::Liveness).unwrap().record(true, t0);
        assert_eq!(p.next_due(), Some(t0 + Duration::from_secs(1)));
        assert!(Probes::for_container(&Container::default(), t0).ready(), "no probes: ready when running");
    }
}
