//! The value types a key can hold.

use super::hash::Hash;
use super::list::List;
use super::set::Set;
use super::string::Str;
use super::zset::ZSet;
use bytes::Bytes;

/// A stored value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (binary safe; short ones held in place).
    Str(Str),
    /// A list: O(1) push and pop at both ends, small elements packed.
    List(List),
    /// A hash of fields to values (compact while small).
    Hash(Hash),
    /// A set of members (compact while small).
    Set(Set),
    /// A sorted set of members ordered by score (compact while small).
    ZSet(ZSet),
}

/// Bytes up to this long are copied into the keyspace rather than shared
/// with the effect that carried them (see [`stored`]).
pub(super) const COPY_LIMIT: usize = 256;

/// `b` as the keyspace keeps it. A clone of `Bytes` made from a `Vec` turns
/// it into a shared buffer with a separate, reference-counted header that
/// lives as long as the stored copy: 24 bytes more for every key, value and
/// element a write puts in the keyspace. Short data is copied instead (one
/// exact allocation, nothing shared); longer data is shared, where the
/// header is small next to the data and a copy would cost more.
pub fn stored(b: &Bytes) -> Bytes {
    if b.len() <= COPY_LIMIT { Bytes::copy_from_slice(b) } else { b.clone() }
}

/// Bytes stored in the keyspace, as a reply or a result may hold them:
/// short data copied, long data shared (the same rule as [`stored`]).
/// Cloning a short stored `Bytes` turns it into a shared buffer whose
/// reference-counted header then stays with the stored copy for good: one
/// `HGETALL` of every hash (1M fields of 13 bytes, values of 1) grew the
/// process by 51 MB that way, and it never shrank back.
pub fn detached(b: &Bytes) -> Bytes {
    stored(b)
}

impl Value {
    /// About how many bytes this value takes in memory (`MEMORY USAGE`):
    /// exact sizes for a string and a compact collection, and for a large
    /// collection its number of elements times the mean size of the first
    /// `samples` of them (all if 0) plus the structure's cost per element
    /// (a packed list: 2 length bytes; a hash or set: a 72-byte bucket
    /// entry and an allocation of its own per field, value or member; a
    /// sorted set: the member's entry and its tree node).
    pub fn memory_estimate(&self, samples: usize) -> usize {
        /// The mean length of the first `samples` (all if 0) of `lens`.
        fn mean(lens: impl Iterator<Item = usize>, samples: usize) -> usize {
            let (mut n, mut total) = (0, 0);
            for len in lens.take(if samples == 0 { usize::MAX } else { samples }) {
                n += 1;
                total += len;
            }
            total.checked_div(n).unwrap_or(0)
        }
        /// An allocation of `len` bytes, as the allocator rounds it.
        fn alloc(len: usize) -> usize {
            len.next_multiple_of(16)
        }
        match self {
            Value::Str(s) if s.is_inline() => 0,
            Value::Str(s) => alloc(s.len()),
            Value::List(l) => l.len() * (mean(l.iter().map(<[u8]>::len), samples) + 2) + 64,
            Value::Hash(h) if h.is_compact() => alloc(h.iter().map(|(f, v)| f.len() + v.len() + 2).sum()),
            Value::Hash(h) => h.len() * (72 + 2 * alloc(mean(h.iter().map(|(f, v)| f.len() + v.len()), samples) / 2)),
            Value::Set(m) if m.is_compact() => alloc(m.iter().map(|x| x.len() + 1).sum()),
            Value::Set(m) => m.len() * (40 + alloc(mean(m.iter().map(<[u8]>::len), samples))),
            Value::ZSet(z) if z.is_compact() => alloc(z.iter().map(|(x, _)| x.len() + 9).sum()),
            Value::ZSet(z) => z.len() * (48 + 48 + alloc(mean(z.iter().map(|(x, _)| x.len()), samples))),
        }
    }

    /// A copy of this value for the keyspace, its strings and elements made
    /// with [`stored`], in the same form (compact or not). A hash keeps its
    /// representation (which `OBJECT ENCODING` reports); a set's is internal
    /// and chosen afresh from its size.
    pub fn to_stored(&self) -> Value {
        match self {
            Value::Str(s) => Value::Str(s.to_stored()),
            // Packed elements are copies already; large ones are shared,
            // as `stored` shares long data.
            Value::List(l) => Value::List(l.clone()),
            Value::Hash(h) => Value::Hash(h.to_stored()),
            Value::Set(s) => Value::Set(s.to_stored()),
            Value::ZSet(z) => Value::ZSet(z.to_stored()),
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_collections_keep_the_value_small() {
        // Hashes, sets and sorted sets are held inline (a vector, or a box
        // once large): no box of their own while small, and no bigger than
        // a string.
        assert!(std::mem::size_of::<Hash>() <= std::mem::size_of::<Bytes>());
        assert!(std::mem::size_of::<Set>() <= std::mem::size_of::<Bytes>());
        assert!(std::mem::size_of::<ZSet>() <= std::mem::size_of::<Bytes>());
        assert_eq!(std::mem::size_of::<Value>(), 40);
        // And an entry is its value plus an 8-byte deadline (a
        // `NonZeroU64`): every key pays for it, in the keyspace's tree too.
        assert_eq!(std::mem::size_of::<super::super::Entry>(), 48);
    }
}
