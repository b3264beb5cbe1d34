//! The control-plane replicas an agent may talk to, with failover.
//!
//! Guarantees: every call goes to the current server; a caller that saw a
//! transport failure or `Unavailable` reports it with [`Servers::failed`]
//! and the next call goes to the next server in the list (round robin), so
//! the agent survives the death of any replica as long as one is up.
//! Channels connect lazily and reconnect by themselves.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use proto::agent::dispatcher_client::DispatcherClient;
use tonic::transport::{Channel, Endpoint};

/// Errors building the server set.
#[derive(Debug, thiserror::Error)]
pub enum ServersError {
    /// No server given.
    #[error("no control-plane server given: pass --servers http://HOST:PORT[,http://HOST:PORT...]")]
    Empty,
    /// A URL that does not parse.
    #[error("bad server URL {url:?}: {reason} (expected e.g. http://127.0.0.1:6443)")]
    BadUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
}

/// The replicas, and which one is current.
pub struct Servers {
    urls: Vec<String>,
    channels: Vec<Channel>,
    current: AtomicUsize,
}

impl std::fmt::Debug for Servers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Servers").field("urls", &self.urls).finish()
    }
}

/// Largest message an agent accepts (a COMPLETE set of a full node).
pub const MAX_MESSAGE: usize = 64 << 20;

impl Servers {
    /// Lazily connecting channels to `urls`.
    pub fn new(urls: &[String]) -> Result<Servers, ServersError> {
        let urls: Vec<String> =
            urls.iter().map(|u| u.trim().trim_end_matches('/').to_string()).filter(|u| !u.is_empty()).collect();
        if urls.is_empty() {
            return Err(ServersError::Empty);
        }
        let mut channels = Vec::new();
        for url in &urls {
            let with_scheme = if url.contains("://") { url.clone() } else { format!("http://{url}") };
            let ep = Endpoint::from_shared(with_scheme.clone())
                .map_err(|e| ServersError::BadUrl { url: url.clone(), reason: e.to_string() })?
                .connect_timeout(Duration::from_secs(2))
                .tcp_nodelay(true)
                .http2_keep_alive_interval(Duration::from_secs(5))
                .keep_alive_timeout(Duration::from_secs(5))
                .keep_alive_while_idle(true);
            channels.push(ep.connect_lazy());
        }
        let start = rand::random::<usize>() % urls.len();
        Ok(Servers { urls, channels, current: AtomicUsize::new(start) })
    }

    /// A `Resources` (object API) client for the current server.
    pub fn resources(&self) -> (usize, proto::api::resources_client::ResourcesClient<Channel>) {
        let i = self.current.load(Ordering::Relaxed) % self.urls.len();
        let client = proto::api::resources_client::ResourcesClient::new(self.channels[i].clone())
            .max_decoding_message_size(MAX_MESSAGE);
        (i, client)
    }

    /// The current server's index, URL and a client for it.
    pub fn current(&self) -> (usize, &str, DispatcherClient<Channel>) {
        let i = self.current.load(Ordering::Relaxed) % self.urls.len();
        let client = DispatcherClient::new(self.channels[i].clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        (i, &self.urls[i], client)
    }

    /// The call to server `index` failed at the transport (or the server
    /// was unavailable): move on to the next one, unless someone already did.
    pub fn failed(&self, index: usize) {
        let _ =
            self.current.compare_exchange(index, (index + 1) % self.urls.len(), Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Every server's URL and channel (tunnels go to all of them).
    pub fn all(&self) -> impl Iterator<Item = (&str, Channel)> {
        self.urls.iter().map(String::as_str).zip(self.channels.iter().cloned())
    }

    /// The URLs.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }
}

/// Whether a gRPC error means "try another server": transport failures,
/// Unavailable, and a replica that has not caught up yet.
pub fn should_fail_over(s: &tonic::Status) -> bool {
    matches!(
        s.code(),
        tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fails_over_round_robin_once_per_failure() {
        let s =
            Servers::new(&["http://127.0.0.1:1".into(), "127.0.0.1:2".into(), "http://127.0.0.1:3/".into()]).unwrap();
        let (i, _, _) = s.current();
        s.failed(i);
        s.failed(i); // a second report of the same failure does not skip a server
        assert_eq!(s.current().0, (i + 1) % 3);
        assert_eq!(s.urls()[2], "http://127.0.0.1:3");
    }

    #[tokio::test]
    async fn empty_and_bad_urls_are_refused_with_what_to_do() {
        assert!(Servers::new(&[]).unwrap_err().to_string().contains("--servers"));
        assert!(matches!(Servers::new(&["http://[::1".into()]), Err(ServersError::BadUrl { .. })));
    }
}
