//! What a fault does, decided purely from the kind, the cluster size, who
//! leads, and a seeded RNG (so a seed reproduces the same schedule).

use std::collections::BTreeSet;

use rand::seq::SliceRandom;
use rand::Rng;

use super::NemesisKind;
use crate::proxy::partition;

/// A concrete fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// SIGKILL these replicas (restart on heal).
    Kill(Vec<usize>),
    /// SIGSTOP these replicas (SIGCONT on heal).
    Pause(Vec<usize>),
    /// Remove this replica from the membership (wipe it and add it back on
    /// heal).
    Rejoin(usize),
    /// Block these directed links (open them on heal).
    Partition {
        /// Blocked `(from, to)` links.
        links: BTreeSet<(usize, usize)>,
        /// Replicas on the small side (or the bridge / one-way sender).
        targets: Vec<usize>,
        /// E.g. "r0 | r1,r2".
        shape: String,
    },
}

impl Action {
    /// The replicas it targets.
    pub fn targets(&self) -> Vec<usize> {
        match self {
            Action::Kill(t) | Action::Pause(t) => t.clone(),
            Action::Rejoin(i) => vec![*i],
            Action::Partition { targets, .. } => targets.clone(),
        }
    }

    /// A sentence for the history and progress line.
    pub fn describe(&self, names: &[String], leader: Option<usize>) -> String {
        let who = |v: &[usize]| {
            v.iter()
                .map(|&i| if Some(i) == leader { format!("{} (leader)", names[i]) } else { names[i].clone() })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Action::Kill(t) => format!("SIGKILL {}", who(t)),
            Action::Pause(t) => format!("SIGSTOP {}", who(t)),
            Action::Rejoin(i) => format!("remove {} from the membership; wipe and re-add it on heal", who(&[*i])),
            Action::Partition { shape, .. } => format!("partition {shape}"),
        }
    }
}

fn pick_other(n: usize, not: Option<usize>, rng: &mut impl Rng) -> usize {
    let choices: Vec<usize> = (0..n).filter(|&i| Some(i) != not).collect();
    choices.choose(rng).copied().unwrap_or(0)
}

fn cut(p: partition::Partition, targets: Vec<usize>) -> Action {
    Action::Partition { links: p.links, targets, shape: p.description }
}

