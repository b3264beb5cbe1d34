//! A shared, indexed cache of one kind's objects (the informer's store),
//! filled by a [`super::reflector`] from this replica's own watch hub.
//!
//! Guarantees: objects are kept in (namespace, name) order, so a namespace
//! is one range scan, and indexed by their controller owner's uid (and the
//! ownerless ones by namespace), so a controller reads its own objects
//! without scanning a namespace; change handlers run in the order the changes were
//! applied, after the cache holds the change; [`Cache::revision`] is the
//! store revision of the newest change seen, and [`Cache::wait_for`] lets a
//! controller read its own writes (wait until the cache has seen them).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use parking_lot::RwLock;
use tokio::sync::watch;

/// Where an object lives: namespace ("" for cluster-scoped kinds) and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjKey {
    /// Namespace, "" for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjKey {
    /// The key of `meta`.
    pub fn of(meta: &ObjectMeta) -> ObjKey {
        ObjKey { namespace: meta.namespace.clone().unwrap_or_default(), name: meta.name.clone().unwrap_or_default() }
    }

    /// A key from parts.
    pub fn new(namespace: &str, name: &str) -> ObjKey {
        ObjKey { namespace: namespace.to_string(), name: name.to_string() }
    }

    /// The namespace, `None` when cluster-scoped.
    pub fn ns(&self) -> Option<&str> {
        (!self.namespace.is_empty()).then_some(self.namespace.as_str())
    }
}

impl std::fmt::Display for ObjKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}/{}", self.namespace, self.name)
        }
    }
}

/// One change to the cache.
#[derive(Debug)]
pub enum Delta<T> {
    /// Created (`old` is None) or changed.
    Upsert {
        /// The previous version, if any.
        old: Option<Arc<T>>,
        /// The new version.
        new: Arc<T>,
    },
    /// Removed; the last version.
    Delete(Arc<T>),
}

impl<T> Delta<T> {
    /// The newest version this delta names.
    pub fn object(&self) -> &Arc<T> {
        match self {
            Delta::Upsert { new, .. } => new,
            Delta::Delete(old) => old,
        }
    }
}

type Handler<T> = Box<dyn Fn(&Delta<T>) + Send + Sync>;

/// The objects and their indexes.
struct Store<T> {
    by_key: BTreeMap<ObjKey, Arc<T>>,
    /// Keys of the objects whose controller ownerReference names this uid.
    by_owner: HashMap<String, BTreeSet<ObjKey>>,
    /// Keys of the objects without a controller ownerReference.
    orphans: BTreeSet<ObjKey>,
}

impl<T> Default for Store<T> {
    fn default() -> Self {
        Store { by_key: BTreeMap::new(), by_owner: HashMap::new(), orphans: BTreeSet::new() }
    }
}

use crate::controllers::owner::controller_uid;

impl<T: k8s_openapi::Metadata<Ty = ObjectMeta>> Store<T> {
    fn unindex(&mut self, key: &ObjKey, obj: &T) {
        match controller_uid(obj.metadata()) {
            Some(uid) => {
                if let Some(set) = self.by_owner.get_mut(uid) {
                    set.remove(key);
                    if set.is_empty() {
                        self.by_owner.remove(uid);
                    }
                }
            }
            None => {
                self.orphans.remove(key);
            }
        }
    }

    fn index(&mut self, key: &ObjKey, obj: &T) {
        match controller_uid(obj.metadata()) {
            Some(uid) => {
                self.by_owner.entry(uid.to_string()).or_default().insert(key.clone());
            }
            None => {
                self.orphans.insert(key.clone());
            }
        }
    }

    fn insert(&mut self, key: ObjKey, obj: Arc<T>) -> Option<Arc<T>> {
        let old = self.by_key.insert(key.clone(), obj.clone());
        if let Some(o) = &old {
            self.unindex(&key, o);
        }
        self.index(&key, &obj);
        old
    }

