//! Helpers shared by the compact forms of hashes, sets and sorted sets
//! (one small vector each, searched linearly, as Redis's listpacks).

/// Makes room for one more element in a compact vector. It grows by about
/// an eighth (at least one), not by doubling, so that a small collection
/// carries little unused capacity; the allocator's own size classes absorb
/// most of the resulting reallocations in place.
pub(super) fn reserve_one<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 8).max(1));
    }
}

/// Gives back the spare capacity of a compact vector after a removal, once
/// it is more than a quarter of its length (and a few elements).
pub(super) fn trim_spare<T>(v: &mut Vec<T>) {
    if v.capacity() > v.len() + v.len() / 4 + 4 {
        v.shrink_to(v.len() + v.len() / 8);
    }
}

/// A 32-bit fingerprint of a field or member, kept beside it in a compact
/// collection: a search compares the bytes (behind a pointer, so likely a
/// cache miss) of almost only the entry it looks for, not of every entry.
/// Fixed-seeded: a collision costs only one extra comparison.
pub(super) fn tag(bytes: &[u8]) -> u32 {
    use std::hash::BuildHasher;
    const TAGS: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x7a67_5eed);
    TAGS.hash_one(bytes) as u32
}
