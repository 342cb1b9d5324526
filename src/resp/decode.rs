//! Request decoding: RESP2 multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and
//! inline commands (`GET k\r\n`, as `telnet` sends them).
//!
//! The [`Decoder`] is incremental: it consumes whole arguments from the
//! front of the input as they arrive and remembers how far into a multibulk
//! it is, so a command that trickles in byte by byte costs linear time and a
//! declared length is never allocated before its bytes are there. Needing
//! more input is not an error: [`Decoder::decode`] returns `Ok(None)`.

use bytes::{Buf, Bytes, BytesMut};

/// Input limits, checked before any memory is committed.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest bulk argument (`proto-max-bulk-len`).
    pub max_bulk_len: usize,
    /// Largest multibulk argument count (Redis: `INT_MAX`).
    pub max_multibulk_len: usize,
    /// Longest inline command line.
    pub max_inline_len: usize,
    /// Most memory the arguments of one command may hold while it arrives
    /// (the query buffer limit): each argument counts its bytes and
    /// [`ARG_OVERHEAD`], so a flood of empty arguments is bounded too.
    pub max_command_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_multibulk_len: i32::MAX as usize,
            max_inline_len: 64 * 1024,
            max_command_bytes: 1024 * 1024 * 1024,
        }
    }
}

/// What an argument costs besides its bytes (its handle and slot), for
/// [`Limits::max_command_bytes`].
pub const ARG_OVERHEAD: usize = 40;

/// A broken protocol stream. The text is what follows `-ERR ` in the reply;
/// the connection is closed after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProtocolError {}

fn err<T>(msg: &str) -> Result<T, ProtocolError> {
    Err(ProtocolError(format!("Protocol error: {msg}")))
}

/// Incremental command decoder; one per connection.
#[derive(Debug, Default)]
pub struct Decoder {
    limits: Limits,
    /// Arguments of a multibulk still in progress, and how many remain.
    partial: Option<(Vec<Bytes>, usize)>,
    /// Memory the arguments in `partial` hold (see [`Limits::max_command_bytes`]).
    partial_bytes: usize,
    /// Length of a bulk header already parsed whose payload is not all here.
    pending_bulk: Option<usize>,
    /// The client must authenticate: Redis's tighter limits apply.
    unauthenticated: bool,
}

/// Most arguments a multibulk from an unauthenticated client may declare.
pub const UNAUTHENTICATED_MAX_MULTIBULK: i64 = 10;
/// Longest bulk argument an unauthenticated client may send.
pub const UNAUTHENTICATED_MAX_BULK: i64 = 16384;

/// The longest a length line (`*N` or `$N`) may be before it is refused.
const MAX_LENGTH_LINE: usize = 64 * 1024;

impl Decoder {
    /// A decoder enforcing `limits`.
    pub fn new(limits: Limits) -> Decoder {
        Decoder { limits, ..Decoder::default() }
    }

    /// Applies (or lifts) Redis's limits for a client that must
    /// authenticate first: at most [`UNAUTHENTICATED_MAX_MULTIBULK`]
    /// arguments, each at most [`UNAUTHENTICATED_MAX_BULK`] bytes, checked
    /// as each length is read.
    pub fn set_unauthenticated(&mut self, on: bool) {
        self.unauthenticated = on;
    }

    /// Whether a command has been started but not finished.
    pub fn in_progress(&self) -> bool {
        self.partial.is_some()
    }

    /// Bytes the decoder knows it needs before it can make progress (the
    /// payload of a bulk argument whose header it has read), if known.
    pub fn bytes_wanted(&self) -> Option<usize> {
        self.pending_bulk.map(|n| n + 2)
    }