    fn remove(&mut self, key: &ObjKey) -> Option<Arc<T>> {
        let old = self.by_key.remove(key)?;
        self.unindex(key, &old);
        Some(old)
    }
}

/// The cache of one kind.
pub struct Cache<T> {
    objects: RwLock<Store<T>>,
    handlers: RwLock<Vec<Handler<T>>>,
    revision: watch::Sender<i64>,
    synced: watch::Sender<bool>,
}

impl<T> Default for Cache<T> {
    fn default() -> Self {
        Cache {
            objects: RwLock::new(Store::default()),
            handlers: RwLock::new(Vec::new()),
            revision: watch::channel(0).0,
            synced: watch::channel(false).0,
        }
    }
}

impl<T: k8s_openapi::Metadata<Ty = ObjectMeta>> Cache<T> {
    /// Call `f` on every change from now on (register before the reflector
    /// starts to also see the initial list as creations).
    pub fn on_change(&self, f: impl Fn(&Delta<T>) + Send + Sync + 'static) {
        self.handlers.write().push(Box::new(f));
    }

    /// One object.
    pub fn get(&self, key: &ObjKey) -> Option<Arc<T>> {
        self.objects.read().by_key.get(key).cloned()
    }

    /// The objects whose controller ownerReference names `uid`.
    pub fn owned_by(&self, uid: &str) -> Vec<Arc<T>> {
        let store = self.objects.read();
        let Some(keys) = store.by_owner.get(uid) else { return Vec::new() };
        keys.iter().filter_map(|k| store.by_key.get(k).cloned()).collect()
    }

    /// The objects of a namespace without a controller ownerReference
    /// (candidates for adoption).
    pub fn orphans_in(&self, ns: &str) -> Vec<Arc<T>> {
        let store = self.objects.read();
        store
            .orphans
            .range(ObjKey::new(ns, "")..)
            .take_while(|k| k.namespace == ns)
            .filter_map(|k| store.by_key.get(k).cloned())
            .collect()
    }

    /// All objects of a namespace.
    pub fn in_namespace(&self, ns: &str) -> Vec<Arc<T>> {
        let lo = ObjKey::new(ns, "");
        self.objects.read().by_key.range(lo..).take_while(|(k, _)| k.namespace == ns).map(|(_, v)| v.clone()).collect()
    }

    /// Every object.
    pub fn all(&self) -> Vec<Arc<T>> {
        self.objects.read().by_key.values().cloned().collect()
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.objects.read().by_key.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.objects.read().by_key.is_empty()
    }

    /// The revision of the newest change seen.
    pub fn revision(&self) -> i64 {
        *self.revision.borrow()
    }

    /// Whether the first list has been loaded.
    pub fn synced(&self) -> bool {
        *self.synced.borrow()
    }

