//! Clients parked by blocking commands (`BLPOP`, `BLMOVE`, `BZPOPMIN`...).
//!
//! Each parked client waits on one or more keys; per key, waiters are served
//! first come, first served. Deadlines are kept in order so the broker can
//! sleep exactly until the next one.

use bytes::Bytes;
use std::collections::{BTreeSet, VecDeque};

use crate::cmd::Block;
use crate::resp::Frame;
use crate::state::HashMap;

struct Waiter<T> {
    client: u64,
    db: u32,
    block: Block,
    item: T,
}

/// Where a waiter taken out by [`Waiters::take`] stood.
pub struct Place {
    id: u64,
    client: u64,
    db: u32,
    block: Block,
    /// Its position in the line of each of `block.keys`.
    positions: Vec<usize>,
}

/// The parked clients, each holding an item `T` (the rest of its batch).
pub struct Waiters<T> {
    next_id: u64,
    parked: HashMap<u64, Waiter<T>>,
    by_key: HashMap<(u32, Bytes), VecDeque<u64>>,
    by_client: HashMap<u64, u64>,
    deadlines: BTreeSet<(u64, u64)>,
}

impl<T> Default for Waiters<T> {
    fn default() -> Self {
        Waiters {
            next_id: 0,
            parked: HashMap::default(),
            by_key: HashMap::default(),
            by_client: HashMap::default(),
            deadlines: BTreeSet::new(),
        }
    }
}

impl<T> Waiters<T> {
    /// Whether nobody is parked.
    pub fn is_empty(&self) -> bool {
        self.parked.is_empty()
    }

    /// Number of parked clients.
    pub fn len(&self) -> usize {
        self.parked.len()
    }

    /// Whether someone waits on `key` in `db`.
    pub fn has_key(&self, db: u32, key: &Bytes) -> bool {
        self.by_key.contains_key(&(db, key.clone()))
    }

    /// The keys someone waits on in `db`.
    pub fn keys_in(&self, db: u32) -> Vec<Bytes> {
        self.by_key.keys().filter(|(d, _)| *d == db).map(|(_, k)| k.clone()).collect()
    }

    /// The earliest deadline, Unix milliseconds.
    pub fn next_deadline(&self) -> Option<u64> {
        self.deadlines.first().map(|(t, _)| *t)
    }

    /// Parks `item` at the back of the line for each of `block.keys`.
    pub fn park(&mut self, client: u64, db: u32, block: Block, item: T) {
        self.insert(client, db, block, item);
    }

    fn insert(&mut self, client: u64, db: u32, block: Block, item: T) {
        let id = self.next_id;
        self.next_id += 1;
        for k in &block.keys {
            let q = self.by_key.entry((db, k.clone())).or_default();
            if q.contains(&id) {
                continue;
            }
            q.push_back(id);
        }
        if let Some(t) = block.deadline_ms {
            self.deadlines.insert((t, id));
        }
        self.by_client.insert(client, id);
        self.parked.insert(id, Waiter { client, db, block, item });
    }

    fn remove(&mut self, id: u64) -> Option<Waiter<T>> {
        let w = self.parked.remove(&id)?;
        for k in &w.block.keys {
            let slot = (w.db, k.clone());
            if let Some(q) = self.by_key.get_mut(&slot) {
                q.retain(|&x| x != id);
                if q.is_empty() {
                    self.by_key.remove(&slot);
                }
            }
        }
        if let Some(t) = w.block.deadline_ms {
            self.deadlines.remove(&(t, id));
        }
        if self.by_client.get(&w.client) == Some(&id) {
            self.by_client.remove(&w.client);
        }
        Some(w)
    }

    /// The waiters on `key` in `db`, first come first.
    pub fn line(&self, db: u32, key: &Bytes) -> Vec<u64> {
        self.by_key.get(&(db, key.clone())).map_or_else(Vec::new, |q| q.iter().copied().collect())
    }

    /// Takes waiter `id` out of every line, to be run again, with its
    /// place in each ([`Waiters::put_back`] if it must wait again).
    pub fn take(&mut self, id: u64) -> Option<(T, Place)> {
        let w = self.parked.get(&id)?;
        let positions = (w.block.keys.iter())
            .map(|k| self.by_key.get(&(w.db, k.clone())).and_then(|q| q.iter().position(|&x| x == id)).unwrap_or(0))
            .collect();
        let w = self.remove(id)?;
        Some((w.item, Place { id, client: w.client, db: w.db, block: w.block, positions }))
    }

