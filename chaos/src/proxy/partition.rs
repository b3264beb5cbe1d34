//! Pure functions computing the directed links to block for classic partition shapes.
//!
//! Members are indices `0..n` where `n = names.len()`; `names` is only used to build the
//! human-readable description (an index without a name is shown as `#i`). A link `(a, b)`
//! means "connections dialed by `a` to `b`" (the proxy `a -> b` of a
//! [`ProxyMesh`](super::ProxyMesh)); blocking it stops traffic both ways on those
//! connections, so a two-way cut blocks `(a, b)` and `(b, a)`.
//!
//! Guarantees: every function is deterministic given its inputs (randomness comes only
//! from the caller's `pick` function), never panics, and never emits a self link `(a, a)`.
//! Description format: members joined by `,`, sides separated by ` | `, e.g. `r0,r1 | r2`.

use std::collections::BTreeSet;

/// A computed partition: the directed links to block, the sides, and a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Directed links `(from, to)` to block; all others are meant to be open.
    pub links: BTreeSet<(usize, usize)>,
    /// The sides of the partition, each sorted; meaning documented per constructor.
    pub groups: Vec<Vec<usize>>,
    /// Human-readable description, e.g. `r0,r1 | r2`.
    pub description: String,
}

/// Blocks both directions between any two members that are in different `groups`.
///
/// Groups should be disjoint; members in no group keep every link open. `groups` of the
/// result is the input with each group sorted.
pub fn split(names: &[String], groups: &[Vec<usize>]) -> Partition {
    let groups: Vec<Vec<usize>> = groups.iter().map(|g| sorted(g.clone())).collect();
    Partition { links: split_links(&groups), description: describe_groups(names, &groups, " | "), groups }
}

/// Cuts member `m` off from every other member (both directions).
///
/// `groups` is `[[m], others]`.
pub fn isolate(names: &[String], m: usize) -> Partition {
    let others: Vec<usize> = (0..names.len()).filter(|&i| i != m).collect();
    split(names, &[vec![m], others])
}

/// Jepsen's bridge: the members other than `bridge` are shuffled (with `pick`) into two
/// halves that cannot reach each other, while `bridge` stays connected to everyone.
///
/// With n = 3 this gives `{a} | {b}` bridged by `c`; with n = 5, `{a,b} | {d,e}` bridged by `c`.
/// When n - 1 is odd the second half gets the extra member. `groups` is
/// `[half_a, half_b, [bridge]]`.
///
/// `pick(bound)` must return an index in `0..bound` (e.g. `|b| rng.gen_range(0..b)`);
/// out-of-range answers are clamped. `|b| b - 1` gives the identity order.
pub fn bridge(names: &[String], bridge: usize, pick: &mut impl FnMut(usize) -> usize) -> Partition {
    let mut others: Vec<usize> = (0..names.len()).filter(|&i| i != bridge).collect();
    shuffle(&mut others, pick);
    let half = others.len() / 2;
    let a = sorted(others[..half].to_vec());
    let b = sorted(others[half..].to_vec());
    let links = split_links(&[a.clone(), b.clone()]);
    let description = format!("{} | {} (bridge {})", join(names, &a), join(names, &b), name(names, bridge));
    Partition { links, groups: vec![a, b, vec![bridge]], description }
}

/// Blocks only the links dialed from a member of `from_set` to a member of `to_set`;
/// the reverse direction stays open.
///
/// `groups` is `[from_set, to_set]` (sorted). Description: `r0,r1 -/-> r2`.
pub fn one_way(names: &[String], from_set: &[usize], to_set: &[usize]) -> Partition {
    let from = sorted(from_set.to_vec());
    let to = sorted(to_set.to_vec());
    let links =
        from.iter().flat_map(|&a| to.iter().map(move |&b| (a, b))).filter(|(a, b)| a != b).collect::<BTreeSet<_>>();
    let description = format!("{} -/-> {}", join(names, &from), join(names, &to));
    Partition { links, groups: vec![from, to], description }
}

