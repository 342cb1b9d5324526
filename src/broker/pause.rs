//! `CLIENT PAUSE`: batches whose next command the pause covers wait in
//! [`Broker`]'s held queue, in arrival order, until the pause ends.

use super::{Broker, unix_ms};

impl Broker {
    /// Ends an expired pause and resumes the held batches (in order) once
    /// no pause is in force.
    pub(super) fn release_paused(&mut self) {
        if let Some((until, _)) = self.server.hub.pause {
            if until > unix_ms() {
                return;
            }
            self.server.hub.pause = None;
        }
        let held = std::mem::take(&mut self.held);
        for run in held {
            if run.reply.is_closed() {
                // Its connection is gone: give back what it was handed.
                self.abandon(run);
                continue;
            }
            self.server.hub.resumed(run.session.id);
            self.execute_batch(run);
        }
    }
}
