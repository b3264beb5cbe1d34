//! Which partitions Docker mode can produce: cutting a set `S` of replicas
//! off the network.
//!
//! Guarantees: [`isolated_set`] accepts exactly the link sets in which every
//! link between a member of `S` and a non-member is blocked in both
//! directions, any links inside `S` may be blocked, and nothing else is; it
//! is pure and deterministic. When several `S` fit, it picks the one whose
//! disconnection cuts the fewest links that were not asked for (links inside
//! `S` that the set leaves open), then the smaller `S`, then the
//! lexicographically smaller `S`.

use std::collections::BTreeSet;

/// The set `S` of replicas to disconnect so that the blocked links are
/// `links`, or a description of the shape that cannot be produced.
/// `Ok(empty)` for an empty `links` (heal).
pub fn isolated_set(n: usize, links: &BTreeSet<(usize, usize)>) -> Result<BTreeSet<usize>, String> {
    if links.is_empty() {
        return Ok(BTreeSet::new());
    }
    if let Some(&(a, b)) = links.iter().find(|&&(a, b)| a >= n || b >= n || a == b) {
        return Err(format!("link ({a}, {b}) is not between two of the {n} replicas"));
    }
    let mut best: Option<(usize, usize, BTreeSet<usize>)> = None;
    for v in 0..n {
        // If v stays connected, S must be exactly v's blocked neighbours.
        let s: BTreeSet<usize> = links
            .iter()
            .filter_map(|&(a, b)| {
                if a == v {
                    Some(b)
                } else if b == v {
                    Some(a)
                } else {
                    None
                }
            })
            .collect();
        if s.is_empty() || s.len() == n || !fits(n, &s, links) {
            continue;
        }
        let unrequested = s.iter().flat_map(|&a| s.iter().map(move |&b| (a, b))).filter(|&(a, b)| a != b).count()
            - links.iter().filter(|(a, b)| s.contains(a) && s.contains(b)).count();
        let key = (unrequested, s.len(), s);
        if best.as_ref().is_none_or(|b| key < *b) {
            best = Some(key);
        }
    }
    best.map(|(_, _, s)| s).ok_or_else(|| describe(links))
}

/// Whether `links` = every cross link of `s` in both directions plus some
/// links inside `s`.
fn fits(n: usize, s: &BTreeSet<usize>, links: &BTreeSet<(usize, usize)>) -> bool {
    let inside = |x: usize| s.contains(&x);
    let only_allowed = links.iter().all(|&(a, b)| inside(a) || inside(b));
    let all_cross = (0..n)
        .filter(|&x| inside(x))
        .all(|a| (0..n).filter(|&y| !inside(y)).all(|b| links.contains(&(a, b)) && links.contains(&(b, a))));
    only_allowed && all_cross
}

/// `"blocked links (0→1), (2→0)"`, at most 8 links shown.
fn describe(links: &BTreeSet<(usize, usize)>) -> String {
    let shown: Vec<String> = links.iter().take(8).map(|(a, b)| format!("{a}→{b}")).collect();
    let more = if links.len() > 8 { format!(" and {} more", links.len() - 8) } else { String::new() };
    format!("blocked links {}{more}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(links: &[(usize, usize)]) -> BTreeSet<(usize, usize)> {
        links.iter().copied().collect()
    }

    fn isolate(n: usize, s: &[usize], inside: bool) -> BTreeSet<(usize, usize)> {
        let mut out = BTreeSet::new();
        for a in 0..n {
            for b in 0..n {
                if a == b {
                    continue;
                }
                let (ia, ib) = (s.contains(&a), s.contains(&b));
                if ia != ib || (inside && ia && ib) {
                    out.insert((a, b));
                }
            }
        }
        out
    }

    #[test]
    fn empty_is_heal() {
        assert_eq!(isolated_set(3, &BTreeSet::new()).unwrap(), BTreeSet::new());
    }

    #[test]
    fn single_node_isolation() {
        let got = isolated_set(3, &set(&[(0, 2), (2, 0), (1, 2), (2, 1)])).unwrap();
        assert_eq!(got, BTreeSet::from([2]));
    }

    #[test]
    fn minority_with_inside_links_cut() {
        let got = isolated_set(5, &isolate(5, &[0, 1], true)).unwrap();
        assert_eq!(got, BTreeSet::from([0, 1]));
        let got = isolated_set(5, &isolate(5, &[2, 3, 4], true)).unwrap();
        assert_eq!(got, BTreeSet::from([2, 3, 4]));
    }

    #[test]
    fn clean_split_picks_smaller_side() {
        // {0,1} | {2,3,4} with no inside links: disconnect the minority.
        let got = isolated_set(5, &isolate(5, &[2, 3, 4], false)).unwrap();
        assert_eq!(got, BTreeSet::from([0, 1]));
    }

    #[test]
    fn partial_inside_links_accepted() {
        let mut links = isolate(5, &[0, 1, 2], false);
        links.insert((0, 1));
        assert_eq!(isolated_set(5, &links).unwrap(), BTreeSet::from([0, 1, 2]));
    }

    #[test]
    fn rejects_single_link_and_one_way_cut() {
        let err = isolated_set(3, &set(&[(0, 1)])).unwrap_err();
        assert!(err.contains("0→1"), "{err}");
        assert!(isolated_set(3, &set(&[(0, 2), (1, 2)])).is_err());
        // Bridge shape: 0 and 2 cannot talk, 1 talks to both.
        assert!(isolated_set(3, &set(&[(0, 2), (2, 0)])).is_err());
    }

    #[test]
    fn extra_link_outside_the_small_side_means_the_other_side() {
        // "Isolate 2 and cut 0→1" is only expressible as cutting off {0,1,3}
        // (with 0→1 inside it): no S = {2} because 0→1 lies outside it.
        let mut links = isolate(4, &[2], false);
        links.insert((0, 1));
        assert_eq!(isolated_set(4, &links).unwrap(), BTreeSet::from([0, 1, 3]));
        // With a link 3→2 missing nothing fits.
        links.remove(&(3, 2));
        assert!(isolated_set(4, &links).is_err());
    }

    #[test]
    fn rejects_out_of_range() {
        assert!(isolated_set(3, &set(&[(0, 3), (3, 0)])).is_err());
        assert!(isolated_set(3, &set(&[(1, 1)])).is_err());
    }

    #[test]
    fn every_node_blocked_everywhere_is_accepted_as_n_minus_1() {
        // All links blocked: isolating any n-1 nodes (with inside links) does it.
        let all = isolate(3, &[0, 1, 2], true);
        let got = isolated_set(3, &all).unwrap();
        assert_eq!(got.len(), 2);
    }
}
