//! Float increments as Redis performs them (`INCRBYFLOAT`, `HINCRBYFLOAT`).

use super::args::parse_f64;

/// The text Redis stores for `a + b` in `HINCRBYFLOAT`/`INCRBYFLOAT`
/// (`a_text`, `b_text` are the operands as written, `a`, `b` their values),
/// or `None` if the sum is not finite.
///
/// Redis adds in `long double` and prints with `%.17Lf`, trailing zeros
/// trimmed. The sum here is exact decimal arithmetic on the operands' text,
/// rounded to 17 fractional digits: the same text as Redis wherever
/// `long double` carries enough digits (`0.1 + 0.2` is `0.3`, `5e17 + 1` is
/// `500000000000000001`); Redis shows binary rounding noise in the last
/// digits of values needing more than about 19 significant digits. Values
/// are kept within the `double` range: a sum past it (`1e308 + 1e308`) is
/// refused here, where Redis's `long double` still stores its 309 digits.
pub fn add_floats(a_text: &[u8], a: f64, b_text: &[u8], b: f64) -> Option<String> {
    if !(a + b).is_finite() {
        return None;
    }
    let text = match (Decimal::parse(a_text), Decimal::parse(b_text)) {
        (Some(x), Some(y)) => x.add(&y).to_text(17),
        _ => format_human(a + b),
    };
    parse_f64(text.as_bytes()).is_some_and(f64::is_finite).then_some(text)
}

/// Parses an `INCRBYFLOAT`/`HINCRBYFLOAT` operand (increment or stored
/// value) as Redis does with `strtold`: the whole text, no leading space, no
/// NaN, decimal or hexadecimal (`0x10`, `0x1p3`) forms.
pub fn parse_operand(s: &[u8]) -> Option<f64> {
    parse_f64(s).or_else(|| {
        if s.first().is_some_and(|c| c.is_ascii_whitespace()) {
            return None;
        }
        super::zset::strtod(s).map(|(v, _)| v)
    })
}

/// An exact decimal number: `digits × 10^-scale`, negated if `neg`.
#[derive(Debug, Clone, PartialEq)]
struct Decimal {
    neg: bool,
    /// Decimal digits (0..=9), most significant first.
    digits: Vec<u8>,
    scale: usize,
}

impl Decimal {
    /// Longest digit string handled exactly (beyond the range of `f64`
    /// text forms that matter here).
    const MAX_DIGITS: usize = 1200;

    /// Parses `[+-]digits[.digits][e[+-]digits]`; `None` for other forms.
    fn parse(s: &[u8]) -> Option<Decimal> {
        let (neg, mut i) = match s.first() {
            Some(b'-') => (true, 1),
            Some(b'+') => (false, 1),
            _ => (false, 0),
        };
        let mut digits = Vec::new();
        let mut scale: i64 = 0;
        let mut any = false;
        while let Some(c) = s.get(i).filter(|c| c.is_ascii_digit()) {
            digits.push(c - b'0');
            any = true;
            i += 1;
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            while let Some(c) = s.get(i).filter(|c| c.is_ascii_digit()) {
                digits.push(c - b'0');
                scale += 1;
                any = true;
                i += 1;
            }
        }
        if !any {
            return None;
        }
        if matches!(s.get(i), Some(b'e' | b'E')) {
            i += 1;
            let exp_neg = match s.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let start = i;
            let mut exp: i64 = 0;
            while let Some(c) = s.get(i).filter(|c| c.is_ascii_digit()) {
                exp = (exp * 10 + i64::from(c - b'0')).min(1 << 20);
                i += 1;
            }
            if i == start {
                return None;
            }
            scale += if exp_neg { exp } else { -exp };
        }
        if i != s.len() {
            return None;
        }
        // Drop leading zeros so the length check below means something.
        let first = digits.iter().position(|&d| d != 0).unwrap_or(digits.len());
        digits.drain(..first);
        if scale < 0 {
            digits.extend(std::iter::repeat_n(0, scale.unsigned_abs() as usize).take(Self::MAX_DIGITS + 1));
            scale = 0;
        }
        (digits.len() <= Self::MAX_DIGITS && scale <= Self::MAX_DIGITS as i64).then_some(Decimal {
            neg,
            digits,
            scale: scale as usize,
        })
    }

