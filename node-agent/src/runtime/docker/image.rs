//! Making an image present according to its pull policy.
//!
//! Guarantees: the image is inspected first; it is pulled only when the
//! policy says so; a failed pull is [`RuntimeError::Pull`] carrying the
//! engine's message; a missing image under `Never` is
//! [`RuntimeError::NeverPull`]. The returned id comes from an inspect.

use bollard::query_parameters::CreateImageOptionsBuilder;
use bollard::Docker;
use futures::StreamExt;

use super::error;
use crate::runtime::{ImageReady, PullPolicy, RuntimeError};

/// What to do about an image, given the policy and whether it is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImageAction {
    /// Present and no pull wanted.
    UsePresent,
    /// Pull it.
    Pull,
    /// Missing and pulling is forbidden.
    FailNeverPull,
}

/// The decision of [`ensure_image`].
pub(crate) fn decide(policy: PullPolicy, present: bool) -> ImageAction {
    match (policy, present) {
        (PullPolicy::Always, _) | (PullPolicy::IfNotPresent, false) => ImageAction::Pull,
        (PullPolicy::Never, false) => ImageAction::FailNeverPull,
        (_, true) => ImageAction::UsePresent,
    }
}

/// Splits a reference into `(fromImage, tag)` for the pull API. A reference
/// without tag or digest gets `latest` (an empty tag would pull every tag);
/// a digest reference is passed whole with no tag.
pub(crate) fn pull_reference(image: &str) -> (String, Option<String>) {
    if image.contains('@') {
        return (image.to_string(), None);
    }
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].rfind(':') {
        Some(i) => {
            let at = last_slash + i;
            (image[..at].to_string(), Some(image[at + 1..].to_string()))
        }
        None => (image.to_string(), Some("latest".to_string())),
    }
}

/// Adds a hint to a failed pull of one of Helmsman's locally built images.
pub(crate) fn pull_message(image: &str, engine_message: &str) -> String {
    if image.starts_with("helmsman/") {
        format!("{engine_message} (helmsman/* images are built locally: run node-agent/images/build-images.sh)")
    } else {
        engine_message.to_string()
    }
}

/// The image id when present, `None` when the engine does not have it.
async fn image_id(docker: &Docker, image: &str) -> Result<Option<String>, RuntimeError> {
    match docker.inspect_image(image).await {
        Ok(i) => Ok(Some(i.id.unwrap_or_default())),
        Err(e) if error::status_of(&e) == Some(404) => Ok(None),
        Err(e) => Err(error::on_engine(&format!("inspect image {image}"), e)),
    }
}

/// Pulls `image`, draining the progress stream; the first error wins.
async fn pull(docker: &Docker, image: &str) -> Result<(), RuntimeError> {
    let (from, tag) = pull_reference(image);
    let mut opts = CreateImageOptionsBuilder::default().from_image(&from);
    if let Some(tag) = &tag {
        opts = opts.tag(tag);
    }
    tracing::info!(image = %image, "pulling image");
    let mut progress = docker.create_image(Some(opts.build()), None, None);
    while let Some(item) = progress.next().await {
        if let Err(e) = item {
            if error::is_unreachable(&e) {
                return Err(error::on_engine(&format!("pull image {image}"), e));
            }
            let message = pull_message(image, &error::engine_message(&e));
            tracing::warn!(image = %image, error = %message, "image pull failed");
            return Err(RuntimeError::Pull { image: image.to_string(), message });
        }
    }
    Ok(())
}

/// See [`Runtime::ensure_image`](crate::runtime::Runtime::ensure_image).
pub(crate) async fn ensure_image(docker: &Docker, image: &str, policy: PullPolicy) -> Result<ImageReady, RuntimeError> {
    let present = image_id(docker, image).await?;
    match decide(policy, present.is_some()) {
        ImageAction::UsePresent => {
            Ok(ImageReady { image_id: present.expect("UsePresent is decided only when present"), pulled: false })
        }
        ImageAction::FailNeverPull => Err(RuntimeError::NeverPull(image.to_string())),
        ImageAction::Pull => {
            pull(docker, image).await?;
            match image_id(docker, image).await? {
                Some(image_id) => Ok(ImageReady { image_id, pulled: true }),
                None => Err(RuntimeError::Pull {
                    image: image.to_string(),
                    message: "the engine reported a successful pull but does not have the image".to_string(),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_decisions() {
        assert_eq!(decide(PullPolicy::Always, true), ImageAction::Pull);
        assert_eq!(decide(PullPolicy::Always, false), ImageAction::Pull);
        assert_eq!(decide(PullPolicy::IfNotPresent, true), ImageAction::UsePresent);
        assert_eq!(decide(PullPolicy::IfNotPresent, false), ImageAction::Pull);
        assert_eq!(decide(PullPolicy::Never, true), ImageAction::UsePresent);
        assert_eq!(decide(PullPolicy::Never, false), ImageAction::FailNeverPull);
    }

    #[test]
    fn references_split_for_pull() {
        assert_eq!(pull_reference("busybox"), ("busybox".into(), Some("latest".into())));
        assert_eq!(pull_reference("helmsman/busybox:1.35"), ("helmsman/busybox".into(), Some("1.35".into())));
        assert_eq!(pull_reference("localhost:5000/app"), ("localhost:5000/app".into(), Some("latest".into())));
        assert_eq!(pull_reference("localhost:5000/app:v2"), ("localhost:5000/app".into(), Some("v2".into())));
        assert_eq!(pull_reference("app@sha256:abcd"), ("app@sha256:abcd".into(), None));
    }

    #[test]
    fn hint_only_for_local_images() {
        assert!(pull_message("helmsman/pause:3.10", "not found").contains("build-images.sh"));
        assert_eq!(pull_message("nginx:1", "not found"), "not found");
    }
}