/// Splits the members into a random majority and a random minority of
/// `floor((n - 1) / 2)` members (the largest minority), cut off from each other both ways.
///
/// `groups` is `[majority, minority]`; with n <= 2 the minority is empty and no link is
/// blocked. `pick` as for [`bridge`].
pub fn majority_minority(names: &[String], pick: &mut impl FnMut(usize) -> usize) -> Partition {
    let n = names.len();
    let mut all: Vec<usize> = (0..n).collect();
    shuffle(&mut all, pick);
    let minority_len = n.saturating_sub(1) / 2;
    let minority = sorted(all[..minority_len].to_vec());
    let majority = sorted(all[minority_len..].to_vec());
    split(names, &[majority, minority])
}

fn split_links(groups: &[Vec<usize>]) -> BTreeSet<(usize, usize)> {
    let mut links = BTreeSet::new();
    for (gi, g) in groups.iter().enumerate() {
        for (hi, h) in groups.iter().enumerate() {
            if gi == hi {
                continue;
            }
            for &a in g {
                for &b in h {
                    if a != b {
                        links.insert((a, b));
                    }
                }
            }
        }
    }
    links
}

/// Fisher-Yates shuffle driven by the caller's `pick`.
fn shuffle(v: &mut [usize], pick: &mut impl FnMut(usize) -> usize) {
    for i in (1..v.len()).rev() {
        let j = pick(i + 1).min(i);
        v.swap(i, j);
    }
}

fn sorted(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v.dedup();
    v
}

fn name(names: &[String], i: usize) -> String {
    names.get(i).cloned().unwrap_or_else(|| format!("#{i}"))
}

fn join(names: &[String], members: &[usize]) -> String {
    members.iter().map(|&i| name(names, i)).collect::<Vec<_>>().join(",")
}

