//! Restart back-off (`CrashLoopBackOff`, `ImagePullBackOff`): pure.
//!
//! Guarantees, as the kubelet behaves:
//! - The first failure is retried at once; later consecutive failures wait
//!   10 s, 20 s, 40 s, ... doubling up to 5 min.
//! - A run that lasted at least 10 min resets the sequence (the next
//!   failure is again retried at once).

use std::time::Duration;

/// Delay after the second consecutive failure.
pub const INITIAL: Duration = Duration::from_secs(10);
/// Longest delay.
pub const MAX: Duration = Duration::from_secs(300);
/// A run at least this long resets the back-off.
pub const RESET_AFTER: Duration = Duration::from_secs(600);

/// Back-off of one container (or one image pull).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backoff {
    /// Delay the next failure gets; `None` = retry at once.
    next: Option<Duration>,
}

impl Backoff {
    /// Record a failure of a run that lasted `ran` (zero for a failed pull
    /// or create) and return how long to wait before the next attempt.
    pub fn on_failure(&mut self, ran: Duration) -> Duration {
        if ran >= RESET_AFTER {
            self.next = None;
        }
        let delay = self.next.unwrap_or(Duration::ZERO);
        self.next = Some(match self.next {
            None => INITIAL,
            Some(d) => (d * 2).min(MAX),
        });
        delay
    }

    /// Forget every failure (e.g. after a successful pull).
    pub fn reset(&mut self) {
        self.next = None;
    }
}

/// Go-style duration text as the kubelet prints it ("10s", "5m0s", "1m20s").
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_ten_seconds_to_five_minutes() {
        let mut b = Backoff::default();
        let got: Vec<u64> = (0..9).map(|_| b.on_failure(Duration::from_secs(1)).as_secs()).collect();
        assert_eq!(got, vec![0, 10, 20, 40, 80, 160, 300, 300, 300]);
    }

    #[test]
    fn long_run_resets() {
        let mut b = Backoff::default();
        b.on_failure(Duration::ZERO);
        b.on_failure(Duration::ZERO);
        assert_eq!(b.on_failure(Duration::from_secs(599)), Duration::from_secs(20));
        assert_eq!(b.on_failure(Duration::from_secs(600)), Duration::ZERO);
        assert_eq!(b.on_failure(Duration::ZERO), INITIAL);
        b.reset();
        assert_eq!(b.on_failure(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_duration(Duration::from_secs(20)), "20s");
        assert_eq!(format_duration(Duration::from_secs(300)), "5m0s");
        assert_eq!(format_duration(Duration::from_secs(80)), "1m20s");
    }
}