    /// Parks again a waiter [`Waiters::take`] took, where it was in every
    /// line and with its deadline: being run for nothing (its key gained
    /// something it cannot use, or lost it again in the same transaction)
    /// must not move it ahead of anyone on its other keys.
    pub fn put_back(&mut self, item: T, place: Place) {
        let Place { id, client, db, block, positions } = place;
        for (k, &at) in block.keys.iter().zip(&positions) {
            let q = self.by_key.entry((db, k.clone())).or_default();
            if !q.contains(&id) {
                q.insert(at.min(q.len()), id);
            }
        }
        if let Some(t) = block.deadline_ms {
            self.deadlines.insert((t, id));
        }
        self.by_client.insert(client, id);
        self.parked.insert(id, Waiter { client, db, block, item });
    }

    /// Takes every client whose deadline is at or before `now`, with the
    /// reply its command gives on timeout.
    pub fn take_expired(&mut self, now: u64) -> Vec<(T, Frame)> {
        let due: Vec<u64> = self.deadlines.iter().take_while(|(t, _)| *t <= now).map(|(_, id)| *id).collect();
        due.into_iter().filter_map(|id| self.remove(id)).map(|w| (w.item, w.block.on_timeout)).collect()
    }

    /// Whether `client` is parked.
    pub fn has_client(&self, client: u64) -> bool {
        self.by_client.contains_key(&client)
    }

    /// Ends every wait, returning the items.
    pub fn take_all(&mut self) -> Vec<T> {
        self.by_key.clear();
        self.by_client.clear();
        self.deadlines.clear();
        self.parked.drain().map(|(_, w)| w.item).collect()
    }

    /// Drops a disconnected client's wait, if any.
    pub fn remove_client(&mut self, client: u64) -> Option<T> {
        self.take_client(client).map(|(item, _)| item)
    }

    /// Ends `client`'s wait, if any, with the reply its command gives on
    /// timeout (`CLIENT UNBLOCK`).
    pub fn take_client(&mut self, client: u64) -> Option<(T, Frame)> {
        let id = self.by_client.get(&client).copied()?;
        self.remove(id).map(|w| (w.item, w.block.on_timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(keys: &[&'static str], deadline: Option<u64>) -> Block {
        Block {
            keys: keys.iter().map(|k| Bytes::from_static(k.as_bytes())).collect(),
            deadline_ms: deadline,
            on_timeout: Frame::NullArray,
        }
    }

    #[test]
    fn first_come_first_served_and_timeouts() {
        let mut w = Waiters::default();
        w.park(1, 0, block(&["a", "b"], Some(100)), "one");
        w.park(2, 0, block(&["a"], None), "two");
        assert_eq!(w.line(0, &Bytes::from("a")), [0, 1]);
        assert_eq!(w.take(0).map(|(item, _)| item), Some("one"));
        assert!(!w.has_key(0, &Bytes::from("b")));
        w.park(3, 0, block(&["a"], Some(50)), "three");
        assert_eq!(w.next_deadline(), Some(50));
        let expired = w.take_expired(60);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].0, "three");
        assert_eq!(w.remove_client(2), Some("two"));
        assert!(w.is_empty());
    }

    #[test]
    fn a_waiter_put_back_keeps_its_place_in_every_line_and_its_deadline() {
        let mut w = Waiters::default();
        w.park(1, 0, block(&["a"], None), "one");
        w.park(2, 0, block(&["b", "a"], Some(70)), "two");
        w.park(3, 0, block(&["a", "b"], None), "three");
        let (item, place) = w.take(1).expect("parked");
        assert_eq!(w.line(0, &Bytes::from("a")), [0, 2]);
        w.put_back(item, place);
        assert_eq!(w.line(0, &Bytes::from("a")), [0, 1, 2]);
        assert_eq!(w.line(0, &Bytes::from("b")), [1, 2]);
        assert_eq!(w.next_deadline(), Some(70));
        assert!(w.has_client(2));
    }
}