/// The fault `kind` does now, in a cluster of `names.len()` replicas led
/// by `leader` (if known).
pub fn plan(kind: NemesisKind, names: &[String], leader: Option<usize>, rng: &mut impl Rng) -> Action {
    let n = names.len();
    let minority = (n.saturating_sub(1)) / 2;
    let random = |rng: &mut dyn rand::RngCore| rng.gen_range(0..n);
    match kind {
        NemesisKind::KillLeader => Action::Kill(vec![leader.unwrap_or_else(|| random(rng))]),
        NemesisKind::KillRandom => Action::Kill(vec![random(rng)]),
        NemesisKind::KillMinority => {
            let mut all: Vec<usize> = (0..n).collect();
            all.shuffle(rng);
            all.truncate(minority.max(1));
            all.sort_unstable();
            Action::Kill(all)
        }
        NemesisKind::Pause => Action::Pause(vec![random(rng)]),
        NemesisKind::Membership => Action::Rejoin(random(rng)),
        NemesisKind::PauseLeader => Action::Pause(vec![leader.unwrap_or_else(|| random(rng))]),
        NemesisKind::Partition => {
            let kinds = [
                NemesisKind::PartitionMajority,
                NemesisKind::PartitionLeader,
                NemesisKind::PartitionFollower,
                NemesisKind::PartitionBridge,
                NemesisKind::PartitionOneWay,
            ];
            let k = *kinds.choose(rng).unwrap_or(&NemesisKind::PartitionMajority);
            plan(k, names, leader, rng)
        }
        NemesisKind::PartitionMajority => {
            let p = partition::majority_minority(names, &mut |b| rng.gen_range(0..b));
            let small = p.groups.get(1).cloned().unwrap_or_default();
            cut(p, small)
        }
        NemesisKind::PartitionLeader => {
            let m = leader.unwrap_or_else(|| random(rng));
            cut(partition::isolate(names, m), vec![m])
        }
        NemesisKind::PartitionFollower => {
            let m = pick_other(n, leader, rng);
            cut(partition::isolate(names, m), vec![m])
        }
        NemesisKind::PartitionBridge => {
            let bridge = random(rng);
            cut(partition::bridge(names, bridge, &mut |b| rng.gen_range(0..b)), vec![bridge])
        }
        NemesisKind::PartitionOneWay => {
            let m = random(rng);
            let rest: Vec<usize> = (0..n).filter(|&i| i != m).collect();
            cut(partition::one_way(names, &[m], &rest), vec![m])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("r{i}")).collect()
    }

    #[test]
    fn kill_leader_targets_the_leader() {
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(plan(NemesisKind::KillLeader, &names(3), Some(2), &mut rng), Action::Kill(vec![2]));
    }

    #[test]
    fn kill_minority_of_five_is_two() {
        let mut rng = StdRng::seed_from_u64(3);
        match plan(NemesisKind::KillMinority, &names(5), None, &mut rng) {
            Action::Kill(v) => assert_eq!(v.len(), 2),
            a => panic!("{a:?}"),
        }
    }

    #[test]
    fn isolating_the_leader_blocks_both_directions() {
        let mut rng = StdRng::seed_from_u64(1);
        let Action::Partition { links, targets, shape } =
            plan(NemesisKind::PartitionLeader, &names(3), Some(1), &mut rng)
        else {
            panic!()
        };
        assert_eq!(targets, vec![1]);
        assert_eq!(links, [(0, 1), (1, 0), (1, 2), (2, 1)].into_iter().collect());
        assert_eq!(shape, "r1 | r0,r2");
    }

    #[test]
    fn follower_partition_never_picks_the_leader() {
        for seed in 0..50 {
            let mut rng = StdRng::seed_from_u64(seed);
            let a = plan(NemesisKind::PartitionFollower, &names(3), Some(0), &mut rng);
            assert_ne!(a.targets(), vec![0]);
        }
    }

    #[test]
    fn bridge_of_five_keeps_the_bridge_connected() {
        let mut rng = StdRng::seed_from_u64(9);
        let Action::Partition { links, targets, .. } = plan(NemesisKind::PartitionBridge, &names(5), None, &mut rng)
        else {
            panic!()
        };
        let b = targets[0];
        assert!(links.iter().all(|(x, y)| *x != b && *y != b));
        // 2 x 2 members on each side, both directions.
        assert_eq!(links.len(), 8);
    }

    #[test]
    fn one_way_blocks_only_outgoing_links() {
        let mut rng = StdRng::seed_from_u64(4);
        let Action::Partition { links, targets, .. } = plan(NemesisKind::PartitionOneWay, &names(3), None, &mut rng)
        else {
            panic!()
        };
        let m = targets[0];
        assert_eq!(links.len(), 2);
        assert!(links.iter().all(|(x, _)| *x == m));
    }

    #[test]
    fn majority_partition_leaves_a_majority() {
        let mut rng = StdRng::seed_from_u64(5);
        let Action::Partition { targets, links, .. } = plan(NemesisKind::PartitionMajority, &names(5), None, &mut rng)
        else {
            panic!()
        };
        assert_eq!(targets.len(), 2);
        assert_eq!(links.len(), 2 * 2 * 3);
    }

    #[test]
    fn same_seed_same_plan() {
        let a = plan(NemesisKind::Partition, &names(5), Some(0), &mut StdRng::seed_from_u64(42));
        let b = plan(NemesisKind::Partition, &names(5), Some(0), &mut StdRng::seed_from_u64(42));
        assert_eq!(a, b);
    }
}
