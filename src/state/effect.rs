//! Effects: the deterministic record of one change to the keyspace.
//!
//! A command decides *what* changes (which member `SPOP` removes, the value
//! `INCRBYFLOAT` produced, the absolute time a relative expiry ends at) and
//! expresses it as an [`Effect`]; [`Keyspace::apply`] performs it. The same
//! effects, written to the log in order, rebuild the keyspace on recovery.
//! Each effect's size is proportional to the change it describes.

use bytes::{Bytes, BytesMut};

use super::Keyspace;
use super::hash::Hash;
use super::list::List;
use super::set::Set;
use super::string::Str;
use super::value::Value;
use super::zset::ZSet;

/// What happens to a key's expiry when a string is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireChange {
    /// Remove any expiry (plain `SET`).
    Clear,
    /// Keep the current expiry (`SET ... KEEPTTL`, `APPEND`, `INCR`...).
    Keep,
    /// Expire at this absolute Unix time in milliseconds.
    At(u64),
}

/// One change to the keyspace.
///
/// Fields mean the same in every variant: `db` is the database index, `key`
/// the key changed; the rest are described on the variant.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Remove a key (by `DEL`, by expiry, or by emptying a collection).
    Del { db: u32, key: Bytes },
    /// Set or clear a key's absolute expiry.
    SetExpire { db: u32, key: Bytes, at: Option<u64> },
    /// Move `from`'s entry (value and expiry) to `to`, replacing `to`.
    Rename { db: u32, from: Bytes, to: Bytes },
    /// Move a key to another database (the caller checked it is free there).
    Move { db: u32, key: Bytes, to_db: u32 },
    /// Swap two databases.
    SwapDb { a: u32, b: u32 },
    /// Empty one database.
    FlushDb { db: u32 },
    /// Empty every database.
    FlushAll,
    /// Store a whole value (strings, or results like `SUNIONSTORE`/`COPY`).
    Put { db: u32, key: Bytes, value: Value, expire: ExpireChange },
    /// Append to a string (creating it if absent).
    Append { db: u32, key: Bytes, data: Bytes },
    /// Overwrite part of a string at `offset`, zero-padding (creating it if absent).
    SetRange { db: u32, key: Bytes, offset: usize, data: Bytes },
    /// Push onto a list (creating it), left or right, in argument order.
    ListPush { db: u32, key: Bytes, left: bool, items: Vec<Bytes> },
    /// Pop `count` elements from one end of a list.
    ListPop { db: u32, key: Bytes, left: bool, count: usize },
    /// Replace the element at a non-negative index.
    ListSet { db: u32, key: Bytes, index: usize, value: Bytes },
    /// Insert an element so that it ends up at a non-negative index.
    ListInsert { db: u32, key: Bytes, index: usize, value: Bytes },
    /// Remove the elements at these ascending indexes.
    ListRemoveAt { db: u32, key: Bytes, indexes: Vec<usize> },
    /// Keep only the elements `start..end` (end exclusive).
    ListTrim { db: u32, key: Bytes, start: usize, end: usize },
    /// Set hash fields (creating the hash).
    HashSet { db: u32, key: Bytes, pairs: Vec<(Bytes, Bytes)> },
    /// Delete hash fields.
    HashDel { db: u32, key: Bytes, fields: Vec<Bytes> },
    /// Add set members (creating the set).
    SetAdd { db: u32, key: Bytes, members: Vec<Bytes> },
    /// Remove set members.
    SetRem { db: u32, key: Bytes, members: Vec<Bytes> },
    /// Set sorted-set scores (creating the sorted set).
    ZAdd { db: u32, key: Bytes, pairs: Vec<(f64, Bytes)> },
    /// Remove sorted-set members.
    ZRem { db: u32, key: Bytes, members: Vec<Bytes> },
}

