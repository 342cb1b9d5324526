//! The binary encoding of [`Effect`]s (log records) and of stored entries
//! (snapshot records), written by hand so the format is ours and versioned.
//!
//! Integers that count or index are LEB128 varints; times are `u64`
//! little-endian; scores are the `f64` bit pattern, little-endian; byte
//! strings are a varint length followed by the bytes. Each encoding starts
//! with a one-byte tag; an unknown tag is a decoding error, never a guess.

use bytes::Bytes;

use crate::state::zset::ZSet;
use crate::state::{Effect, ExpireChange, List, Value};

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Appends a LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// A cursor over encoded bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Reads from the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    fn short(&self) -> DecodeError {
        DecodeError(format!("record ends early at byte {}", self.pos))
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = *self.buf.get(self.pos).ok_or_else(|| self.short())?;
        self.pos += 1;
        Ok(b)
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let s = self.buf.get(self.pos..self.pos + 8).ok_or_else(|| self.short())?;
        self.pos += 8;
        Ok(u64::from_le_bytes(s.try_into().expect("8 bytes")))
    }

    /// A varint.
    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError("varint too long".into()))
    }

    fn usize(&mut self) -> Result<usize, DecodeError> {
        usize::try_from(self.varint()?).map_err(|_| DecodeError("number out of range".into()))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        u32::try_from(self.varint()?).map_err(|_| DecodeError("number out of range".into()))
    }

    /// A byte string, borrowed from the record.
    fn slice(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.usize()?;
        let end = self.pos.checked_add(n).ok_or_else(|| self.short())?;
        let s = self.buf.get(self.pos..end).ok_or_else(|| self.short())?;
        self.pos = end;
        Ok(s)
    }

    fn bytes(&mut self) -> Result<Bytes, DecodeError> {
        self.slice().map(Bytes::copy_from_slice)
    }

    /// A count of items that each take at least one byte (guards allocation).
    fn count(&mut self) -> Result<usize, DecodeError> {
        let n = self.usize()?;
        if n > self.buf.len() - self.pos {
            return Err(DecodeError(format!("count {n} exceeds the record")));
        }
        Ok(n)
    }

    fn list(&mut self) -> Result<Vec<Bytes>, DecodeError> {
        let n = self.count()?;
        (0..n).map(|_| self.bytes()).collect()
    }

    /// A list value, its elements copied straight from the record.
    fn list_value(&mut self) -> Result<List, DecodeError> {
        let n = self.count()?;
        let mut l = List::new();
        for _ in 0..n {
            l.push_back_slice(self.slice()?);
        }
        Ok(l)
    }

    fn pairs(&mut self) -> Result<Vec<(Bytes, Bytes)>, DecodeError> {
        let n = self.count()?;
        (0..n).map(|_| Ok((self.bytes()?, self.bytes()?))).collect()
    }

    fn f64(&mut self) -> Result<f64, DecodeError> {
        let f = f64::from_bits(self.u64()?);
        if f.is_nan() {
            return Err(DecodeError("NaN score".into()));
        }
        Ok(f)
    }

    fn opt_time(&mut self) -> Result<Option<u64>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.u64()?)),
            t => Err(DecodeError(format!("bad expiry tag {t}"))),
        }
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(DecodeError(format!("{} trailing bytes", self.buf.len() - self.pos)))
        }
    }
}

fn put_opt_time(out: &mut Vec<u8>, t: Option<u64>) {
    match t {
        None => out.push(0),
        Some(t) => {
            out.push(1);
            put_u64(out, t);
        }
    }
}

fn put_list<'a>(out: &mut Vec<u8>, n: usize, items: impl Iterator<Item = &'a Bytes>) {
    put_varint(out, n as u64);
    for i in items {
        put_bytes(out, i);
    }
}

/// Appends the encoding of a value.
pub fn put_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) => {
            out.push(1);
            put_bytes(out, s);
        }
        Value::List(l) => {
            out.push(2);
            put_varint(out, l.len() as u64);
            for item in l {
                put_bytes(out, item);
            }
        }
        Value::Hash(h) => {
            out.push(3);
            put_varint(out, h.len() as u64);
            for (f, v) in h.iter() {
                put_bytes(out, f);
                put_bytes(out, v);
            }
        }
        Value::Set(s) => {
            out.push(4);
            put_varint(out, s.len() as u64);
            for m in s.iter() {
                put_bytes(out, m);
            }
        }
        Value::ZSet(z) => {
            out.push(5);
            put_varint(out, z.len() as u64);
            for (m, score) in z.iter() {
                put_bytes(out, m);
                put_u64(out, score.to_bits());
            }
        }
    }
}

