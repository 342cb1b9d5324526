//! Argument parsing shared by every command: a cursor over the arguments
//! and Redis's number parsers, turning bad input into Redis's exact errors.

use bytes::Bytes;

use super::{CmdResult, NOT_FLOAT, NOT_INT, SYNTAX};
use crate::resp::Frame;

/// A cursor over a command's arguments (the command name excluded).
#[derive(Debug, Clone)]
pub struct Args<'a> {
    name: &'a Bytes,
    rest: &'a [Bytes],
}

impl<'a> Args<'a> {
    /// A cursor over `argv` (`argv[0]` is the command name).
    pub fn new(argv: &'a [Bytes]) -> Args<'a> {
        Args { name: &argv[0], rest: &argv[1..] }
    }

    /// The command name as the client sent it.
    pub fn name(&self) -> &'a Bytes {
        self.name
    }

    /// Number of arguments not yet consumed.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Whether every argument has been consumed.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The arguments not yet consumed, without consuming them.
    pub fn peek_rest(&self) -> &'a [Bytes] {
        self.rest
    }

    /// Consumes and returns all remaining arguments.
    pub fn rest(&mut self) -> &'a [Bytes] {
        std::mem::take(&mut self.rest)
    }

    /// The next argument; `ERR syntax error` if there is none.
    pub fn next_bytes(&mut self) -> Result<&'a Bytes, Frame> {
        let (first, rest) = self.rest.split_first().ok_or(SYNTAX)?;
        self.rest = rest;
        Ok(first)
    }

    /// The next argument as an integer (`ERR value is not an integer or out of range`).
    pub fn next_i64(&mut self) -> Result<i64, Frame> {
        parse_i64(self.next_bytes()?).ok_or(NOT_INT)
    }

    /// The next argument as a double (`ERR value is not a valid float`).
    pub fn next_f64(&mut self) -> Result<f64, Frame> {
        parse_f64(self.next_bytes()?).ok_or(NOT_FLOAT)
    }

    /// Consumes the next argument if it equals `keyword` (ASCII case-insensitive).
    pub fn eat(&mut self, keyword: &str) -> bool {
        match self.rest.first() {
            Some(a) if a.eq_ignore_ascii_case(keyword.as_bytes()) => {
                self.rest = &self.rest[1..];
                true
            }
            _ => false,
        }
    }

    /// `ERR syntax error` unless every argument was consumed.
    pub fn finish(&self) -> Result<(), Frame> {
        if self.rest.is_empty() { Ok(()) } else { Err(SYNTAX) }
    }
}

/// Parses an integer as Redis's `string2ll` does (no spaces, no `+`, no
/// leading zeros, no overflow).
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    crate::resp::decode::parse_i64(s)
}

/// Parses a `SCAN`/`HSCAN`/`SSCAN`/`ZSCAN` cursor as Redis does
/// (`strtoul`: an optional sign, then decimal digits that fit; a negative
/// value wraps; an empty argument is 0), or `ERR invalid cursor`.
pub fn parse_cursor(arg: &[u8]) -> Result<u64, Frame> {
    const INVALID: Frame = Frame::error("ERR invalid cursor");
    let (neg, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() {
        // strtoul parses nothing: valid only for an empty argument.
        return if arg.is_empty() { Ok(0) } else { Err(INVALID) };
    }
    let mut n: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(INVALID);
        }
        n = n.checked_mul(10).and_then(|n| n.checked_add(u64::from(c - b'0'))).ok_or(INVALID)?;
    }
    Ok(if neg { n.wrapping_neg() } else { n })
}

/// Parses a double as Redis does for scores and increments: `inf`,
/// `+inf`, `-inf` (any case) and decimal/exponent forms; no spaces, no NaN.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    if text.is_empty() || text.starts_with(|c: char| c.is_whitespace()) || text.ends_with(|c: char| c.is_whitespace()) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => return Some(f64::INFINITY),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    if lower.contains("nan") || lower.contains("inf") {
        return None;
    }
    let v: f64 = text.parse().ok()?;
    (!v.is_nan()).then_some(v)
}

/// Parses a timeout in (fractional) seconds for blocking commands, as
/// milliseconds; `0` means forever (`None` inside `Ok`). `now_ms` is the
/// current time: the deadline must fit in a signed 64-bit millisecond count.
///
/// As Redis: the text is read as `strtold` reads it (decimal or hexadecimal,
/// `inf`, no NaN, no spaces); the milliseconds are rounded up, so anything
/// above -1 ms means 0 (forever). Past `LLONG_MAX` milliseconds (`inf`
/// included) is "out of range" as in Redis 7.2; Redis 7.0 converts such a
/// value to an integer without a check and calls it negative.
pub fn parse_timeout(s: &[u8], now_ms: u64) -> Result<Option<u64>, Frame> {
    const OUT_OF_RANGE: Frame = Frame::error("ERR timeout is out of range");
    let secs = super::float::parse_operand(s).ok_or(Frame::error("ERR timeout is not a float or out of range"))?;
    if secs == 0.0 && underflows(s) {
        // Positive but below what a double holds (1e-400): Redis reads it
        // in long double and rounds it up to 1 ms; 0 would mean forever.
        return Ok(Some(1));
    }
    let ms = secs * 1000.0;
    if ms > i64::MAX as f64 {
        return Err(OUT_OF_RANGE);
    }
    let ms = ms.ceil();
    if ms < 0.0 {
        return Err(Frame::error("ERR timeout is negative"));
    }
    // At most 2^63 here: the cast is exact or saturates.
    let ms = ms as u64;
    if ms > (i64::MAX as u64).saturating_sub(now_ms) {
        return Err(OUT_OF_RANGE);
    }
    Ok(if ms == 0 { None } else { Some(ms) })
}