    /// This number's digits padded to `scale` fractional digits and `len` digits in all.
    fn aligned(&self, scale: usize, len: usize) -> Vec<u8> {
        let mut v = self.digits.clone();
        v.resize(v.len() + scale - self.scale, 0);
        let mut out = vec![0; len - v.len()];
        out.extend(v);
        out
    }

    /// The exact sum.
    fn add(&self, other: &Decimal) -> Decimal {
        let scale = self.scale.max(other.scale);
        let len = (self.digits.len() + scale - self.scale).max(other.digits.len() + scale - other.scale) + 1;
        let (a, b) = (self.aligned(scale, len), other.aligned(scale, len));
        let (neg, digits) = if self.neg == other.neg {
            let mut out = vec![0; len];
            let mut carry = 0;
            for i in (0..len).rev() {
                let d = a[i] + b[i] + carry;
                out[i] = d % 10;
                carry = d / 10;
            }
            (self.neg, out)
        } else {
            // Subtract the smaller magnitude from the larger.
            let (big, small, neg) = if a >= b { (&a, &b, self.neg) } else { (&b, &a, other.neg) };
            let mut out = vec![0; len];
            let mut borrow = 0;
            for i in (0..len).rev() {
                let mut d = big[i] as i8 - small[i] as i8 - borrow;
                borrow = i8::from(d < 0);
                if d < 0 {
                    d += 10;
                }
                out[i] = d as u8;
            }
            (neg, out)
        };
        Decimal { neg, digits, scale }
    }

    /// Plain decimal text rounded (half away from zero) to at most
    /// `max_frac` fractional digits, trailing zeros trimmed, never `-0`.
    fn to_text(&self, max_frac: usize) -> String {
        let mut digits = self.digits.clone();
        let mut scale = self.scale;
        if scale > max_frac {
            let cut = scale - max_frac;
            let keep = digits.len().saturating_sub(cut);
            let round_up = digits.get(keep).is_some_and(|&d| d >= 5) && digits.len() >= cut;
            digits.truncate(keep);
            scale = max_frac;
            if round_up {
                let mut i = digits.len();
                loop {
                    if i == 0 {
                        digits.insert(0, 1);
                        break;
                    }
                    i -= 1;
                    if digits[i] == 9 {
                        digits[i] = 0;
                    } else {
                        digits[i] += 1;
                        break;
                    }
                }
            }
        }
        if digits.len() <= scale {
            let mut padded = vec![0; scale + 1 - digits.len()];
            padded.extend(digits);
            digits = padded;
        }
        let (int, frac) = digits.split_at(digits.len() - scale);
        let int_start = int.iter().position(|&d| d != 0).unwrap_or(int.len() - 1);
        let frac_end = frac.iter().rposition(|&d| d != 0).map_or(0, |p| p + 1);
        let mut s = String::new();
        if self.neg && (int.iter().any(|&d| d != 0) || frac_end > 0) {
            s.push('-');
        }
        s.extend(int[int_start..].iter().map(|&d| char::from(b'0' + d)));
        if frac_end > 0 {
            s.push('.');
            s.extend(frac[..frac_end].iter().map(|&d| char::from(b'0' + d)));
        }
        s
    }
}

