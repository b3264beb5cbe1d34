//! The nemesis kinds `--nemesis` accepts.

use std::fmt;
use std::str::FromStr;

/// One kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NemesisKind {
    /// SIGKILL the leader, restart it when the fault heals.
    KillLeader,
    /// SIGKILL a random replica.
    KillRandom,
    /// SIGKILL a random minority.
    KillMinority,
    /// SIGSTOP a random replica, SIGCONT when healed.
    Pause,
    /// SIGSTOP the leader.
    PauseLeader,
    /// A random partition of the kinds below.
    Partition,
    /// A random minority cut off from the majority.
    PartitionMajority,
    /// The leader cut off from everyone.
    PartitionLeader,
    /// A random follower cut off from everyone.
    PartitionFollower,
    /// Two halves that only one replica (the bridge) connects.
    PartitionBridge,
    /// A random replica cannot send to the others (they can still send to it).
    PartitionOneWay,
    /// A random replica removed from the Raft membership, then wiped and
    /// added back.
    Membership,
}

impl NemesisKind {
    /// Every kind, in `--nemesis all` order.
    pub const ALL: [NemesisKind; 12] = [
        NemesisKind::KillLeader,
        NemesisKind::KillRandom,
        NemesisKind::KillMinority,
        NemesisKind::Pause,
        NemesisKind::PauseLeader,
        NemesisKind::Partition,
        NemesisKind::PartitionMajority,
        NemesisKind::PartitionLeader,
        NemesisKind::PartitionFollower,
        NemesisKind::PartitionBridge,
        NemesisKind::PartitionOneWay,
        NemesisKind::Membership,
    ];

    /// Its `--nemesis` name.
    pub fn name(self) -> &'static str {
        match self {
            NemesisKind::KillLeader => "kill-leader",
            NemesisKind::KillRandom => "kill-random",
            NemesisKind::KillMinority => "kill-minority",
            NemesisKind::Pause => "pause",
            NemesisKind::PauseLeader => "pause-leader",
            NemesisKind::Partition => "partition",
            NemesisKind::PartitionMajority => "partition-majority",
            NemesisKind::PartitionLeader => "partition-leader",
            NemesisKind::PartitionFollower => "partition-follower",
            NemesisKind::PartitionBridge => "partition-bridge",
            NemesisKind::PartitionOneWay => "partition-one-way",
            NemesisKind::Membership => "membership",
        }
    }

    /// Whether it cuts links (needs chaos's proxies).
    pub fn is_partition(self) -> bool {
        self.name().starts_with("partition")
    }
}

impl fmt::Display for NemesisKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for NemesisKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let alias = match s {
            "kill" => Some(NemesisKind::KillRandom),
            "one-way" => Some(NemesisKind::PartitionOneWay),
            "bridge" => Some(NemesisKind::PartitionBridge),
            _ => None,
        };
        alias.or_else(|| NemesisKind::ALL.into_iter().find(|k| k.name() == s)).ok_or_else(|| {
            let names: Vec<&str> = NemesisKind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown nemesis {s:?}; choose from: all, none, {}", names.join(", "))
        })
    }
}

/// Parses a comma-separated `--nemesis` list (`all`, `none` allowed).
pub fn parse_list(s: &str) -> Result<Vec<NemesisKind>, String> {
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
        match item {
            "none" => {}
            "all" => out.extend(NemesisKind::ALL),
            other => out.push(other.parse()?),
        }
    }
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_lists_parse() {
        for k in NemesisKind::ALL {
            assert_eq!(k.name().parse::<NemesisKind>().unwrap(), k);
        }
        assert_eq!(
            parse_list("kill-leader,pause,partition").unwrap(),
            vec![NemesisKind::KillLeader, NemesisKind::Pause, NemesisKind::Partition]
        );
        assert!(parse_list("none").unwrap().is_empty());
        let e = parse_list("kill-leader,explode").unwrap_err();
        assert!(e.contains("unknown nemesis \"explode\"") && e.contains("partition-bridge"), "{e}");
    }
}
