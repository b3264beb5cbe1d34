//! Asks every member who leads, in which term, ten times a second, and
//! records each change of a member's answer. The latest answers also tell
//! the nemesis who the leader is right now.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use proto::etcdserverpb::StatusRequest;
use tokio_util::sync::CancellationToken;

use crate::cluster::Member;
use crate::etcd::EtcdClient;
use crate::history::{LeaderObs, Record};
use crate::recorder::Recorder;

/// The latest answer of each member.
#[derive(Debug, Default, Clone)]
struct Answers {
    /// Member index -> (term, leader index) from its last successful answer.
    last: HashMap<usize, (u64, Option<usize>)>,
    /// Member index -> when it last answered (recorder clock).
    seen: HashMap<usize, u64>,
}

/// Shared view of leadership, updated by [`run`].
#[derive(Clone, Default)]
pub struct LeaderView {
    inner: Arc<Mutex<Answers>>,
}

impl LeaderView {
    /// The leader named by the answer with the highest term among members
    /// that answered in the last `fresh_ns`.
    pub fn leader(&self, now: u64, fresh_ns: u64) -> Option<(u64, usize)> {
        let g = self.inner.lock();
        g.last
            .iter()
            .filter(|(m, _)| g.seen.get(m).is_some_and(|&t| now.saturating_sub(t) <= fresh_ns))
            .filter_map(|(_, (term, l))| l.map(|l| (*term, l)))
            .max()
    }

    /// Members that answered in the last `fresh_ns`.
    pub fn answering(&self, now: u64, fresh_ns: u64) -> Vec<usize> {
        let g = self.inner.lock();
        let mut v: Vec<usize> =
            g.seen.iter().filter(|(_, &t)| now.saturating_sub(t) <= fresh_ns).map(|(m, _)| *m).collect();
        v.sort_unstable();
        v
    }
}

/// Member id -> index, from the membership (matched by peer URL) and from
/// each member's own answers. Without it, a leader id seen before its
/// owner answered would look like a second leader.
async fn learn_ids(members: &[Member], clients: &[Option<EtcdClient>]) -> HashMap<u64, usize> {
    let mut ids = HashMap::new();
    for _ in 0..50 {
        for (i, c) in clients.iter().enumerate() {
            let Some(c) = c else { continue };
            let mut c = c.clone();
            if let Ok(Ok(r)) =
                tokio::time::timeout(Duration::from_millis(500), c.maintenance.status(StatusRequest {})).await
            {
                if let Some(h) = &r.get_ref().header {
                    ids.insert(h.member_id, i);
                }
            }
            let mut cl = proto::etcdserverpb::cluster_client::ClusterClient::new(c.channel.clone());
            let req = proto::etcdserverpb::MemberListRequest { linearizable: false };
            if let Ok(Ok(r)) = tokio::time::timeout(Duration::from_millis(500), cl.member_list(req)).await {
                for m in &r.get_ref().members {
                    if let Some(j) =
                        members.iter().position(|x| !x.peer_url.is_empty() && m.peer_ur_ls.contains(&x.peer_url))
                    {
                        ids.insert(m.id, j);
                    }
                }
            }
        }
        if ids.len() >= members.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ids
}

/// Polls every member until `stop`.
pub async fn run(members: Vec<Member>, rec: Recorder, view: LeaderView, stop: CancellationToken) {
    let clients: Vec<Option<EtcdClient>> = members.iter().map(|m| EtcdClient::new(&m.client_url).ok()).collect();
    let ids: Arc<Mutex<HashMap<u64, usize>>> = Arc::new(Mutex::new(learn_ids(&members, &clients).await));
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut previous: HashMap<usize, (u64, Option<String>)> = HashMap::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let asks =
            clients.iter().enumerate().filter_map(|(i, c)| c.clone().map(|c| (i, c))).map(|(i, mut c)| async move {
                let r = tokio::time::timeout(Duration::from_millis(300), c.maintenance.status(StatusRequest {})).await;
                (i, r.ok().and_then(|r| r.ok()).map(|r| r.into_inner()))
            });
        let answers = futures::future::join_all(asks).await;
        let now = rec.now();
        for (i, a) in answers {
            let Some(a) = a else { continue };
            if let Some(h) = &a.header {
                ids.lock().insert(h.member_id, i);
            }
            let leader_idx = if a.leader == 0 { None } else { ids.lock().get(&a.leader).copied() };
            let leader_name = match (a.leader, leader_idx) {
                (0, _) => None,
                (_, Some(l)) => Some(members[l].name.clone()),
                (id, None) => Some(format!("id:{id:x}")),
            };
            {
                let mut g = view.inner.lock();
                g.last.insert(i, (a.raft_term, leader_idx));
                g.seen.insert(i, now);
            }
            let cur = (a.raft_term, leader_name.clone());
            if previous.get(&i) != Some(&cur) {
                previous.insert(i, cur);
                rec.push(Record::Leader(LeaderObs {
                    at: now,
                    observer: members[i].name.clone(),
                    term: a.raft_term,
                    leader: leader_name,
                }));
            }
        }
    }
}
