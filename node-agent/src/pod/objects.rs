//! The ConfigMaps and Secrets one step of a worker refers to, fetched once
//! through [`Sources`] and then read by pure code (`env`, `volumes`).
//!
//! Guarantees: each name is fetched at most once per [`Objects::fetch`];
//! "does not exist" (`None`) is kept apart from a failed read (an error).

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};

use super::context::Sources;

/// Names to fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// ConfigMap names.
    pub config_maps: BTreeSet<String>,
    /// Secret names.
    pub secrets: BTreeSet<String>,
}

impl Wanted {
    /// Nothing to fetch.
    pub fn is_empty(&self) -> bool {
        self.config_maps.is_empty() && self.secrets.is_empty()
    }
}

/// Fetched objects of one namespace (`None` = does not exist).
#[derive(Debug, Clone, Default)]
pub struct Objects {
    /// ConfigMaps by name.
    pub config_maps: HashMap<String, Option<ConfigMap>>,
    /// Secrets by name.
    pub secrets: HashMap<String, Option<Secret>>,
}

impl Objects {
    /// Fetch every wanted object of namespace `ns`; the first failed read
    /// is the error.
    pub async fn fetch(sources: &dyn Sources, ns: &str, wanted: &Wanted) -> Result<Objects, String> {
        let mut out = Objects::default();
        for name in &wanted.config_maps {
            let cm = sources.config_map(ns, name).await?;
            out.config_maps.insert(name.clone(), cm);
        }
        for name in &wanted.secrets {
            let s = sources.secret(ns, name).await?;
            out.secrets.insert(name.clone(), s);
        }
        Ok(out)
    }

    /// The ConfigMap `name`, if fetched and present.
    pub fn config_map(&self, name: &str) -> Option<&ConfigMap> {
        self.config_maps.get(name).and_then(Option::as_ref)
    }

    /// The Secret `name`, if fetched and present.
    pub fn secret(&self, name: &str) -> Option<&Secret> {
        self.secrets.get(name).and_then(Option::as_ref)
    }
}