impl Effect {
    /// The one key this effect changes, for the effects that name exactly
    /// one (`None` for `Rename`, `Move`, `SwapDb`, `FlushDb`, `FlushAll`).
    pub fn key(&self) -> Option<(u32, &Bytes)> {
        match self {
            Effect::Rename { .. }
            | Effect::Move { .. }
            | Effect::SwapDb { .. }
            | Effect::FlushDb { .. }
            | Effect::FlushAll => None,
            Effect::Del { db, key }
            | Effect::SetExpire { db, key, .. }
            | Effect::Put { db, key, .. }
            | Effect::Append { db, key, .. }
            | Effect::SetRange { db, key, .. }
            | Effect::ListPush { db, key, .. }
            | Effect::ListPop { db, key, .. }
            | Effect::ListSet { db, key, .. }
            | Effect::ListInsert { db, key, .. }
            | Effect::ListRemoveAt { db, key, .. }
            | Effect::ListTrim { db, key, .. }
            | Effect::HashSet { db, key, .. }
            | Effect::HashDel { db, key, .. }
            | Effect::SetAdd { db, key, .. }
            | Effect::SetRem { db, key, .. }
            | Effect::ZAdd { db, key, .. }
            | Effect::ZRem { db, key, .. } => Some((*db, key)),
        }
    }

    /// The highest database index this effect names (`None` for
    /// `FlushAll`, which names none).
    pub fn highest_db(&self) -> Option<u32> {
        match self {
            Effect::FlushAll => None,
            Effect::SwapDb { a, b } => Some(*a.max(b)),
            Effect::FlushDb { db } => Some(*db),
            Effect::Move { db, to_db, .. } => Some(*db.max(to_db)),
            Effect::Rename { db, .. } => Some(*db),
            other => other.key().map(|(db, _)| db),
        }
    }

    /// The database and key this effect changes, if it names one key that
    /// may have gained elements (used to wake blocked clients).
    pub fn target(&self) -> Option<(u32, &Bytes)> {
        match self {
            Effect::Rename { db, to, .. } => Some((*db, to)),
            Effect::Move { to_db, key, .. } => Some((*to_db, key)),
            Effect::Put { db, key, .. }
            | Effect::ListPush { db, key, .. }
            | Effect::ListInsert { db, key, .. }
            | Effect::ZAdd { db, key, .. } => Some((*db, key)),
            _ => None,
        }
    }
}