    /// Decodes the next complete command from the front of `buf`, consuming
    /// what it parses. `Ok(None)`: more input is needed. An empty argument
    /// vector never comes out (empty inline lines and `*0` are skipped).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        // Parsing walks `pos` forward and consumes once at the end: one
        // `advance` per call rather than one per line and argument.
        let mut pos = 0;
        let result = self.decode_from(buf, &mut pos);
        buf.advance(pos);
        result
    }

    /// [`Decoder::decode`] over `buf[*pos..]`, moving `pos` past whatever it
    /// consumed (also when it returns `Ok(None)` with a command in progress).
    fn decode_from(&mut self, buf: &[u8], pos: &mut usize) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        loop {
            if self.partial.is_none() {
                let Some(&first) = buf.get(*pos) else {
                    return Ok(None);
                };
                if first != b'*' {
                    match self.decode_inline(buf, pos)? {
                        Some(args) if args.is_empty() => continue,
                        other => return Ok(other),
                    }
                }
                let Some(n) = read_length_line(buf, pos, b'*')? else {
                    return Ok(None);
                };
                if n > self.limits.max_multibulk_len as i64 {
                    return err("invalid multibulk length");
                }
                if self.unauthenticated && n > UNAUTHENTICATED_MAX_MULTIBULK {
                    return err("unauthenticated multibulk length");
                }
                if n <= 0 {
                    continue;
                }
                let n = n as usize;
                self.partial = Some((Vec::with_capacity(n.min(1024)), n));
                self.partial_bytes = 0;
            }
            let (args, remaining) = self.partial.as_mut().expect("partial set above");
            while *remaining > 0 {
                let len = match self.pending_bulk {
                    Some(len) => len,
                    None => {
                        let Some(&first) = buf.get(*pos) else {
                            return Ok(None);
                        };
                        if first != b'$' {
                            return Err(ProtocolError(format!(
                                "Protocol error: expected '$', got '{}'",
                                first as char
                            )));
                        }
                        let Some(len) = read_length_line(buf, pos, b'$')? else {
                            return Ok(None);
                        };
                        if len < 0 || len > self.limits.max_bulk_len as i64 {
                            return err("invalid bulk length");
                        }
                        if self.unauthenticated && len > UNAUTHENTICATED_MAX_BULK {
                            return err("unauthenticated bulk length");
                        }
                        self.partial_bytes += len as usize + ARG_OVERHEAD;
                        if self.partial_bytes > self.limits.max_command_bytes {
                            return err("client query buffer limit exceeded");
                        }
                        self.pending_bulk = Some(len as usize);
                        len as usize
                    }
                };
                let rest = &buf[*pos..];
                if rest.len() < len + 2 {
                    if rest.len() > len && rest[len] != b'\r' {
                        return err("expected CRLF after bulk argument");
                    }
                    return Ok(None);
                }
                if &rest[len..len + 2] != b"\r\n" {
                    return err("expected CRLF after bulk argument");
                }
                args.push(Bytes::copy_from_slice(&rest[..len]));
                *pos += len + 2;
                self.pending_bulk = None;
                *remaining -= 1;
            }
            let (args, _) = self.partial.take().expect("partial set above");
            return Ok(Some(args));
        }
    }

    fn decode_inline(&mut self, buf: &[u8], pos: &mut usize) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let rest = &buf[*pos..];
        let Some(nl) = memchr(b'\n', rest) else {
            if rest.len() > self.limits.max_inline_len {
                return err("too big inline request");
            }
            return Ok(None);
        };
        if nl > self.limits.max_inline_len {
            return err("too big inline request");
        }
        let mut line = &rest[..nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let args =
            split_args(line).ok_or_else(|| ProtocolError("Protocol error: unbalanced quotes in request".into()))?;
        *pos += nl + 1;
        Ok(Some(args))
    }
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// Reads `<prefix><integer>\r\n` from `buf[*pos..]`, moving `pos` past it.
fn read_length_line(buf: &[u8], pos: &mut usize, prefix: u8) -> Result<Option<i64>, ProtocolError> {
    let rest = &buf[*pos..];
    debug_assert_eq!(rest.first(), Some(&prefix));
    // The common case in one pass: 1 to 18 digits (no sign, no leading
    // zero, no overflow possible), then CRLF. Anything else takes the
    // general path below.
    let mut i = 1;
    let mut n: i64 = 0;
    while let Some(&d) = rest.get(i).filter(|d| d.is_ascii_digit() && i <= 18) {
        n = n * 10 + i64::from(d - b'0');
        i += 1;
    }
    if i > 1 && (rest[1] != b'0' || i == 2) && rest.get(i) == Some(&b'\r') && rest.get(i + 1) == Some(&b'\n') {
        *pos += i + 2;
        return Ok(Some(n));
    }
    let Some(cr) = memchr(b'\r', rest) else {
        if rest.len() > MAX_LENGTH_LINE {
            return err(if prefix == b'*' { "too big mbulk count string" } else { "too big bulk count string" });
        }
        return Ok(None);
    };
    if cr + 1 >= rest.len() {
        return Ok(None);
    }
    if rest[cr + 1] != b'\n' {
        return err("expected CRLF after length");
    }
    let n = parse_i64(&rest[1..cr]).ok_or_else(|| {
        ProtocolError(
            if prefix == b'*' {
                "Protocol error: invalid multibulk length"
            } else {
                "Protocol error: invalid bulk length"
            }
            .into(),
        )
    })?;
    *pos += cr + 2;
    Ok(Some(n))
}

