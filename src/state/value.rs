//! The value types a key can hold.

use bytes::Bytes;
use std::collections::VecDeque;

use super::hashing::{HashMap, HashSet};
use super::zset::ZSet;

/// A stored value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (binary safe).
    Str(Bytes),
    /// A list: O(1) push and pop at both ends.
    List(VecDeque<Bytes>),
    /// A hash of fields to values.
    Hash(Box<HashMap<Bytes, Bytes>>),
    /// A set of members.
    Set(Box<HashSet<Bytes>>),
    /// A sorted set of members ordered by score.
    ZSet(Box<ZSet>),
}

impl Value {
    /// The name `TYPE` reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// Whether this is a collection with no elements (such a key is removed).
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Value::Str(_) => false,
            Value::List(l) => l.is_empty(),
            Value::Hash(h) => h.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
        }
    }
}