fn describe_groups(names: &[String], groups: &[Vec<usize>], sep: &str) -> String {
    groups.iter().map(|g| join(names, g)).collect::<Vec<_>>().join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("r{i}")).collect()
    }

    fn both(pairs: &[(usize, usize)]) -> BTreeSet<(usize, usize)> {
        pairs.iter().flat_map(|&(a, b)| [(a, b), (b, a)]).collect()
    }

    fn identity(bound: usize) -> usize {
        bound - 1
    }

    /// Members reachable from `a` in both directions (a link is usable only if unblocked).
    fn connected(links: &BTreeSet<(usize, usize)>, a: usize, b: usize) -> bool {
        !links.contains(&(a, b)) && !links.contains(&(b, a))
    }

    #[test]
    fn split_n3_and_n5() {
        let p = split(&names(3), &[vec![1, 0], vec![2]]);
        assert_eq!(p.links, both(&[(0, 2), (1, 2)]));
        assert_eq!(p.description, "r0,r1 | r2");
        assert_eq!(p.groups, vec![vec![0, 1], vec![2]]);

        let p = split(&names(5), &[vec![0, 1], vec![2, 3, 4]]);
        assert_eq!(p.links, both(&[(0, 2), (0, 3), (0, 4), (1, 2), (1, 3), (1, 4)]));
        assert_eq!(p.links.len(), 12);
        assert_eq!(p.description, "r0,r1 | r2,r3,r4");

        let p = split(&names(5), &[vec![0], vec![1, 2], vec![3]]);
        assert_eq!(p.links, both(&[(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)]));
        assert!(!p.links.contains(&(1, 2)) && !p.links.contains(&(0, 4)));
        assert_eq!(p.description, "r0 | r1,r2 | r3");
    }

    #[test]
    fn isolate_n3_and_n5() {
        let p = isolate(&names(3), 1);
        assert_eq!(p.links, both(&[(1, 0), (1, 2)]));
        assert_eq!(p.description, "r1 | r0,r2");

        let p = isolate(&names(5), 4);
        assert_eq!(p.links, both(&[(4, 0), (4, 1), (4, 2), (4, 3)]));
        assert_eq!(p.groups, vec![vec![4], vec![0, 1, 2, 3]]);
    }

    #[test]
    fn bridge_n3_and_n5_identity_order() {
        let p = bridge(&names(3), 2, &mut identity);
        assert_eq!(p.links, both(&[(0, 1)]));
        assert_eq!(p.description, "r0 | r1 (bridge r2)");

        let p = bridge(&names(5), 2, &mut identity);
        assert_eq!(p.links, both(&[(0, 3), (0, 4), (1, 3), (1, 4)]));
        assert_eq!(p.groups, vec![vec![0, 1], vec![3, 4], vec![2]]);
        assert_eq!(p.description, "r0,r1 | r3,r4 (bridge r2)");
    }

    #[test]
    fn bridge_random_invariants() {
        let mut rng = StdRng::seed_from_u64(7);
        for n in [3usize, 4, 5, 7] {
            for _ in 0..50 {
                let c = rng.gen_range(0..n);
                let p = bridge(&names(n), c, &mut |b| rng.gen_range(0..b));
                // The bridge reaches everyone.
                assert!((0..n).filter(|&i| i != c).all(|i| connected(&p.links, c, i)), "{p:?}");
                // The halves are disjoint, cover everyone but the bridge, and are fully cut.
                let (a, b) = (&p.groups[0], &p.groups[1]);
                assert_eq!(a.len(), (n - 1) / 2);
                assert_eq!(a.len() + b.len(), n - 1);
                assert!(a.iter().all(|x| !b.contains(x) && *x != c));
                assert_eq!(p.links.len(), 2 * a.len() * b.len());
                assert!(a.iter().all(|&x| b.iter().all(|&y| !connected(&p.links, x, y))));
            }
        }
    }

    #[test]
    fn one_way_blocks_only_one_direction() {
        let p = one_way(&names(3), &[0], &[1, 2]);
        assert_eq!(p.links, BTreeSet::from([(0, 1), (0, 2)]));
        assert_eq!(p.description, "r0 -/-> r1,r2");

        let p = one_way(&names(5), &[3, 4], &[0, 1, 2]);
        assert_eq!(p.links.len(), 6);
        assert!(p.links.iter().all(|&(a, b)| a >= 3 && b < 3));
        assert!(!p.links.contains(&(0, 3)));
        // Overlapping sets never produce a self link.
        let p = one_way(&names(3), &[0, 1], &[1]);
        assert_eq!(p.links, BTreeSet::from([(0, 1)]));
    }

    #[test]
    fn majority_minority_sizes_and_cut() {
        let mut rng = StdRng::seed_from_u64(11);
        for n in 1usize..=7 {
            for _ in 0..30 {
                let p = majority_minority(&names(n), &mut |b| rng.gen_range(0..b));
                let (maj, min) = (&p.groups[0], &p.groups[1]);
                assert_eq!(min.len(), (n - 1) / 2);
                assert_eq!(maj.len() + min.len(), n);
                assert!(maj.len() > n / 2, "majority must be a strict majority");
                assert_eq!(p.links.len(), 2 * maj.len() * min.len());
                assert!(maj.iter().all(|&x| min.iter().all(|&y| !connected(&p.links, x, y))));
            }
        }
        let p = majority_minority(&names(5), &mut identity);
        assert_eq!(p.groups, vec![vec![2, 3, 4], vec![0, 1]]);
        assert_eq!(p.description, "r2,r3,r4 | r0,r1");
    }

    #[test]
    fn shuffle_clamps_bad_picks_and_is_a_permutation() {
        let mut v: Vec<usize> = (0..6).collect();
        shuffle(&mut v, &mut |_| usize::MAX);
        assert_eq!(sorted(v.clone()), (0..6).collect::<Vec<_>>());
        assert_eq!(v, (0..6).collect::<Vec<_>>());
    }

    #[test]
    fn unnamed_members_fall_back_to_indices() {
        let p = isolate(&names(2), 3);
        assert_eq!(p.description, "#3 | r0,r1");
    }
}