/// Parses a strict decimal integer (optional `-`, digits only, no overflow).
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = (d - b'0') as i64;
        v = if neg { v.checked_mul(10)?.checked_sub(d)? } else { v.checked_mul(10)?.checked_add(d)? };
    }
    if neg && v == 0 {
        return None;
    }
    Some(v)
}

/// Splits an inline command line the way Redis's `sdssplitargs` does:
/// whitespace separates arguments; `"..."` supports `\n \r \t \b \a \\ \"
/// \xHH` escapes; `'...'` supports `\'`. `None` for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Bytes>> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' && is_hex(line[i + 2]) && is_hex(line[i + 3]) {
                    cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if in_sq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    // Only these end an unquoted argument; a vertical tab
                    // or form feed is skipped before one but belongs to it.
                    b' ' | b'\t' | b'\n' | b'\r' => break,
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(Bytes::from(cur));
    }
}

/// What is skipped before an inline argument and must follow a closing
/// quote (C's `isspace`).
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex(c: u8) -> u8 {
    (c as char).to_digit(16).unwrap_or(0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_lines_read_as_the_strict_integer_parser_reads_them() {
        let digits = ["0", "1", "7", "01", "00", "10", "-1", "-0", "+1", "1a", "", "123456789012345678"];
        let long = ["1234567890123456789", "9223372036854775807", "9223372036854775808", "99999999999999999999"];
        for body in digits.iter().chain(long.iter()) {
            for tail in ["\r\n", "\r", "", "\rx", "x\r\n"] {
                let line = format!("${body}{tail}");
                let mut pos = 0;
                let got = read_length_line(line.as_bytes(), &mut pos, b'$');
                // The reference: find CR, demand LF, parse strictly.
                let want: Result<Option<i64>, ()> = match line.find('\r') {
                    None => Ok(None),
                    Some(cr) if cr + 1 >= line.len() => Ok(None),
                    Some(cr) if line.as_bytes()[cr + 1] != b'\n' => Err(()),
                    Some(cr) => parse_i64(&line.as_bytes()[1..cr]).map(Some).ok_or(()),
                };
                assert_eq!(got.as_ref().map_err(|_| ()).cloned(), want, "{line:?}");
                if let Ok(Some(_)) = got {
                    assert_eq!(pos, line.len(), "{line:?}");
                }
            }
        }
    }

    fn all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut d = Decoder::default();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(cmd) = d.decode(&mut buf)? {
            out.push(cmd);
        }
        Ok(out)
    }

    #[test]
    fn decodes_multibulk_and_inline() {
        let cmds = all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n\r\nset a \"b c\"\n*0\r\n").unwrap();
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0], vec![Bytes::from("GET"), Bytes::from("k")]);
        assert_eq!(cmds[1], vec![Bytes::from("PING")]);
        assert_eq!(cmds[2], vec![Bytes::from("set"), Bytes::from("a"), Bytes::from("b c")]);
    }

    #[test]
    fn unauthenticated_limits() {
        let mut d = Decoder::default();
        d.set_unauthenticated(true);
        let big = format!("*2\r\n$3\r\nSET\r\n${}\r\n{}\r\n", 16385, "x".repeat(16385));
        let err = d.decode(&mut BytesMut::from(big.as_bytes())).unwrap_err();
        assert_eq!(err.0, "Protocol error: unauthenticated bulk length");
        let mut d = Decoder::default();
        d.set_unauthenticated(true);
        let many = format!("*11\r\n{}", "$1\r\nx\r\n".repeat(11));
        let err = d.decode(&mut BytesMut::from(many.as_bytes())).unwrap_err();
        assert_eq!(err.0, "Protocol error: unauthenticated multibulk length");
        // At the limits, and once authenticated, commands decode.
        let mut d = Decoder::default();
        d.set_unauthenticated(true);
        let ok = format!("*10\r\n$16384\r\n{}\r\n{}", "y".repeat(16384), "$1\r\nx\r\n".repeat(9));
        assert_eq!(d.decode(&mut BytesMut::from(ok.as_bytes())).unwrap().unwrap().len(), 10);
        d.set_unauthenticated(false);
        assert_eq!(d.decode(&mut BytesMut::from(many.as_bytes())).unwrap().unwrap().len(), 11);
        // The inline protocol has no such limits in Redis.
        d.set_unauthenticated(true);
        let inline = format!("{}\r\n", "a ".repeat(20));
        assert_eq!(d.decode(&mut BytesMut::from(inline.as_bytes())).unwrap().unwrap().len(), 20);
    }

    #[test]
    fn every_split_point_yields_the_same_command() {
        let input = b"*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$0\r\n\r\n";
        for cut in 0..input.len() {
            let mut d = Decoder::default();
            let mut buf = BytesMut::from(&input[..cut]);
            assert_eq!(d.decode(&mut buf).unwrap(), None, "cut at {cut}");
            buf.extend_from_slice(&input[cut..]);
            let cmd = d.decode(&mut buf).unwrap().unwrap();
            assert_eq!(cmd, vec![Bytes::from("SET"), Bytes::from("hello"), Bytes::new()]);
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn rejects_bad_lengths() {
        assert_eq!(all(b"*abc\r\n").unwrap_err().0, "Protocol error: invalid multibulk length");
        assert_eq!(all(b"*1\r\n$-2\r\n").unwrap_err().0, "Protocol error: invalid bulk length");
        assert_eq!(all(b"*2147483648\r\n").unwrap_err().0, "Protocol error: invalid multibulk length");
        assert_eq!(all(b"*1\r\n$600000000\r\n").unwrap_err().0, "Protocol error: invalid bulk length");
        assert_eq!(all(b"*1\r\n+x\r\n").unwrap_err().0, "Protocol error: expected '$', got '+'");
        assert!(all(b"*1\r\n$1\r\nabc\r\n").is_err());
        assert_eq!(all(b"set a \"b\n").unwrap_err().0, "Protocol error: unbalanced quotes in request");
    }

    #[test]
    fn a_command_arriving_is_bounded_by_the_query_buffer_limit() {
        let limits = Limits { max_command_bytes: 1000, ..Limits::default() };
        // More than a million arguments are fine (Redis allows INT_MAX)...
        let mut d = Decoder::new(Limits::default());
        let many = format!("*1100000\r\n{}", "$1\r\nx\r\n".repeat(1_100_000));
        assert_eq!(d.decode(&mut BytesMut::from(many.as_bytes())).unwrap().unwrap().len(), 1_100_000);
        // ...but what the arguments of one command hold is bounded, empty
        // ones included, as the input they came from has been consumed.
        let mut d = Decoder::new(limits);
        let empties = format!("*100\r\n{}", "$0\r\n\r\n".repeat(100));
        let err = d.decode(&mut BytesMut::from(empties.as_bytes())).unwrap_err();
        assert_eq!(err.0, "Protocol error: client query buffer limit exceeded");
        let mut d = Decoder::new(limits);
        let fits = format!("*2\r\n$400\r\n{}\r\n$400\r\n{}\r\n", "a".repeat(400), "b".repeat(400));
        assert_eq!(d.decode(&mut BytesMut::from(fits.as_bytes())).unwrap().unwrap().len(), 2);
        // Refused at the length of the argument that would pass the limit.
        let mut d = Decoder::new(limits);
        let mut buf = BytesMut::from(format!("*2\r\n$500\r\n{}\r\n", "a".repeat(500)).as_bytes());
        assert!(d.decode(&mut buf).unwrap().is_none());
        assert!(d.decode(&mut BytesMut::from(&b"$500\r\n"[..])).is_err());
    }

    #[test]
    fn huge_declared_length_allocates_nothing_up_front() {
        let mut d = Decoder::default();
        let mut buf = BytesMut::from(&b"*1048576\r\n$536870912\r\nab"[..]);
        assert_eq!(d.decode(&mut buf).unwrap(), None);
        assert!(buf.capacity() < 1 << 20);
    }

    #[test]
    fn inline_with_nul_and_vertical_space_terminates() {
        // Regression: a NUL byte once made the inline splitter loop forever.
        // A vertical tab or form feed is skipped before an argument and kept
        // inside one, as Redis's sdssplitargs does.
        let cmds = all(b"a\0b c\x0bd \x0b\x0ce\x0c\r\n").unwrap();
        assert_eq!(cmds, vec![vec![Bytes::from_static(b"a\0b"), Bytes::from("c\x0bd"), Bytes::from("e\x0c")]]);
    }

    #[test]
    fn inline_limit() {
        let long = vec![b'a'; 70 * 1024];
        assert_eq!(all(&long).unwrap_err().0, "Protocol error: too big inline request");
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"012"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
    }
}