impl Keyspace {
    /// Performs `effect`. Effects come from commands that validated them
    /// against the current state, or from the log in the order they were
    /// made, so a mismatch (wrong type, missing key) is ignored rather than
    /// treated as an error.
    pub fn apply(&mut self, effect: &Effect) {
        if let Some(hook) = self.hook.as_mut() {
            hook.before(&self.dbs, effect);
        }
        match effect {
            Effect::Del { db, key } => {
                self.dbs[*db as usize].remove(key);
            }
            Effect::SetExpire { db, key, at } => {
                self.dbs[*db as usize].set_expire(key, *at);
            }
            Effect::Rename { db, from, to } => {
                let d = &mut self.dbs[*db as usize];
                if let Some(e) = d.remove(from) {
                    let at = e.expire_at();
                    d.insert(to, e.value, at);
                }
            }
            Effect::Move { db, key, to_db } => {
                if let Some(e) = self.dbs[*db as usize].remove(key) {
                    let at = e.expire_at();
                    self.dbs[*to_db as usize].insert(key, e.value, at);
                }
            }
            Effect::SwapDb { a, b } => self.dbs.swap(*a as usize, *b as usize),
            Effect::FlushDb { db } => self.dbs[*db as usize].clear(),
            Effect::FlushAll => self.dbs.iter_mut().for_each(|d| d.clear()),
            Effect::Put { db, key, value, expire } => {
                let d = &mut self.dbs[*db as usize];
                let at = match expire {
                    ExpireChange::Clear => None,
                    ExpireChange::Keep => d.get(key).and_then(super::Entry::expire_at),
                    ExpireChange::At(t) => Some(*t),
                };
                d.insert(key, value.to_stored(), at);
            }
            Effect::Append { db, key, data } => {
                let d = &mut self.dbs[*db as usize];
                match d.value_mut(key) {
                    Some(Value::Str(s)) => {
                        let mut v = s.take_mut();
                        v.extend_from_slice(data);
                        *s = Str::from(v);
                    }
                    Some(_) => {}
                    None => {
                        d.insert(key, Value::Str(Str::from(data.clone()).to_stored()), None);
                    }
                }
            }
            Effect::SetRange { db, key, offset, data } => {
                let d = &mut self.dbs[*db as usize];
                let mut v = match d.value_mut(key) {
                    Some(Value::Str(s)) => s.take_mut(),
                    Some(_) => return,
                    None => {
                        d.insert(key, Value::Str(Str::new()), None);
                        BytesMut::new()
                    }
                };
                let end = offset + data.len();
                if v.len() < end {
                    v.resize(end, 0);
                }
                v[*offset..end].copy_from_slice(data);
                if let Some(Value::Str(s)) = d.value_mut(key) {
                    *s = Str::from(v);
                }
            }
            Effect::ListPush { db, key, left, items } => {
                let d = &mut self.dbs[*db as usize];
                if d.get(key).is_none() {
                    d.insert(key, Value::List(List::new()), None);
                }
                if let Some(Value::List(l)) = d.value_mut(key) {
                    // Short items are copied into the list's chunks, long
                    // ones shared (the `stored` rule).
                    for item in items {
                        if *left {
                            l.push_front(item);
                        } else {
                            l.push_back(item);
                        }
                    }
                }
            }
            Effect::ListPop { db, key, left, count } => {
                self.with_collection(*db, key, |v| {
                    if let Value::List(l) = v {
                        if *left {
                            l.drop_front(*count);
                        } else {
                            l.drop_back(*count);
                        }
                    }
                });
            }
            Effect::ListSet { db, key, index, value } => {
                if let Some(Value::List(l)) = self.dbs[*db as usize].value_mut(key) {
                    l.set(*index, value);
                }
            }
            Effect::ListInsert { db, key, index, value } => {
                if let Some(Value::List(l)) = self.dbs[*db as usize].value_mut(key) {
                    l.insert(*index, value);
                }
            }
            Effect::ListRemoveAt { db, key, indexes } => {
                self.with_collection(*db, key, |v| {
                    if let Value::List(l) = v {
                        l.remove_sorted(indexes);
                    }
                });
            }
            Effect::ListTrim { db, key, start, end } => {
                self.with_collection(*db, key, |v| {
                    if let Value::List(l) = v {
                        l.trim(*start, *end);
                    }
                });
            }
            Effect::HashSet { db, key, pairs } => {
                let d = &mut self.dbs[*db as usize];
                if d.get(key).is_none() {
                    d.insert(key, Value::Hash(Hash::new()), None);
                }
                if let Some(Value::Hash(h)) = d.value_mut(key) {
                    for (f, v) in pairs {
                        h.insert(f, v);
                    }
                }
            }
            Effect::HashDel { db, key, fields } => {
                self.with_collection(*db, key, |v| {
                    if let Value::Hash(h) = v {
                        for f in fields {
                            h.remove(f);
                        }
                    }
                });
            }
            Effect::SetAdd { db, key, members } => {
                let d = &mut self.dbs[*db as usize];
                if d.get(key).is_none() {
                    d.insert(key, Value::Set(Set::new()), None);
                }
                if let Some(Value::Set(s)) = d.value_mut(key) {
                    for m in members {
                        s.insert(m);
                    }
                }
            }
            Effect::SetRem { db, key, members } => {
                self.with_collection(*db, key, |v| {
                    if let Value::Set(s) = v {
                        for m in members {
                            s.remove(m);
                        }
                    }
                });
            }
            Effect::ZAdd { db, key, pairs } => {
                let d = &mut self.dbs[*db as usize];
                if d.get(key).is_none() {
                    d.insert(key, Value::ZSet(ZSet::default()), None);
                }
                if let Some(Value::ZSet(z)) = d.value_mut(key) {
                    for (score, m) in pairs {
                        z.insert(m, *score);
                    }
                }
            }
            Effect::ZRem { db, key, members } => {
                self.with_collection(*db, key, |v| {
                    if let Value::ZSet(z) = v {
                        for m in members {
                            z.remove(m);
                        }
                    }
                });
            }
        }
    }

