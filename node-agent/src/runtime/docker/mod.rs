//! The Docker runtime: [`Runtime`] implemented with bollard against a real
//! Docker engine (API version negotiated at connect; tested on 20.10 / 1.41).
//!
//! Layout: each file owns one concept; the pure parts (request bodies,
//! names, label parsing, error mapping) are sync functions with unit tests,
//! and the async functions around them are thin.
//!
//! Guarantees (beyond those of [`Runtime`]):
//! - Containers are named `hm_<ns>_<pod>_<container>_<attempt>_<uid8>` and the
//!   sandbox `hm_<ns>_<pod>_sandbox_<uid8>` ([`names`]), and carry the labels
//!   of [`Labels`](super::Labels); [`Runtime::list`] reads only the labels.
//! - The sandbox runs [`PAUSE_IMAGE`] under the engine's init, on the default
//!   bridge (or the host network), with a shareable IPC namespace; app and
//!   init containers join its network and IPC namespaces.
//! - Every engine error is mapped with the engine's own message; a 404 is
//!   [`RuntimeError::NotFound`].
//!
//! Assumptions: the pause and test images are built locally by
//! `images/build-images.sh` (no registry is needed); containers use the
//! engine's default log driver (json-file) so logs can be read back.

use std::time::Duration;

use bollard::Docker;

use super::{
    BoxFut, ContainerPlan, ContainerState, ExecOutput, ExecSession, Found, ImageReady, LogOptions, LogStream,
    PullPolicy, Runtime, RuntimeError, Sandbox, SandboxPlan,
};

mod connect;
mod container;
mod error;
mod exec;
mod image;
mod info;
mod lifecycle;
mod list;
mod logs;
pub mod names;
mod sandbox;

/// The image every sandbox runs (built locally by `images/build-images.sh`).
pub const PAUSE_IMAGE: &str = "helmsman/pause:3.10";
/// The busybox image the tests run (built locally by `images/build-images.sh`).
pub const BUSYBOX_IMAGE: &str = "helmsman/busybox:1.35";

/// A [`Runtime`] backed by a Docker engine. Cheap to share (`Arc<dyn
/// Runtime>`); the bollard client pools its connections.
pub struct DockerRuntime {
    docker: Docker,
    pause_image: String,
}

impl DockerRuntime {
    /// `docker://<engine version>`, for the Node's runtime version.
    pub async fn version(&self) -> Result<String, RuntimeError> {
        info::version(&self.docker).await
    }

    /// Connects to the local engine (`DOCKER_HOST` when it is a `unix://`
    /// address, else `/var/run/docker.sock`) and negotiates the API version.
    ///
    /// # Errors
    /// [`RuntimeError::Unavailable`] when no engine answers, with a message
    /// that says what to do about it.
    pub async fn connect(pause_image: String) -> Result<Self, RuntimeError> {
        let docker = connect::connect().await?;
        Ok(DockerRuntime { docker, pause_image })
    }

    /// The image sandboxes run.
    pub fn pause_image(&self) -> &str {
        &self.pause_image
    }
}

impl Runtime for DockerRuntime {
    fn name(&self) -> &'static str {
        "docker"
    }

    fn ensure_image<'a>(&'a self, image: &'a str, policy: PullPolicy) -> BoxFut<'a, Result<ImageReady, RuntimeError>> {
        Box::pin(image::ensure_image(&self.docker, image, policy))
    }

    fn run_sandbox<'a>(&'a self, plan: &'a SandboxPlan) -> BoxFut<'a, Result<Sandbox, RuntimeError>> {
        Box::pin(sandbox::run_sandbox(&self.docker, &self.pause_image, plan))
    }

    fn create_container<'a>(
        &'a self,
        sandbox: &'a Sandbox,
        plan: &'a ContainerPlan,
    ) -> BoxFut<'a, Result<String, RuntimeError>> {
        Box::pin(container::create_container(&self.docker, sandbox, plan))
    }

    fn start_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<(), RuntimeError>> {
        Box::pin(lifecycle::start_container(&self.docker, id))
    }

    fn inspect_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<ContainerState, RuntimeError>> {
        Box::pin(lifecycle::inspect_container(&self.docker, id))
    }

    fn wait_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<ContainerState, RuntimeError>> {
        Box::pin(lifecycle::wait_container(&self.docker, id))
    }

    fn stop_container<'a>(&'a self, id: &'a str, grace: Duration) -> BoxFut<'a, Result<(), RuntimeError>> {
        Box::pin(lifecycle::stop_container(&self.docker, id, grace))
    }

    fn remove_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<(), RuntimeError>> {
        Box::pin(lifecycle::remove_container(&self.docker, id))
    }

    fn remove_pod<'a>(&'a self, pod_uid: &'a str) -> BoxFut<'a, Result<(), RuntimeError>> {
        Box::pin(list::remove_pod(&self.docker, pod_uid))
    }

    fn list<'a>(&'a self, node: &'a str) -> BoxFut<'a, Result<Vec<Found>, RuntimeError>> {
        Box::pin(list::list(&self.docker, node))
    }

    fn exec<'a>(
        &'a self,
        id: &'a str,
        cmd: &'a [String],
        timeout: Duration,
    ) -> BoxFut<'a, Result<ExecOutput, RuntimeError>> {
        Box::pin(exec::exec(&self.docker, id, cmd, timeout))
    }

    fn exec_session<'a>(
        &'a self,
        id: &'a str,
        cmd: &'a [String],
        stdin: bool,
        tty: bool,
    ) -> BoxFut<'a, Result<ExecSession, RuntimeError>> {
        Box::pin(exec::exec_session(&self.docker, id, cmd, stdin, tty))
    }

    fn logs<'a>(&'a self, id: &'a str, opts: &'a LogOptions) -> BoxFut<'a, Result<LogStream, RuntimeError>> {
        Box::pin(logs::logs(&self.docker, id, opts))
    }

    fn capacity<'a>(&'a self) -> BoxFut<'a, Result<(u32, u64), RuntimeError>> {
        Box::pin(info::capacity(&self.docker))
    }
}
