//! Finds a pod's containers for log and exec sessions from the runtime's
//! labels: the current instance is the highest attempt, the previous one
//! the highest attempt below it (kept by the pod worker for `--previous`).

use std::sync::Arc;

use crate::runtime::{BoxFut, Runtime};
use crate::tunnel::ContainerLookup;

/// Looks containers up through the runtime.
pub struct RuntimeLookup {
    /// The runtime.
    pub runtime: Arc<dyn Runtime>,
    /// This node.
    pub node: String,
}

impl ContainerLookup for RuntimeLookup {
    fn container_id<'a>(
        &'a self,
        namespace: &'a str,
        pod: &'a str,
        container: &'a str,
        previous: bool,
    ) -> BoxFut<'a, Result<String, String>> {
        Box::pin(async move {
            let found = self.runtime.list(&self.node).await.map_err(|e| e.to_string())?;
            let mut instances: Vec<_> = found
                .into_iter()
                .filter(|f| f.namespace == namespace && f.pod_name == pod && f.container.as_deref() == Some(container))
                .collect();
            instances.sort_by_key(|f| std::cmp::Reverse(f.attempt));
            let pick = if previous { instances.get(1) } else { instances.first() };
            match pick {
                Some(f) => Ok(f.id.clone()),
                None if previous => {
                    Err(format!("previous terminated container \"{container}\" in pod \"{pod}\" not found"))
                }
                None => {
                    Err(format!("container \"{container}\" in pod \"{pod}\" is waiting to start: ContainerCreating"))
                }
            }
        })
    }
}