    /// Runs `f` on a collection and removes the key if it is left empty.
    fn with_collection(&mut self, db: u32, key: &Bytes, f: impl FnOnce(&mut Value)) {
        let d = &mut self.dbs[db as usize];
        let Some(v) = d.value_mut(key) else { return };
        f(v);
        if v.is_empty_collection() {
            d.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn list_effects_and_empty_collections_vanish() {
        let mut ks = Keyspace::new(2);
        ks.apply(&Effect::ListPush { db: 0, key: b("l"), left: false, items: vec![b("a"), b("b"), b("c")] });
        ks.apply(&Effect::ListPush { db: 0, key: b("l"), left: true, items: vec![b("x"), b("y")] });
        // y x a b c
        ks.apply(&Effect::ListRemoveAt { db: 0, key: b("l"), indexes: vec![1, 3] });
        // y a c
        ks.apply(&Effect::ListInsert { db: 0, key: b("l"), index: 1, value: b("z") });
        let Some(Value::List(l)) = ks.dbs[0].get(b"l").map(|e| e.value.clone()) else { panic!() };
        assert_eq!(l, [b("y"), b("z"), b("a"), b("c")].into_iter().collect());
        ks.apply(&Effect::ListTrim { db: 0, key: b("l"), start: 1, end: 3 });
        ks.apply(&Effect::ListPop { db: 0, key: b("l"), left: true, count: 5 });
        assert!(ks.dbs[0].get(b"l").is_none());
    }

    #[test]
    fn appends_never_change_a_shared_value() {
        let mut ks = Keyspace::new(1);
        ks.apply(&Effect::Put { db: 0, key: b("s"), value: Value::Str(b("ab").into()), expire: ExpireChange::Clear });
        let Some(Value::Str(before)) = ks.dbs[0].get(b"s").map(|e| e.value.clone()) else { panic!() };
        for _ in 0..1000 {
            ks.apply(&Effect::Append { db: 0, key: b("s"), data: b("c") });
        }
        ks.apply(&Effect::SetRange { db: 0, key: b("s"), offset: 0, data: b("X") });
        assert_eq!(&before[..], b"ab");
        let Some(Value::Str(after)) = ks.dbs[0].get(b"s").map(|e| e.value.clone()) else { panic!() };
        assert_eq!(after.len(), 1002);
        assert_eq!(&after[..3], b"Xbc");
        ks.apply(&Effect::Append { db: 0, key: b("s"), data: b("d") });
        assert_eq!(after.len(), 1002);
    }

    #[test]
    fn short_data_is_stored_unshared_so_no_header_outlives_the_effect() {
        let mut ks = Keyspace::new(1);
        let long = Bytes::from(vec![b'x'; 1000]);
        let effects = [
            Effect::Put { db: 0, key: b("s"), value: Value::Str(b("v").into()), expire: ExpireChange::Clear },
            Effect::Put { db: 0, key: b("big"), value: Value::Str(long.clone().into()), expire: ExpireChange::Clear },
            Effect::ListPush { db: 0, key: b("l"), left: false, items: vec![b("a")] },
            Effect::HashSet { db: 0, key: b("h"), pairs: vec![(b("f"), b("v"))] },
            Effect::SetAdd { db: 0, key: b("t"), members: vec![b("m")] },
            // Values of keys with a deadline.
            Effect::Put { db: 0, key: b("e"), value: Value::Str(b("v").into()), expire: ExpireChange::At(1 << 60) },
            Effect::SetExpire { db: 0, key: b("s"), at: Some(1 << 60) },
        ];
        for e in &effects {
            ks.apply(e);
        }
        // The effects are still alive (as they are until persisted), yet
        // what the keyspace holds shares nothing with them.
        // (Keys are the database's own copies by their type.)
        for (k, e) in ks.dbs[0].iter() {
            let unique = match &e.value {
                Value::Str(v) if v.len() > super::super::value::COPY_LIMIT => !v.shares_nothing(),
                Value::Str(v) => v.shares_nothing(),
                // Packed: copies by construction.
                Value::List(_) => true,
                Value::Hash(h) => h.shares_nothing(),
                Value::Set(s) => s.shares_nothing(),
                Value::ZSet(_) => true,
            };
            assert!(unique, "value of {k:?}");
        }
        drop(effects);
        let Some(Value::Str(v)) = ks.dbs[0].get(b"big").map(|e| &e.value) else { panic!() };
        assert_eq!(&v[..], &long[..], "long data is shared, not copied");
    }

    #[test]
    fn string_effects() {
        let mut ks = Keyspace::new(1);
        ks.apply(&Effect::SetRange { db: 0, key: b("s"), offset: 3, data: b("ab") });
        ks.apply(&Effect::Append { db: 0, key: b("s"), data: b("c") });
        assert_eq!(ks.dbs[0].get(b"s").unwrap().value, Value::Str(Bytes::from_static(b"\0\0\0abc").into()));
        ks.apply(&Effect::SetExpire { db: 0, key: b("s"), at: Some(50) });
        ks.apply(&Effect::Put { db: 0, key: b("s"), value: Value::Str(b("v").into()), expire: ExpireChange::Keep });
        assert_eq!(ks.dbs[0].get(b"s").unwrap().expire_at(), Some(50));
        ks.apply(&Effect::Rename { db: 0, from: b("s"), to: b("t") });
        assert_eq!(ks.dbs[0].get(b"t").unwrap().expire_at(), Some(50));
    }
}