/// Formats a float as plain decimal text with at most 17 fractional
/// digits, trailing zeros trimmed, `-0` written as `0` (the fallback of
/// [`add_floats`] for operands it cannot read exactly).
pub fn format_human(v: f64) -> String {
    let mut s = format!("{v}");
    if s.find('.').is_some_and(|dot| s.len() - dot - 1 > 17) {
        s = format!("{v:.17}");
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(a: &str, b: &str) -> String {
        add_floats(a.as_bytes(), parse_f64(a.as_bytes()).unwrap(), b.as_bytes(), parse_f64(b.as_bytes()).unwrap())
            .unwrap()
    }

    #[test]
    fn operands_take_hexadecimal_forms_like_strtold() {
        // Found by comparing with redis-server: `INCRBYFLOAT k 0x10` adds 16.
        assert_eq!(parse_operand(b"0x10"), Some(16.0));
        assert_eq!(parse_operand(b"0X1p3"), Some(8.0));
        assert_eq!(parse_operand(b"-0x8"), Some(-8.0));
        assert_eq!(parse_operand(b"0x"), None);
        assert_eq!(parse_operand(b" 0x10"), None);
        assert_eq!(parse_operand(b"0x10 "), None);
        assert_eq!(add_floats(b"1", 1.0, b"0x10", 16.0).as_deref(), Some("17"));
    }

    #[test]
    fn float_sums_read_like_redis() {
        // Replies of redis-server 7.0 to HINCRBYFLOAT with these operands.
        assert_eq!(sum("0.1", "0.2"), "0.3");
        assert_eq!(sum("10.5", "0.1"), "10.6");
        assert_eq!(sum("0", "1e20"), "100000000000000000000");
        assert_eq!(sum("0", "1e-20"), "0");
        assert_eq!(sum("0", "-1e-20"), "0");
        assert_eq!(sum("0", "-0.0"), "0");
        assert_eq!(sum("0", "5.0e3"), "5000");
        assert_eq!(sum("0", "3.0e-5"), "0.00003");
        assert_eq!(sum("5e17", "1"), "500000000000000001");
        assert_eq!(sum("0", "1.2345678901234567"), "1.2345678901234567");
        assert_eq!(sum("2.5", "-2.5"), "0");
        assert_eq!(sum("1", "-2.25"), "-1.25");
        assert_eq!(sum("-0.000000000000000009", "0"), "-0.00000000000000001");
        assert_eq!(sum("0.999999999999999999", "0"), "1");
        assert_eq!(sum("+.5", "5."), "5.5");
        assert_eq!(sum("1E+2", "-1e-1"), "99.9");
        assert_eq!(add_floats(b"1.7e308", 1.7e308, b"1.7e308", 1.7e308), None);
        assert_eq!(format_human(-0.0), "0");
        assert_eq!(format_human(1.5e-10), "0.00000000015");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]

        /// Sums of binary fractions are exact in `f64` and in decimal: both
        /// ways must give the same text.
        #[test]
        fn decimal_sums_agree_with_exact_binary_sums(a in -1_000_000i64..1_000_000, b in -1_000_000i64..1_000_000) {
            let (x, y) = (a as f64 / 1024.0, b as f64 / 1024.0);
            let (xs, ys) = (format!("{x}"), format!("{y}"));
            let mut want = format!("{}", x + y);
            if want == "-0" {
                want = "0".into();
            }
            proptest::prop_assert_eq!(add_floats(xs.as_bytes(), x, ys.as_bytes(), y), Some(want));
        }

        /// For any operands the text reads back as the `f64` sum, to within
        /// the 17 fractional digits kept.
        #[test]
        fn decimal_sums_read_back_close(x in -1e12f64..1e12, y in -1e6f64..1e6) {
            let (xs, ys) = (format!("{x:e}"), format!("{y}"));
            let text = add_floats(xs.as_bytes(), x, ys.as_bytes(), y).unwrap();
            let back: f64 = text.parse().unwrap();
            proptest::prop_assert!((back - (x + y)).abs() <= (x + y).abs() * 1e-15 + 1e-17, "{} + {} = {}", xs, ys, text);
        }
    }
}
