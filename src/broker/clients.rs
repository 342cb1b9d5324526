//! Connection admission (`maxclients`) and idle-client closing (`timeout`).

use bytes::Bytes;
use std::time::Duration;
use tokio::sync::mpsc;

use super::{Broker, Push};

impl Broker {
    /// Admits a new connection, or refuses it with Redis's error when
    /// `maxclients` clients are already connected.
    pub(super) fn admit(&mut self, id: u64, push: &mpsc::UnboundedSender<Push>) -> bool {
        if self.server.clients.len() < self.server.config.maxclients {
            return true;
        }
        let _ = push.send(Push::Data(Bytes::from_static(b"-ERR max number of clients reached\r\n")));
        let _ = push.send(Push::Kill);
        self.server.hub.refused.insert(id);
        self.server.hub.rejected_connections += 1;
        tracing::warn!(
            client = id,
            maxclients = self.server.config.maxclients,
            "connection refused: max number of clients reached"
        );
        false
    }

    /// Closes clients idle for more than `timeout` seconds, except those
    /// blocked, paused, subscribed or monitoring (as Redis exempts them).
    pub(super) fn close_idle_clients(&mut self) {
        let timeout = self.server.config.timeout;
        if timeout == 0 {
            return;
        }
        let limit = Duration::from_secs(timeout);
        let held: Vec<u64> = self.held.iter().map(|r| r.session.id).collect();
        let idle: Vec<u64> = self
            .server
            .clients
            .values()
            .filter(|c| c.last_active.elapsed() > limit)
            .map(|c| c.id)
            .filter(|&id| {
                !self.waiters.has_client(id)
                    && !held.contains(&id)
                    && !self.server.hub.is_subscriber(id)
                    && !self.server.hub.is_monitor(id)
            })
            .collect();
        for id in idle {
            tracing::debug!(client = id, "closing idle client (timeout)");
            self.server.hub.kill(id);
        }
    }
}
