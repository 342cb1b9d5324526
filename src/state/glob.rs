//! Redis glob-style pattern matching (`KEYS`, `SCAN MATCH`, `PSUBSCRIBE`).
//!
//! `*` any run, `?` any byte, `[abc]`, `[^a-z]` classes, `\x` escapes.

/// Whether `text` matches the glob `pattern`. An empty text matches only
/// the empty pattern, as in Redis's `stringmatchlen` (`**` or `*` do not
/// match it there: where Redis lets `*` match everything, `KEYS *` and
/// `SCAN`, the callers treat `*` as no pattern at all).
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    if text.is_empty() {
        return pattern.is_empty();
    }
    glob(pattern, text, false, 0)
}

/// Case-insensitive variant (for `CONFIG GET` parameter names).
pub fn glob_match_nocase(pattern: &[u8], text: &[u8]) -> bool {
    if text.is_empty() {
        return pattern.is_empty();
    }
    glob(pattern, text, true, 0)
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase { a.eq_ignore_ascii_case(&b) } else { a == b }
}

fn glob(mut p: &[u8], mut s: &[u8], nocase: bool, depth: usize) -> bool {
    if depth > 1000 {
        return false;
    }
    while let Some(&c) = p.first() {
        match c {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                for i in 0..=s.len() {
                    if glob(&p[1..], &s[i..], nocase, depth + 1) {
                        return true;
                    }
                }
                return false;
            }
            b'?' => {
                if s.is_empty() {
                    return false;
                }
                s = &s[1..];
                p = &p[1..];
            }
            b'[' => {
                let Some(&ch) = s.first() else { return false };
                let mut i = 1;
                let not = p.get(1) == Some(&b'^');
                if not {
                    i += 1;
                }
                let mut matched = false;
                loop {
                    match p.get(i) {
                        None => {
                            // Unterminated class: Redis treats the end as the close.
                            i -= 1;
                            break;
                        }
                        Some(b'\\') if i + 1 < p.len() => {
                            i += 1;
                            if eq(p[i], ch, nocase) {
                                matched = true;
                            }
                        }
                        Some(b']') => break,
                        Some(&lo) if p.get(i + 1) == Some(&b'-') && i + 2 < p.len() => {
                            let hi = p[i + 2];
                            let (lo, hi) = if lo > hi { (hi, lo) } else { (lo, hi) };
                            let (c2, lo2, hi2) = if nocase {
                                (ch.to_ascii_lowercase(), lo.to_ascii_lowercase(), hi.to_ascii_lowercase())
                            } else {
                                (ch, lo, hi)
                            };
                            if c2 >= lo2 && c2 <= hi2 {
                                matched = true;
                            }
                            i += 2;
                        }
                        Some(&x) => {
                            if eq(x, ch, nocase) {
                                matched = true;
                            }
                        }
                    }
                    i += 1;
                }
                if matched == not {
                    return false;
                }
                p = &p[(i + 1).min(p.len())..];
                s = &s[1..];
            }
            b'\\' if p.len() >= 2 => {
                if s.first().is_none_or(|&x| !eq(x, p[1], nocase)) {
                    return false;
                }
                p = &p[2..];
                s = &s[1..];
            }
            _ => {
                if s.first().is_none_or(|&x| !eq(x, c, nocase)) {
                    return false;
                }
                p = &p[1..];
                s = &s[1..];
            }
        }
    }
    s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        // Redis's matcher: the empty text matches only the empty pattern.
        assert!(glob_match(b"", b""));
        assert!(!glob_match(b"*", b""));
        assert!(!glob_match(b"**", b""));
        assert!(!glob_match(b"", b"a"));
        assert!(glob_match(b"a*", b"a"));
        assert!(glob_match(b"a**", b"a"));
        assert!(glob_match(b"*a*", b"a"));
        assert!(glob_match(b"h?llo", b"hello"));
        assert!(glob_match(b"h*llo", b"heeeello"));
        assert!(glob_match(b"h[ae]llo", b"hallo"));
        assert!(!glob_match(b"h[^e]llo", b"hello"));
        assert!(glob_match(b"h[a-b]llo", b"hbllo"));
        assert!(glob_match(b"h\\*llo", b"h*llo"));
        assert!(!glob_match(b"h\\*llo", b"hello"));
        assert!(glob_match(b"user:*:name", b"user:42:name"));
        assert!(!glob_match(b"a*b", b"acd"));
        assert!(glob_match_nocase(b"MAX*", b"maxmemory"));
    }
}