/// Decodes a value.
pub fn get_value(r: &mut Reader) -> Result<Value, DecodeError> {
    Ok(match r.u8()? {
        1 => Value::Str(r.slice()?.into()),
        2 => Value::List(r.list_value()?),
        3 => Value::Hash(r.pairs()?.into_iter().collect()),
        4 => Value::Set(r.list()?.into_iter().collect()),
        5 => {
            let n = r.count()?;
            let mut z = ZSet::default();
            for _ in 0..n {
                let m = r.slice()?;
                let s = r.f64()?;
                z.insert_slice(m, s);
            }
            Value::ZSet(z)
        }
        t => return Err(DecodeError(format!("unknown value tag {t}"))),
    })
}

/// Appends a snapshot entry: database, key, expiry, value.
pub fn put_entry(out: &mut Vec<u8>, db: u32, key: &[u8], expire_at: Option<u64>, value: &Value) {
    put_varint(out, u64::from(db));
    put_bytes(out, key);
    put_opt_time(out, expire_at);
    put_value(out, value);
}

/// A decoded snapshot entry.
pub type EntryRecord = (u32, Bytes, Option<u64>, Value);

/// Decodes a snapshot entry.
pub fn get_entry(r: &mut Reader) -> Result<EntryRecord, DecodeError> {
    Ok((r.u32()?, r.bytes()?, r.opt_time()?, get_value(r)?))
}

/// Appends the encoding of an effect.
pub fn put_effect(out: &mut Vec<u8>, e: &Effect) {
    let db = |out: &mut Vec<u8>, db: u32, key: &[u8]| {
        put_varint(out, u64::from(db));
        put_bytes(out, key);
    };
    match e {
        Effect::Del { db: d, key } => {
            out.push(1);
            db(out, *d, key);
        }
        Effect::SetExpire { db: d, key, at } => {
            out.push(2);
            db(out, *d, key);
            put_opt_time(out, *at);
        }
        Effect::Rename { db: d, from, to } => {
            out.push(3);
            db(out, *d, from);
            put_bytes(out, to);
        }
        Effect::Move { db: d, key, to_db } => {
            out.push(4);
            db(out, *d, key);
            put_varint(out, u64::from(*to_db));
        }
        Effect::SwapDb { a, b } => {
            out.push(5);
            put_varint(out, u64::from(*a));
            put_varint(out, u64::from(*b));
        }
        Effect::FlushDb { db: d } => {
            out.push(6);
            put_varint(out, u64::from(*d));
        }
        Effect::FlushAll => out.push(7),
        Effect::Put { db: d, key, value, expire } => {
            out.push(8);
            db(out, *d, key);
            match expire {
                ExpireChange::Clear => out.push(0),
                ExpireChange::Keep => out.push(1),
                ExpireChange::At(t) => {
                    out.push(2);
                    put_u64(out, *t);
                }
            }
            put_value(out, value);
        }
        Effect::Append { db: d, key, data } => {
            out.push(9);
            db(out, *d, key);
            put_bytes(out, data);
        }
        Effect::SetRange { db: d, key, offset, data } => {
            out.push(10);
            db(out, *d, key);
            put_varint(out, *offset as u64);
            put_bytes(out, data);
        }
        Effect::ListPush { db: d, key, left, items } => {
            out.push(11);
            db(out, *d, key);
            out.push(u8::from(*left));
            put_list(out, items.len(), items.iter());
        }
        Effect::ListPop { db: d, key, left, count } => {
            out.push(12);
            db(out, *d, key);
            out.push(u8::from(*left));
            put_varint(out, *count as u64);
        }
        Effect::ListSet { db: d, key, index, value } => {
            out.push(13);
            db(out, *d, key);
            put_varint(out, *index as u64);
            put_bytes(out, value);
        }
        Effect::ListInsert { db: d, key, index, value } => {
            out.push(14);
            db(out, *d, key);
            put_varint(out, *index as u64);
            put_bytes(out, value);
        }
        Effect::ListRemoveAt { db: d, key, indexes } => {
            out.push(15);
            db(out, *d, key);
            put_varint(out, indexes.len() as u64);
            for i in indexes {
                put_varint(out, *i as u64);
            }
        }
        Effect::ListTrim { db: d, key, start, end } => {
            out.push(16);
            db(out, *d, key);
            put_varint(out, *start as u64);
            put_varint(out, *end as u64);
        }
        Effect::HashSet { db: d, key, pairs } => {
            out.push(17);
            db(out, *d, key);
            put_varint(out, pairs.len() as u64);
            for (f, v) in pairs {
                put_bytes(out, f);
                put_bytes(out, v);
            }
        }
        Effect::HashDel { db: d, key, fields } => {
            out.push(18);
            db(out, *d, key);
            put_list(out, fields.len(), fields.iter());
        }
        Effect::SetAdd { db: d, key, members } => {
            out.push(19);
            db(out, *d, key);
            put_list(out, members.len(), members.iter());
        }
        Effect::SetRem { db: d, key, members } => {
            out.push(20);
            db(out, *d, key);
            put_list(out, members.len(), members.iter());
        }
        Effect::ZAdd { db: d, key, pairs } => {
            out.push(21);
            db(out, *d, key);
            put_varint(out, pairs.len() as u64);
            for (s, m) in pairs {
                put_u64(out, s.to_bits());
                put_bytes(out, m);
            }
        }
        Effect::ZRem { db: d, key, members } => {
            out.push(22);
            db(out, *d, key);
            put_list(out, members.len(), members.iter());
        }
    }
}