/// Whether the number `s` (already parsed as 0.0) is positive but too small
/// for a double: a non-zero digit before its exponent, and no minus sign.
fn underflows(s: &[u8]) -> bool {
    let s = s.strip_prefix(b"+").unwrap_or(s);
    let (hex, digits) = match s {
        [b'0', b'x' | b'X', rest @ ..] => (true, rest),
        _ if s.starts_with(b"-") => return false,
        _ => (false, s),
    };
    let exponent = |c: &u8| if hex { matches!(c, b'p' | b'P') } else { matches!(c, b'e' | b'E') };
    let nonzero = |c: &u8| if hex { c.is_ascii_hexdigit() && *c != b'0' } else { matches!(c, b'1'..=b'9') };
    digits.iter().take_while(|c| !exponent(c)).any(nonzero)
}

/// Which of two keywords `arg` is (any case): `Ok(true)` for `yes`,
/// `Ok(false)` for `no`, Redis's syntax error for anything else
/// (`LEFT|RIGHT`, `BEFORE|AFTER`, `BYTE|BIT`, `MIN|MAX`).
pub fn one_of(arg: &[u8], yes: &str, no: &str) -> Result<bool, Frame> {
    if arg.eq_ignore_ascii_case(yes.as_bytes()) {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(no.as_bytes()) {
        Ok(false)
    } else {
        Err(SYNTAX)
    }
}

/// A result with Redis's syntax error.
pub fn syntax<T>() -> Result<T, Frame> {
    Err(SYNTAX)
}

/// Shorthand for a command result that is an integer reply.
pub fn int(n: i64) -> CmdResult {
    Ok(Frame::Integer(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        // Redis refuses "-0" as an integer argument (LINDEX l -0, INCRBY k -0).
        for s in ["-0", "+1", "01", "-01", " 1", "1 ", "", "-", "9223372036854775808"] {
            assert_eq!(parse_i64(s.as_bytes()), None, "{s}");
        }
    }

    #[test]
    fn scan_cursors_follow_strtoul() {
        assert_eq!(parse_cursor(b"0"), Ok(0));
        assert_eq!(parse_cursor(b"+5"), Ok(5));
        assert_eq!(parse_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_cursor(b""), Ok(0));
        for s in ["18446744073709551616", "+", "-", " 1", "1x", "abc"] {
            assert_eq!(parse_cursor(s.as_bytes()), Err(Frame::error("ERR invalid cursor")), "{s}");
        }
    }

    #[test]
    fn floats_follow_redis() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b""), None);
        assert_eq!(parse_f64(b"abc"), None);
    }

    #[test]
    fn timeouts() {
        let now = 1_700_000_000_000;
        let t = |s: &str| parse_timeout(s.as_bytes(), now);
        let err = |s: &str| match t(s) {
            Err(Frame::Error(e)) => e.to_string(),
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(t("0"), Ok(None));
        assert_eq!(t("0.1"), Ok(Some(100)));
        assert_eq!(t("0.0001"), Ok(Some(1)));
        assert_eq!(t("0x10"), Ok(Some(16_000)));
        assert_eq!(t("1e3"), Ok(Some(1_000_000)));
        assert_eq!(t("1e13"), Ok(Some(10_000_000_000_000_000)));
        // Above -1 ms rounds up to 0: wait forever, as in Redis.
        assert_eq!(t("-0"), Ok(None));
        assert_eq!(t("-0.0001"), Ok(None));
        // Positive but below a double's range: the shortest wait, not forever.
        assert_eq!(t("1e-400"), Ok(Some(1)));
        assert_eq!(t("0x1p-2000"), Ok(Some(1)));
        assert_eq!(t("-1e-400"), Ok(None));
        assert_eq!(t("0e-400"), Ok(None));
        for s in ["-1", "-0.5", "-inf", "-1e300"] {
            assert_eq!(err(s), "ERR timeout is negative", "{s}");
        }
        for s in ["inf", "1e16", "9223372036854775"] {
            assert_eq!(err(s), "ERR timeout is out of range", "{s}");
        }
        for s in ["x", "", "nan", " 1", "1 ", "1x"] {
            assert_eq!(err(s), "ERR timeout is not a float or out of range", "{s}");
        }
    }
}
