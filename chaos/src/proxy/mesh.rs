//! A full mesh of directed link proxies between the members of a cluster.
//!
//! For n members the mesh owns one [`LinkProxy`] per ordered pair `(from, to)`, `from != to`,
//! each listening on its own ephemeral port and forwarding to member `to`'s real peer
//! address. Member `from` must be configured to reach peer `to` at
//! [`ProxyMesh::dial_addr`]`(from, to)` (see [`ProxyMesh::peer_addrs`]).
//!
//! Guarantees: operations naming an unknown link or member fail with an error and change
//! nothing (in particular [`ProxyMesh::set_blocked_links`] validates the whole set before
//! applying it); state changes take effect immediately on all current and future
//! connections of the affected links; [`ProxyMesh::shutdown`] returns once every listener
//! is closed and every connection task has ended.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use super::{LinkProxy, LinkStats, ProxyError};

/// One [`LinkProxy`] per ordered pair of distinct members.
#[derive(Debug)]
pub struct ProxyMesh {
    targets: Vec<SocketAddr>,
    links: BTreeMap<(usize, usize), LinkProxy>,
}

impl ProxyMesh {
    /// Starts a proxy for every ordered pair `(i, j)`, `i != j`, listening on `bind_ip:0` and
    /// forwarding to `targets[j]` (member `j`'s real peer listen address). All links start open.
    ///
    /// On error, every proxy already started is shut down before returning.
    pub async fn start(targets: Vec<SocketAddr>, bind_ip: IpAddr) -> Result<ProxyMesh, ProxyError> {
        let n = targets.len();
        let mut links = BTreeMap::new();
        for from in 0..n {
            for (to, &target) in targets.iter().enumerate() {
                if from == to {
                    continue;
                }
                match LinkProxy::start(SocketAddr::new(bind_ip, 0), target).await {
                    Ok(p) => {
                        links.insert((from, to), p);
                    }
                    Err(e) => {
                        ProxyMesh { targets, links }.shutdown().await;
                        return Err(e);
                    }
                }
            }
        }
        tracing::debug!(members = n, links = links.len(), "proxy mesh started");
        Ok(ProxyMesh { targets, links })
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether the mesh has no member.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The real (unproxied) peer address of each member, as given to [`ProxyMesh::start`].
    pub fn targets(&self) -> &[SocketAddr] {
        &self.targets
    }

    /// The proxy of the directed link `from -> to`, if it exists.
    pub fn link(&self, from: usize, to: usize) -> Option<&LinkProxy> {
        self.links.get(&(from, to))
    }

    /// The address member `from` must dial to reach member `to`.
    ///
    /// # Panics
    /// If `from == to` or either is not a member (a programming error, like slice indexing).
    pub fn dial_addr(&self, from: usize, to: usize) -> SocketAddr {
        match self.links.get(&(from, to)) {
            Some(p) => p.local_addr(),
            None => panic!("no proxied link {from} -> {to} in a mesh of {} members", self.len()),
        }
    }

    /// The peer table for member `from`: entry `j` is [`Self::dial_addr`]`(from, j)` for
    /// `j != from`, and `from`'s own real address at index `from`.
    pub fn peer_addrs(&self, from: usize) -> Result<Vec<SocketAddr>, ProxyError> {
        self.check_member(from)?;
        Ok((0..self.len()).map(|j| self.link(from, j).map_or(self.targets[j], LinkProxy::local_addr)).collect())
    }

    /// Blocks the directed link `from -> to`.
    pub fn block(&self, from: usize, to: usize) -> Result<(), ProxyError> {
        self.get(from, to)?.set_blocked(true);
        Ok(())
    }

    /// Opens the directed link `from -> to`.
    pub fn unblock(&self, from: usize, to: usize) -> Result<(), ProxyError> {
        self.get(from, to)?.set_blocked(false);
        Ok(())
    }

    /// Makes exactly `links` blocked and every other link open. If any entry is not a link
    /// of this mesh, returns an error and changes nothing.
    pub fn set_blocked_links(&self, links: &BTreeSet<(usize, usize)>) -> Result<(), ProxyError> {
        for &(from, to) in links {
            self.get(from, to)?;
        }
        for (key, proxy) in &self.links {
            proxy.set_blocked(links.contains(key));
        }
        Ok(())
    }

    /// Opens every link.
    pub fn heal(&self) {
        for proxy in self.links.values() {
            proxy.set_blocked(false);
        }
    }

    /// The set of currently blocked links.
    pub fn blocked(&self) -> BTreeSet<(usize, usize)> {
        self.links.iter().filter(|(_, p)| p.is_blocked()).map(|(&k, _)| k).collect()
    }

    /// Closes every current connection on every link into and out of member `m` (e.g. when
    /// `m` is killed or restarted). Link states are unchanged.
    pub fn sever_member(&self, m: usize) -> Result<(), ProxyError> {
        self.check_member(m)?;
        for (&(from, to), proxy) in &self.links {
            if from == m || to == m {
                proxy.sever();
            }
        }
        Ok(())
    }

    /// Counters of every link.
    pub fn stats(&self) -> BTreeMap<(usize, usize), LinkStats> {
        self.links.iter().map(|(&k, p)| (k, p.stats())).collect()
    }

    /// Stops every proxy and waits until all listeners are closed and all connections ended.
    pub async fn shutdown(self) {
        futures::future::join_all(self.links.values().map(LinkProxy::shutdown)).await;
        tracing::debug!(members = self.len(), "proxy mesh shut down");
    }

    fn get(&self, from: usize, to: usize) -> Result<&LinkProxy, ProxyError> {
        self.links.get(&(from, to)).ok_or(ProxyError::NoSuchLink { from, to, members: self.len() })
    }

    fn check_member(&self, m: usize) -> Result<(), ProxyError> {
        if m < self.len() {
            Ok(())
        } else {
            Err(ProxyError::NoSuchMember { member: m, members: self.len() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::partition;
    use crate::proxy::test_support::{assert_closed, assert_silent, id_server, read_exact_within, Echo};
    use std::net::Ipv4Addr;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpStream;

    const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    async fn mesh(n: u8) -> (ProxyMesh, Vec<Echo>) {
        let mut servers = Vec::new();
        for id in 0..n {
            servers.push(id_server(id).await);
        }
        let m = ProxyMesh::start(servers.iter().map(|s| s.addr).collect(), LOCALHOST).await.expect("start mesh");
        (m, servers)
    }

    /// Connects over link `from -> to` and checks the far end is member `to`.
    async fn dial(m: &ProxyMesh, from: usize, to: usize) -> TcpStream {
        let mut s = TcpStream::connect(m.dial_addr(from, to)).await.expect("connect");
        assert_eq!(read_exact_within(&mut s, 1).await, [to as u8], "link {from}->{to} reached the wrong member");
        s
    }

    async fn echoes(s: &mut TcpStream, msg: &[u8]) {
        s.write_all(msg).await.unwrap();
        assert_eq!(read_exact_within(s, msg.len()).await, msg);
    }

    #[tokio::test]
    async fn dial_addrs_are_distinct_and_reach_the_right_member() {
        let (m, servers) = mesh(3).await;
        assert_eq!(m.len(), 3);
        let mut seen = BTreeSet::new();
        for from in 0..3 {
            for to in 0..3 {
                if from != to {
                    let a = m.dial_addr(from, to);
                    assert!(a.ip().is_loopback());
                    assert!(seen.insert(a), "dial_addr reused for {from}->{to}");
                    assert!(servers.iter().all(|s| s.addr != a));
                    let mut s = dial(&m, from, to).await;
                    echoes(&mut s, b"ok").await;
                }
            }
        }
        assert_eq!(seen.len(), 6);
        let table = m.peer_addrs(1).unwrap();
        assert_eq!(table, vec![m.dial_addr(1, 0), servers[1].addr, m.dial_addr(1, 2)]);
        assert!(m.peer_addrs(3).is_err());
        m.shutdown().await;
    }

    #[tokio::test]
    async fn blocking_one_direction_leaves_the_other_open() {
        let (m, _servers) = mesh(3).await;
        let mut a = dial(&m, 0, 1).await;
        let mut b = dial(&m, 1, 0).await;
        m.block(0, 1).unwrap();
        assert_eq!(m.blocked(), BTreeSet::from([(0, 1)]));
        a.write_all(b"ping").await.unwrap();
        assert_silent(&mut a).await;
        echoes(&mut b, b"pong").await;
        m.unblock(0, 1).unwrap();
        assert!(m.blocked().is_empty());
        assert_eq!(read_exact_within(&mut a, 4).await, b"ping");
        m.shutdown().await;
    }

    #[tokio::test]
    async fn set_blocked_links_is_exact_and_validated() {
        let (m, _servers) = mesh(3).await;
        let names: Vec<String> = (0..3).map(|i| format!("r{i}")).collect();
        m.block(1, 2).unwrap();
        let iso = partition::isolate(&names, 0);
        m.set_blocked_links(&iso.links).unwrap();
        assert_eq!(m.blocked(), iso.links);

        for bad in [(0, 0), (0, 3), (5, 1)] {
            let err = m.set_blocked_links(&BTreeSet::from([(1, 0), bad])).unwrap_err();
            assert!(matches!(err, ProxyError::NoSuchLink { .. }), "{err}");
            assert!(m.block(bad.0, bad.1).is_err());
        }
        assert_eq!(m.blocked(), iso.links, "failed call must change nothing");

        m.heal();
        assert!(m.blocked().is_empty());
        m.shutdown().await;
    }

    #[tokio::test]
    async fn sever_member_closes_only_its_links() {
        let (m, _servers) = mesh(3).await;
        let mut touching = Vec::new();
        for (from, to) in [(0, 1), (1, 0), (1, 2), (2, 1)] {
            touching.push(dial(&m, from, to).await);
        }
        let mut other = dial(&m, 0, 2).await;
        m.sever_member(1).unwrap();
        for s in &mut touching {
            assert_closed(s).await;
        }
        echoes(&mut other, b"still here").await;
        assert!(matches!(m.sever_member(3), Err(ProxyError::NoSuchMember { member: 3, members: 3 })));
        // Severed links keep serving new connections.
        let mut again = dial(&m, 1, 0).await;
        echoes(&mut again, b"back").await;
        m.shutdown().await;
    }

    #[tokio::test]
    async fn shutdown_releases_every_port() {
        let (m, _servers) = mesh(3).await;
        let mut live = dial(&m, 2, 0).await;
        let addrs: Vec<SocketAddr> = m.links.values().map(LinkProxy::local_addr).collect();
        assert_eq!(addrs.len(), 6);
        m.shutdown().await;
        assert_closed(&mut live).await;
        for a in addrs {
            let err = TcpStream::connect(a).await.expect_err("proxy port still listening");
            assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        }
    }

    #[tokio::test]
    async fn five_member_mesh_applies_a_bridge() {
        let (m, _servers) = mesh(5).await;
        let names: Vec<String> = (0..5).map(|i| format!("r{i}")).collect();
        let p = partition::bridge(&names, 2, &mut |b| b - 1);
        let mut cut = dial(&m, 0, 3).await;
        m.set_blocked_links(&p.links).unwrap();
        assert_eq!(m.blocked(), p.links);
        cut.write_all(b"x").await.unwrap();
        assert_silent(&mut cut).await;
        let mut via_bridge = dial(&m, 0, 2).await;
        echoes(&mut via_bridge, b"y").await;
        let mut from_bridge = dial(&m, 2, 4).await;
        echoes(&mut from_bridge, b"z").await;
        m.heal();
        assert_eq!(read_exact_within(&mut cut, 1).await, b"x");
        m.shutdown().await;
    }
}