/// Decodes an effect. Its database indexes are not checked here: a
/// number beyond the server's databases is a setting to raise, not damage
/// (see [`Effect::highest_db`]).
pub fn get_effect(r: &mut Reader) -> Result<Effect, DecodeError> {
    let tag = r.u8()?;
    if tag == 5 {
        let a = r.u32()?;
        let b = r.u32()?;
        return Ok(Effect::SwapDb { a, b });
    }
    if tag == 6 {
        return Ok(Effect::FlushDb { db: r.u32()? });
    }
    if tag == 7 {
        return Ok(Effect::FlushAll);
    }
    let db = r.u32()?;
    let key = r.bytes()?;
    let left = |r: &mut Reader| -> Result<bool, DecodeError> {
        match r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            t => Err(DecodeError(format!("bad side {t}"))),
        }
    };
    Ok(match tag {
        1 => Effect::Del { db, key },
        2 => Effect::SetExpire { db, key, at: r.opt_time()? },
        3 => Effect::Rename { db, from: key, to: r.bytes()? },
        4 => Effect::Move { db, key, to_db: r.u32()? },
        8 => {
            let expire = match r.u8()? {
                0 => ExpireChange::Clear,
                1 => ExpireChange::Keep,
                2 => ExpireChange::At(r.u64()?),
                t => return Err(DecodeError(format!("bad expire change {t}"))),
            };
            Effect::Put { db, key, expire, value: get_value(r)? }
        }
        9 => Effect::Append { db, key, data: r.bytes()? },
        10 => Effect::SetRange { db, key, offset: r.usize()?, data: r.bytes()? },
        11 => Effect::ListPush { db, key, left: left(r)?, items: r.list()? },
        12 => Effect::ListPop { db, key, left: left(r)?, count: r.usize()? },
        13 => Effect::ListSet { db, key, index: r.usize()?, value: r.bytes()? },
        14 => Effect::ListInsert { db, key, index: r.usize()?, value: r.bytes()? },
        15 => {
            let n = r.count()?;
            let indexes = (0..n).map(|_| r.usize()).collect::<Result<_, _>>()?;
            Effect::ListRemoveAt { db, key, indexes }
        }
        16 => Effect::ListTrim { db, key, start: r.usize()?, end: r.usize()? },
        17 => Effect::HashSet { db, key, pairs: r.pairs()? },
        18 => Effect::HashDel { db, key, fields: r.list()? },
        19 => Effect::SetAdd { db, key, members: r.list()? },
        20 => Effect::SetRem { db, key, members: r.list()? },
        21 => {
            let n = r.count()?;
            let pairs = (0..n).map(|_| Ok((r.f64()?, r.bytes()?))).collect::<Result<_, DecodeError>>()?;
            Effect::ZAdd { db, key, pairs }
        }
        22 => Effect::ZRem { db, key, members: r.list()? },
        t => return Err(DecodeError(format!("unknown effect tag {t}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn every_effect() -> Vec<Effect> {
        let mut z = ZSet::default();
        z.insert(&b("m"), 1.5);
        z.insert(&b("n"), -0.0);
        vec![
            Effect::Del { db: 1, key: b("k") },
            Effect::SetExpire { db: 0, key: b("k"), at: Some(123) },
            Effect::SetExpire { db: 0, key: b("k"), at: None },
            Effect::Rename { db: 0, from: b("a"), to: b("b") },
            Effect::Move { db: 0, key: b("a"), to_db: 3 },
            Effect::SwapDb { a: 0, b: 3 },
            Effect::FlushDb { db: 2 },
            Effect::FlushAll,
            Effect::Put { db: 0, key: b("s"), value: Value::Str(b("v").into()), expire: ExpireChange::Clear },
            Effect::Put { db: 0, key: b("s"), value: Value::Str(b("").into()), expire: ExpireChange::Keep },
            Effect::Put { db: 0, key: b("z"), value: Value::ZSet(z), expire: ExpireChange::At(9) },
            Effect::Put {
                db: 0,
                key: b("h"),
                value: Value::Hash([(b("f"), b("v"))].into_iter().collect()),
                expire: ExpireChange::Clear,
            },
            Effect::Put {
                db: 0,
                key: b("set"),
                value: Value::Set([b("x"), b("y")].into_iter().collect()),
                expire: ExpireChange::Clear,
            },
            Effect::Put {
                db: 0,
                key: b("l"),
                value: Value::List([b("1"), b("2")].into_iter().collect()),
                expire: ExpireChange::Clear,
            },
            Effect::Append { db: 0, key: b("s"), data: b("x") },
            Effect::SetRange { db: 0, key: b("s"), offset: 300, data: b("x") },
            Effect::ListPush { db: 0, key: b("l"), left: true, items: vec![b("a"), b("b")] },
            Effect::ListPop { db: 0, key: b("l"), left: false, count: 2 },
            Effect::ListSet { db: 0, key: b("l"), index: 1, value: b("q") },
            Effect::ListInsert { db: 0, key: b("l"), index: 0, value: b("q") },
            Effect::ListRemoveAt { db: 0, key: b("l"), indexes: vec![0, 5, 700] },
            Effect::ListTrim { db: 0, key: b("l"), start: 1, end: 3 },
            Effect::HashSet { db: 0, key: b("h"), pairs: vec![(b("f"), b("v"))] },
            Effect::HashDel { db: 0, key: b("h"), fields: vec![b("f")] },
            Effect::SetAdd { db: 0, key: b("s"), members: vec![b("m")] },
            Effect::SetRem { db: 0, key: b("s"), members: vec![b("m")] },
            Effect::ZAdd { db: 0, key: b("z"), pairs: vec![(f64::INFINITY, b("m")), (-2.5, b("n"))] },
            Effect::ZRem { db: 0, key: b("z"), members: vec![b("m")] },
        ]
    }

    #[test]
    fn every_effect_round_trips() {
        for e in every_effect() {
            let mut out = Vec::new();
            put_effect(&mut out, &e);
            let mut r = Reader::new(&out);
            assert_eq!(get_effect(&mut r).unwrap(), e);
            r.finish().unwrap();
            // Every strict prefix fails cleanly.
            for cut in 0..out.len() {
                let mut r = Reader::new(&out[..cut]);
                assert!(get_effect(&mut r).and_then(|_| r.finish()).is_err(), "{e:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn a_database_beyond_sixteen_decodes() {
        for e in [Effect::Del { db: 20, key: b("k") }, Effect::SwapDb { a: 1, b: 31 }] {
            let mut out = Vec::new();
            put_effect(&mut out, &e);
            assert_eq!(get_effect(&mut Reader::new(&out)).unwrap(), e);
        }
    }

    proptest! {
        #[test]
        fn varints_round_trip(v in any::<u64>()) {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            prop_assert_eq!(Reader::new(&out).varint().unwrap(), v);
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = get_effect(&mut Reader::new(&bytes));
            let _ = get_entry(&mut Reader::new(&bytes));
        }
    }
}
