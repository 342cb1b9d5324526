//! String values: short ones held in place, longer ones in a buffer.
//!
//! Most values a state broker holds are short (counters, flags, ids,
//! tokens): a string of up to [`INLINE`] bytes lives inside the value
//! itself, with no allocation of its own, as Redis keeps short strings in
//! its object header (`embstr`). Longer strings are a `Bytes` kept by the
//! keyspace's rule ([`stored`]: copied up to a few hundred bytes, shared
//! beyond). A `Str` is no bigger than a `Bytes` handle (32 bytes), so a
//! [`Value`](super::Value) stays 40 bytes.
//!
//! Measured (`bench/memory.sh`, 1M keys of 16-byte values): 157–163 MB of
//! RSS with a `Bytes` per value, 145–150 MB with the values held in place.

use bytes::{Bytes, BytesMut};
use std::fmt;
use std::ops::Deref;

use super::value::{detached, stored};

/// The longest string held in place.
pub const INLINE: usize = 22;

/// A string value (binary safe). Read it as `&[u8]` (it derefs to one).
#[derive(Clone)]
pub struct Str(Repr);

/// The two forms of a [`Str`].
#[derive(Clone)]
enum Repr {
    /// Up to [`INLINE`] bytes, in place: the first `len` bytes of `buf`.
    Inline { len: u8, buf: [u8; INLINE] },
    /// Longer strings.
    Heap(Bytes),
}

impl Str {
    /// The empty string.
    pub const fn new() -> Str {
        Str(Repr::Inline { len: 0, buf: [0; INLINE] })
    }

    /// A copy of `b`.
    pub fn copy_from_slice(b: &[u8]) -> Str {
        if b.len() <= INLINE {
            let mut buf = [0; INLINE];
            buf[..b.len()].copy_from_slice(b);
            Str(Repr::Inline { len: b.len() as u8, buf })
        } else {
            Str(Repr::Heap(Bytes::copy_from_slice(b)))
        }
    }

    /// A copy as the keyspace keeps it: in place when short, otherwise by
    /// [`stored`]'s rule (copied up to a few hundred bytes, shared beyond).
    pub fn to_stored(&self) -> Str {
        match &self.0 {
            Repr::Inline { .. } => self.clone(),
            Repr::Heap(b) => Str(Repr::Heap(stored(b))),
        }
    }

    /// The bytes as a `Bytes` for a reply or a result: copied unless long
    /// (a clone of a short stored buffer would give it a shared header for
    /// good; see [`detached`]).
    pub fn to_bytes(&self) -> Bytes {
        match &self.0 {
            Repr::Inline { .. } => Bytes::copy_from_slice(self),
            Repr::Heap(b) => detached(b),
        }
    }

    /// The bytes as a growable buffer, leaving the empty string behind: the
    /// buffer itself when this string owns it alone, a copy otherwise.
    pub fn take_mut(&mut self) -> BytesMut {
        match std::mem::take(&mut self.0) {
            Repr::Inline { len, buf } => BytesMut::from(&buf[..len as usize]),
            Repr::Heap(b) => b.try_into_mut().unwrap_or_else(|shared| BytesMut::from(&shared[..])),
        }
    }

    /// Whether the string is held in place.
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline { .. })
    }

    /// Whether the string shares no buffer (true in place): what the
    /// keyspace's tests check of everything it holds.
    #[cfg(test)]
    pub(crate) fn shares_nothing(&self) -> bool {
        match &self.0 {
            Repr::Inline { .. } => true,
            Repr::Heap(b) => b.is_unique(),
        }
    }
}

impl Default for Repr {
    fn default() -> Repr {
        Str::new().0
    }
}

impl Default for Str {
    fn default() -> Str {
        Str::new()
    }
}

impl Deref for Str {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..*len as usize],
            Repr::Heap(b) => b,
        }
    }
}

impl AsRef<[u8]> for Str {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

/// Short bytes are copied in place; longer ones are kept as they are (an
/// effect's string shares the request's buffer until the keyspace stores
/// its own copy with [`Str::to_stored`]).
impl From<Bytes> for Str {
    fn from(b: Bytes) -> Str {
        if b.len() <= INLINE { Str::copy_from_slice(&b) } else { Str(Repr::Heap(b)) }
    }
}

impl From<BytesMut> for Str {
    fn from(b: BytesMut) -> Str {
        if b.len() <= INLINE { Str::copy_from_slice(&b) } else { Str(Repr::Heap(b.freeze())) }
    }
}

impl From<&[u8]> for Str {
    fn from(b: &[u8]) -> Str {
        Str::copy_from_slice(b)
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Str {
        Str::copy_from_slice(s.as_bytes())
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Str) -> bool {
        **self == **other
    }
}

impl Eq for Str {}

impl PartialEq<[u8]> for Str {
    fn eq(&self, other: &[u8]) -> bool {
        **self == *other
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&super::compact::Shown(self), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_strings_are_held_in_place_in_no_more_room_than_a_handle() {
        assert_eq!(std::mem::size_of::<Str>(), std::mem::size_of::<Bytes>());
        for n in [0, 1, INLINE] {
            let data = vec![b'x'; n];
            let s = Str::from(Bytes::from(data.clone()));
            assert!(s.is_inline(), "{n} bytes");
            assert_eq!((&s[..], s.to_bytes()), (&data[..], Bytes::from(data.clone())));
        }
        let long = Bytes::from(vec![b'y'; INLINE + 1]);
        let s = Str::from(long.clone());
        assert!(!s.is_inline());
        assert_eq!(&s[..], &long[..]);
        assert_eq!(Str::copy_from_slice(b"ab"), Str::from("ab"));
        assert_eq!(format!("{:?}", Str::from("a\n")), r#"b"a\n""#);
    }

    #[test]
    fn stored_copies_share_only_long_buffers() {
        let mid = Bytes::from(vec![b'm'; 100]);
        let kept = Str::from(mid.clone()).to_stored();
        assert!(kept.shares_nothing(), "a copy of mid-sized data");
        assert!(kept.to_bytes().is_unique() && kept.shares_nothing(), "a reply copies it");
        let big = Bytes::from(vec![b'b'; 1000]);
        let kept = Str::from(big.clone()).to_stored();
        assert!(!kept.shares_nothing(), "long data is shared");
        assert_eq!(kept.to_bytes(), big);
    }

    #[test]
    fn take_mut_hands_over_the_bytes_and_leaves_the_empty_string() {
        for n in [3, INLINE, 40, 1000] {
            let data = vec![b'z'; n];
            let mut s = Str::from(Bytes::from(data.clone()));
            let mut m = s.take_mut();
            assert!(s.is_empty() && s.is_inline());
            assert_eq!(&m[..], &data[..]);
            m.extend_from_slice(b"++");
            let grown = Str::from(m);
            assert_eq!(grown.len(), n + 2);
            assert_eq!(grown.is_inline(), n + 2 <= INLINE);
        }
        // A buffer shared with someone else is copied, not changed.
        let shared = Bytes::from(vec![b's'; 50]);
        let mut s = Str::from(shared.clone());
        s.take_mut().extend_from_slice(b"!");
        assert_eq!(shared.len(), 50);
    }
}