    /// Wait until the first list is loaded.
    pub async fn wait_synced(&self) {
        let mut rx = self.synced.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// Wait (at most `limit`) until the cache has seen revision `rev`.
    /// Returns whether it has.
    pub async fn wait_for(&self, rev: i64, limit: Duration) -> bool {
        let mut rx = self.revision.subscribe();
        let reached = tokio::time::timeout(limit, rx.wait_for(|r| *r >= rev)).await;
        reached.is_ok_and(|r| r.is_ok())
    }

    fn notify(&self, delta: Delta<T>) {
        for h in self.handlers.read().iter() {
            h(&delta);
        }
    }

    fn advance(&self, rev: i64) {
        self.revision.send_if_modified(|r| {
            let newer = rev > *r;
            if newer {
                *r = rev;
            }
            newer
        });
    }

    /// Apply an upsert seen at revision `rev`.
    pub fn upsert(&self, obj: T, rev: i64) {
        let key = ObjKey::of(obj.metadata());
        let new = Arc::new(obj);
        let old = self.objects.write().insert(key, new.clone());
        self.advance(rev);
        self.notify(Delta::Upsert { old, new });
    }

    /// Apply a removal seen at revision `rev`.
    pub fn remove(&self, key: &ObjKey, rev: i64) {
        let old = self.objects.write().remove(key);
        self.advance(rev);
        if let Some(old) = old {
            self.notify(Delta::Delete(old));
        }
    }

    /// Replace everything with a fresh list read at `rev`, reporting the
    /// differences as changes.
    pub fn replace(&self, items: Vec<T>, rev: i64) {
        let fresh: BTreeMap<ObjKey, Arc<T>> =
            items.into_iter().map(|o| (ObjKey::of(o.metadata()), Arc::new(o))).collect();
        let mut store = Store::default();
        for (k, o) in &fresh {
            store.insert(k.clone(), o.clone());
        }
        let old = std::mem::replace(&mut *self.objects.write(), store).by_key;
        self.advance(rev);
        for (k, o) in &old {
            if !fresh.contains_key(k) {
                self.notify(Delta::Delete(o.clone()));
            }
        }
        for (k, n) in fresh {
            let prev = old.get(&k).cloned();
            let same = prev.as_ref().is_some_and(|p| p.metadata().resource_version == n.metadata().resource_version);
            if !same {
                self.notify(Delta::Upsert { old: prev, new: n });
            }
        }
        self.synced.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn cm(ns: &str, name: &str, rv: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                namespace: Some(ns.into()),
                name: Some(name.into()),
                resource_version: Some(rv.into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn namespaces_are_ranges_and_replace_reports_differences() {
        let c: Cache<ConfigMap> = Cache::default();
        let (ups, dels) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (u, d) = (ups.clone(), dels.clone());
        c.on_change(move |delta| match delta {
            Delta::Upsert { .. } => {
                u.fetch_add(1, Ordering::SeqCst);
            }
            Delta::Delete(_) => {
                d.fetch_add(1, Ordering::SeqCst);
            }
        });
        c.replace(vec![cm("a", "x", "1"), cm("b", "y", "2"), cm("a", "z", "3"), cm("ab", "q", "3")], 3);
        assert_eq!(c.in_namespace("a").len(), 2);
        assert_eq!(c.in_namespace("ab").len(), 1);
        assert_eq!(ups.load(Ordering::SeqCst), 4);
        c.replace(vec![cm("a", "x", "1"), cm("b", "y", "5")], 5);
        assert_eq!(ups.load(Ordering::SeqCst), 5, "only the changed object is reported");
        assert_eq!(dels.load(Ordering::SeqCst), 2);
        assert!(c.wait_for(5, Duration::from_millis(10)).await);
        assert!(!c.wait_for(6, Duration::from_millis(10)).await);
        c.remove(&ObjKey::new("a", "x"), 6);
        assert!(c.wait_for(6, Duration::from_millis(10)).await);
        assert!(c.get(&ObjKey::new("a", "x")).is_none());
    }

    #[test]
    fn owner_index_follows_changes_of_the_controller_reference() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
        let owned = |name: &str, uid: &str, rv: &str| {
            let mut c = cm("a", name, rv);
            c.metadata.owner_references =
                Some(vec![OwnerReference { uid: uid.into(), controller: Some(true), ..Default::default() }]);
            c
        };
        let c: Cache<ConfigMap> = Cache::default();
        c.replace(vec![owned("x", "u1", "1"), owned("y", "u1", "1"), cm("a", "z", "1"), cm("b", "w", "1")], 1);
        assert_eq!(c.owned_by("u1").len(), 2);
        assert_eq!(c.orphans_in("a").len(), 1);
        // released: x becomes an orphan; y moves to another owner
        c.upsert(cm("a", "x", "2"), 2);
        c.upsert(owned("y", "u2", "3"), 3);
        assert!(c.owned_by("u1").is_empty());
        assert_eq!(c.owned_by("u2").len(), 1);
        assert_eq!(c.orphans_in("a").len(), 2);
        c.remove(&ObjKey::new("a", "y"), 4);
        assert!(c.owned_by("u2").is_empty());
    }
}
