//! Reply values and their wire encodings.
//!
//! One [`Frame`] describes a reply independently of the protocol version;
//! [`Frame::encode`] writes it as RESP2 or RESP3. RESP3-only types degrade
//! the way Redis degrades them for RESP2 clients: maps and sets become flat
//! arrays, doubles become bulk strings, booleans become integers.

use bytes::{BufMut, Bytes, BytesMut};
use std::borrow::Cow;

/// The protocol version a connection speaks (`HELLO 2` / `HELLO 3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// RESP2, the default for a new connection.
    #[default]
    Resp2,
    /// RESP3, after `HELLO 3`.
    Resp3,
}

impl Protocol {
    /// The version number as `HELLO` reports it.
    pub fn version(self) -> i64 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}

/// A reply value.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `+OK` style status reply.
    Simple(Cow<'static, str>),
    /// `-ERR ...` error reply; the text includes the error code prefix.
    Error(Cow<'static, str>),
    /// `:123`.
    Integer(i64),
    /// `$3\r\nfoo`.
    Bulk(Bytes),
    /// The null bulk string (`$-1` in RESP2, `_` in RESP3).
    Null,
    /// The null array (`*-1` in RESP2, `_` in RESP3).
    NullArray,
    /// `*N` followed by N frames.
    Array(Vec<Frame>),
    /// RESP3 map (`%N`); a flat array of key, value, ... in RESP2.
    Map(Vec<(Frame, Frame)>),
    /// RESP3 set (`~N`); an array in RESP2.
    Set(Vec<Frame>),
    /// RESP3 double (`,1.5`); a bulk string in RESP2.
    Double(f64),
    /// RESP3 boolean (`#t`); the integer 1 or 0 in RESP2.
    Boolean(bool),
    /// RESP3 verbatim string (`=N\r\ntxt:...`); a bulk string in RESP2.
    Verbatim(Bytes),
    /// RESP3 push frame (`>N`); an array in RESP2.
    Push(Vec<Frame>),
    /// A reply already encoded, the same in both protocols: a long array of
    /// bulk strings ([`Frame::bulk_array`]).
    Encoded(Bytes),
}

/// `+OK`.
pub const OK: Frame = Frame::Simple(Cow::Borrowed("OK"));

impl Frame {
    /// A status reply from a static string.
    pub const fn simple(s: &'static str) -> Frame {
        Frame::Simple(Cow::Borrowed(s))
    }

    /// An error reply from a static string (include the `ERR ` prefix).
    pub const fn error(s: &'static str) -> Frame {
        Frame::Error(Cow::Borrowed(s))
    }

    /// An error reply from an owned string (include the `ERR ` prefix).
    pub fn error_owned(s: String) -> Frame {
        Frame::Error(Cow::Owned(s))
    }

    /// A bulk string copied from a slice.
    pub fn bulk(b: &[u8]) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(b))
    }

    /// An array of bulk strings. A long one is encoded at once: a frame and
    /// a buffer per element cost 2M allocations and three times the memory
    /// for `LRANGE` of a 2M-element list (1.1 s, most of it the kernel
    /// handing out fresh pages).
    pub fn bulk_array<'a>(items: impl ExactSizeIterator<Item = &'a [u8]>) -> Frame {
        const ENCODE_FROM: usize = 256;
        if items.len() < ENCODE_FROM {
            return Frame::Array(items.map(Frame::bulk).collect());
        }
        let mut out = BytesMut::new();
        int_line(&mut out, b'*', items.len() as i64);
        for item in items {
            bulk(&mut out, item);
        }
        Frame::Encoded(out.freeze())
    }

    /// A bulk string from a static string.
    pub fn bulk_static(s: &'static str) -> Frame {
        Frame::Bulk(Bytes::from_static(s.as_bytes()))
    }

    /// A bulk string holding an integer's decimal text.
    pub fn bulk_int(n: i64) -> Frame {
        Frame::Bulk(Bytes::from(n.to_string()))
    }

    /// A bulk string, or the null bulk string for `None`.
    pub fn bulk_or_null(b: Option<Bytes>) -> Frame {
        b.map_or(Frame::Null, Frame::Bulk)
    }

    /// Whether this is an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_))
    }

    /// Appends the encoding of this frame for `proto` to `out`.
    pub fn encode(&self, proto: Protocol, out: &mut BytesMut) {
        let resp3 = proto == Protocol::Resp3;
        match self {
            Frame::Simple(s) => line(out, b'+', s.as_bytes()),
            Frame::Error(s) => line(out, b'-', s.as_bytes()),
            Frame::Integer(n) => int_line(out, b':', *n),
            Frame::Bulk(b) => bulk(out, b),
            Frame::Encoded(b) => out.put_slice(b),
            Frame::Null if resp3 => out.put_slice(b"_\r\n"),
            Frame::Null => out.put_slice(b"$-1\r\n"),
            Frame::NullArray if resp3 => out.put_slice(b"_\r\n"),
            Frame::NullArray => out.put_slice(b"*-1\r\n"),
            Frame::Array(items) => seq(out, b'*', items, proto),
            Frame::Set(items) => seq(out, if resp3 { b'~' } else { b'*' }, items, proto),
            Frame::Push(items) => seq(out, if resp3 { b'>' } else { b'*' }, items, proto),
            Frame::Map(pairs) => {
                if resp3 {
                    int_line(out, b'%', pairs.len() as i64);
                } else {
                    int_line(out, b'*', pairs.len() as i64 * 2);
                }
                for (k, v) in pairs {
                    k.encode(proto, out);
                    v.encode(proto, out);
                }
            }
            Frame::Double(d) => {
                let text = format_double(*d);
                if resp3 {
                    line(out, b',', text.as_bytes());
                } else {
                    bulk(out, text.as_bytes());
                }
            }
            Frame::Boolean(b) if resp3 => out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
            Frame::Boolean(b) => int_line(out, b':', *b as i64),
            Frame::Verbatim(b) if resp3 => {
                int_line(out, b'=', b.len() as i64 + 4);
                out.put_slice(b"txt:");
                out.put_slice(b);
                out.put_slice(b"\r\n");
            }
            Frame::Verbatim(b) => bulk(out, b),
        }
    }
}

impl From<Bytes> for Frame {
    fn from(b: Bytes) -> Frame {
        Frame::Bulk(b)
    }
}

impl From<i64> for Frame {
    fn from(n: i64) -> Frame {
        Frame::Integer(n)
    }
}

/// Formats a double as Redis 7 replies it: the shortest text that reads
/// back as the same value, `inf`/`-inf` for infinities, and exponent form
/// for very large or very small magnitudes.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let abs = d.abs();
    if (1e-5..1e17).contains(&abs) {
        format!("{d}")
    } else {
        // Rust prints `1e21`; Redis (fpconv) prints `1e+21`.
        let s = format!("{d:e}");
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    }
}

fn line(out: &mut BytesMut, prefix: u8, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.put_u8(prefix);
    out.put_slice(text);
    out.put_slice(b"\r\n");
}

/// `prefix`, the decimal text of `n` and CRLF, assembled on the stack and
/// copied into `out` at once (every reply header and integer reply goes
/// through here).
fn int_line(out: &mut BytesMut, prefix: u8, n: i64) {
    let mut buf = [0u8; 24];
    let end = buf.len() - 2;
    buf[end..].copy_from_slice(b"\r\n");
    let start = put_decimal(&mut buf[..end], n) - 1;
    buf[start] = prefix;
    out.extend_from_slice(&buf[start..]);
}

fn bulk(out: &mut BytesMut, data: &[u8]) {
    int_line(out, b'$', data.len() as i64);
    out.reserve(data.len() + 2);
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

fn seq(out: &mut BytesMut, prefix: u8, items: &[Frame], proto: Protocol) {
    int_line(out, prefix, items.len() as i64);
    for item in items {
        item.encode(proto, out);
    }
}

/// A small stack buffer holding an integer's decimal text (see
/// [`itoa_buf`]).
pub struct IntText {
    buf: [u8; 20],
    start: usize,
}

impl IntText {
    /// The decimal text.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

/// The decimal text of `n`, formatted on the stack (no allocation).
pub fn itoa_buf(n: i64) -> IntText {
    let mut buf = [0u8; 20];
    let start = put_decimal(&mut buf, n);
    IntText { buf, start }
}

/// Writes the decimal text of `n` at the end of `buf` (at least 20 bytes)
/// and returns where it starts.
fn put_decimal(buf: &mut [u8], n: i64) -> usize {
    let mut i = buf.len();
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: &Frame, p: Protocol) -> String {
        let mut out = BytesMut::new();
        f.encode(p, &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn a_long_bulk_array_encodes_as_the_frames_would() {
        for n in [0, 1, 255, 256, 1000] {
            let items: Vec<Vec<u8>> = (0..n).map(|i| format!("e{i}").into_bytes()).collect();
            let built = Frame::bulk_array(items.iter().map(Vec::as_slice));
            assert_eq!(matches!(built, Frame::Encoded(_)), n >= 256);
            let frames = Frame::Array(items.iter().map(|i| Frame::bulk(i)).collect());
            for p in [Protocol::Resp2, Protocol::Resp3] {
                assert_eq!(enc(&built, p), enc(&frames, p));
            }
        }
    }

    #[test]
    fn encodes_resp2_degradations() {
        let m = Frame::Map(vec![(Frame::bulk(b"a"), Frame::Integer(1))]);
        assert_eq!(enc(&m, Protocol::Resp2), "*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&m, Protocol::Resp3), "%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&Frame::Double(1.5), Protocol::Resp2), "$3\r\n1.5\r\n");
        assert_eq!(enc(&Frame::Double(1.5), Protocol::Resp3), ",1.5\r\n");
        assert_eq!(enc(&Frame::Null, Protocol::Resp2), "$-1\r\n");
        assert_eq!(enc(&Frame::NullArray, Protocol::Resp2), "*-1\r\n");
        assert_eq!(enc(&Frame::NullArray, Protocol::Resp3), "_\r\n");
        assert_eq!(enc(&Frame::Boolean(true), Protocol::Resp2), ":1\r\n");
        assert_eq!(enc(&Frame::Integer(-120), Protocol::Resp2), ":-120\r\n");
        assert_eq!(enc(&Frame::Integer(i64::MIN), Protocol::Resp2), ":-9223372036854775808\r\n");
    }

    #[test]
    fn formats_doubles_like_redis() {
        assert_eq!(format_double(3.0), "3");
        assert_eq!(format_double(0.1), "0.1");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(1e21), "1e+21");
        assert_eq!(format_double(-2.5e-7), "-2.5e-7");
    }
}
