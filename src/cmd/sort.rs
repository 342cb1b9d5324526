//! `SORT` and `SORT_RO`: the elements of a list, set or sorted set, sorted
//! numerically or lexicographically, by themselves or by other keys'
//! values, optionally replaced by other keys' values (`GET`) and stored as
//! a list (`STORE`).

use bytes::Bytes;
use std::cmp::Ordering;

use super::{Args, CmdResult, Ctx, NOT_INT, SYNTAX, WRONGTYPE, flags::*};
use crate::command;
use crate::resp::Frame;
use crate::state::{Effect, ExpireChange, Value};

/// The sort family.
pub static COMMANDS: &[super::Command] = &[
    command!(
        "sort",
        -2,
        WRITE | DENYOOM | MOVABLEKEYS,
        1,
        1,
        1,
        "generic",
        "SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] [STORE destination] — sort the elements of a list, set or sorted set",
        sort
    ),
    command!(
        "sort_ro",
        -2,
        READONLY | MOVABLEKEYS,
        1,
        1,
        1,
        "generic",
        "SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] — sort without storing",
        sort_ro
    ),
];

/// The options of one `SORT` call.
#[derive(Debug, Default)]
struct Options<'a> {
    /// `BY pattern`.
    by: Option<&'a [u8]>,
    /// `BY` a pattern without `*`: keep the elements in their order.
    dont_sort: bool,
    /// `LIMIT offset count`, as given.
    limit: Option<(i64, i64)>,
    /// `GET pattern`s, in order.
    gets: Vec<&'a [u8]>,
    desc: bool,
    alpha: bool,
    /// `STORE destination`.
    store: Option<&'a Bytes>,
}

/// Parses the options after the key as Redis does: in any order, the last
/// of `ASC`/`DESC` wins; `STORE` only where allowed; anything else is a
/// syntax error.
fn parse_options<'a>(args: &mut Args<'a>, may_store: bool) -> Result<Options<'a>, Frame> {
    let mut o = Options::default();
    while !args.is_empty() {
        let left = args.remaining() - 1;
        if args.eat("ASC") {
            o.desc = false;
        } else if args.eat("DESC") {
            o.desc = true;
        } else if args.eat("ALPHA") {
            o.alpha = true;
        } else if left >= 2 && args.eat("LIMIT") {
            let offset = args.next_i64().map_err(|_| NOT_INT)?;
            let count = args.next_i64().map_err(|_| NOT_INT)?;
            o.limit = Some((offset, count));
        } else if may_store && left >= 1 && args.eat("STORE") {
            o.store = Some(args.next_bytes()?);
        } else if left >= 1 && args.eat("BY") {
            let pattern = args.next_bytes()?;
            // Once a pattern without `*` asks for no sorting, a later `BY`
            // does not undo it (as in Redis).
            o.dont_sort |= !pattern.contains(&b'*');
            o.by = Some(pattern);
        } else if left >= 1 && args.eat("GET") {
            o.gets.push(args.next_bytes()?);
        } else {
            return Err(SYNTAX);
        }
    }
    Ok(o)
}

/// `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]`
///
/// Without `STORE`, an array of the sorted elements (or, with `GET`, for
/// each element the value each `GET` pattern names: `#` is the element,
/// `prefix*suffix` the string at the key with `*` replaced by the element,
/// `prefix*->field` that hash field; null where there is none). With
/// `STORE`, the same values replace `destination` as a list (missing ones
/// as empty strings; an empty result deletes it) and the reply is their
/// number.
fn sort(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    run(ctx, args, true)
}

/// `SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]`
///
/// `SORT` without `STORE`, for read-only use.
fn sort_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    run(ctx, args, false)
}

fn run(ctx: &mut Ctx, args: &mut Args, may_store: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let mut o = parse_options(args, may_store)?;
    // The elements in their own order: a list's, a set's, a sorted set's
    // by score. A list or sorted set kept in its order (`BY` without `*`)
    // is read from its end with `DESC`; a set has no order of its own.
    let mut reverse = o.dont_sort && o.desc;
    let mut elements: Vec<&[u8]> = match ctx.lookup_read(key).map(|e| &e.value) {
        None => Vec::new(),
        Some(Value::List(l)) => l.iter().collect(),
        Some(Value::Set(s)) => {
            reverse = false;
            // Stored, it is sorted lexicographically so that the result
            // does not depend on the set's order (as Redis does).
            if o.dont_sort && o.store.is_some() {
                o.dont_sort = false;
                o.alpha = true;
                o.by = None;
            }
            s.iter().collect()
        }
        Some(Value::ZSet(z)) => z.iter().map(|(m, _)| m).collect(),
        Some(_) => return Err(WRONGTYPE),
    };
    if reverse {
        elements.reverse();
    }
    // When nothing but the elements is read (no `BY` pattern, no `GET` but
    // `#`), they are sorted where they are and only the chosen ones copied
    // (`SORT` of 1M elements `LIMIT 0 10`: ten copies, not a million).
    let chosen: Vec<Bytes> = if o.by.is_none() || o.dont_sort {
        if !o.dont_sort {
            let weighted = elements.into_iter().map(|e| Ok((weigh(&o, Some(e))?, e))).collect::<Result<_, Frame>>()?;
            elements = order(weighted, &o);
        }
        let range = limit_range(elements.len(), o.limit);
        elements[range].iter().map(|e| Bytes::copy_from_slice(e)).collect()
    } else {
        // `BY` reads other keys: the elements are copied first.
        let elements: Vec<Bytes> = elements.into_iter().map(Bytes::copy_from_slice).collect();
        let mut weighted = Vec::with_capacity(elements.len());
        for e in elements {
            let by = o.by.and_then(|pattern| lookup_by_pattern(ctx, pattern, &e));
            weighted.push((weigh(&o, by.as_deref())?, e));
        }
        let sorted = order(weighted, &o);
        let range = limit_range(sorted.len(), o.limit);
        sorted.into_iter().skip(range.start).take(range.len()).collect()
    };
    // Each chosen element, or what each `GET` pattern names for it.
    let mut values: Vec<Option<Bytes>> = Vec::with_capacity(chosen.len() * o.gets.len().max(1));
    for e in &chosen {
        if o.gets.is_empty() {
            values.push(Some(e.clone()));
        }
        for &pattern in &o.gets {
            values.push(lookup_by_pattern(ctx, pattern, e));
        }
    }
    let Some(dst) = o.store else { return Ok(Frame::Array(values.into_iter().map(Frame::bulk_or_null).collect())) };
    let db = ctx.db();
    let n = values.len() as i64;
    if values.is_empty() {
        ctx.delete_destination(dst);
    } else {
        // Stored, a missing value is an empty string.
        let list = values.into_iter().map(Option::unwrap_or_default).collect();
        ctx.apply(Effect::Put { db, key: dst.clone(), value: Value::List(list), expire: ExpireChange::Clear });
        ctx.notify('l', "sortstore", dst);
    }
    Ok(Frame::Integer(n))
}

/// The positions `LIMIT offset count` selects from `len` elements, as
/// Redis computes them: a negative offset is 0, a negative count means
/// "to the end".
fn limit_range(len: usize, limit: Option<(i64, i64)>) -> std::ops::Range<usize> {
    let Some((offset, count)) = limit else { return 0..len };
    let start = usize::try_from(offset.max(0)).unwrap_or(usize::MAX).min(len);
    let end = match usize::try_from(count) {
        Ok(count) => start.saturating_add(count).min(len),
        Err(_) => len,
    };
    start..end
}

/// How one element sorts: by a number, or by bytes (`None` sorts first:
/// an `ALPHA ... BY` whose key is missing; without `BY`, by the element).
enum Weight {
    Number(f64),
    Text(Option<Vec<u8>>),
}

/// The weight of an element whose `BY` value (or, without `BY`, the element
/// itself) is `by` (`None`: `BY` found nothing). A missing key weighs 0;
/// text that is not a number fails the whole command.
fn weigh(o: &Options, by: Option<&[u8]>) -> Result<Weight, Frame> {
    Ok(if o.alpha {
        Weight::Text(if o.by.is_some() { by.map(<[u8]>::to_vec) } else { None })
    } else {
        Weight::Number(match by {
            None => 0.0,
            Some(b) => sort_number(b).ok_or(Frame::error("ERR One or more scores can't be converted into double"))?,
        })
    })
}

/// The elements in the order their weights give (as `o` asks). Numbers
/// that tie are ordered by the elements' bytes, so the result does not
/// depend on the order they were read in.
fn order<E: AsRef<[u8]>>(mut weighted: Vec<(Weight, E)>, o: &Options) -> Vec<E> {
    let by_pattern = o.by.is_some();
    weighted.sort_by(|(wa, a), (wb, b)| {
        let (a, b) = (a.as_ref(), b.as_ref());
        let order = match (wa, wb) {
            (Weight::Number(x), Weight::Number(y)) => {
                x.partial_cmp(y).unwrap_or(Ordering::Equal).then_with(|| a.cmp(b))
            }
            (Weight::Text(x), Weight::Text(y)) if by_pattern => x.cmp(y),
            _ => a.cmp(b),
        };
        if o.desc { order.reverse() } else { order }
    });
    weighted.into_iter().map(|(_, e)| e).collect()
}

/// A weight as C's `strtod` reads it for `SORT`: leading white space
/// skipped, the whole rest a number (an empty text is 0, white space alone
/// is not a number), not NaN, not out of range (glibc counts a subnormal
/// result as out of range too).
fn sort_number(text: &[u8]) -> Option<f64> {
    if text.is_empty() {
        return Some(0.0);
    }
    let start = text.iter().position(|c| !c.is_ascii_whitespace())?;
    match super::zset::strtod(&text[start..]) {
        Some((v, false)) if v == 0.0 || v.abs() >= f64::MIN_POSITIVE => Some(v),
        _ => None,
    }
}

/// The value a `BY` or `GET` pattern names for `element`: `#` is the
/// element; otherwise the first `*` is replaced by the element and the key
/// read, as a string, or with `->field` after the `*`, as that field of a
/// hash. `None` if the pattern has no `*` or the key, field or type does
/// not fit.
fn lookup_by_pattern(ctx: &mut Ctx, pattern: &[u8], element: &Bytes) -> Option<Bytes> {
    if pattern == b"#" {
        return Some(element.clone());
    }
    let star = pattern.iter().position(|&c| c == b'*')?;
    let after = &pattern[star + 1..];
    let (suffix, field) = match after.windows(2).position(|w| w == b"->") {
        Some(at) if at + 2 < after.len() => (&after[..at], Some(&after[at + 2..])),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(star + element.len() + suffix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(suffix);
    match (ctx.lookup_read(&key).map(|e| &e.value), field) {
        (Some(Value::Str(s)), None) => Some(Bytes::copy_from_slice(s)),
        (Some(Value::Hash(h)), Some(f)) => h.get(f).map(Bytes::copy_from_slice),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::{Harness, bulk};

    fn bulks(items: &[&str]) -> Frame {
        Frame::Array(items.iter().map(|s| bulk(s)).collect())
    }

    #[test]
    fn numbers_letters_limits_and_direction() {
        let mut f = Harness::at(1);
        f.run("RPUSH l 3 1 2 10 -1.5");
        assert_eq!(f.run("SORT l"), bulks(&["-1.5", "1", "2", "3", "10"]));
        assert_eq!(f.run("SORT l DESC"), bulks(&["10", "3", "2", "1", "-1.5"]));
        assert_eq!(f.run("SORT l ALPHA"), bulks(&["-1.5", "1", "10", "2", "3"]));
        assert_eq!(f.run("SORT l LIMIT 1 2"), bulks(&["1", "2"]));
        assert_eq!(f.run("SORT l LIMIT -5 2"), bulks(&["-1.5", "1"]));
        assert_eq!(f.run("SORT l LIMIT 3 -1"), bulks(&["3", "10"]));
        assert_eq!(f.run("SORT l LIMIT 9 1"), bulks(&[]));
        assert_eq!(f.run("SORT_RO l DESC LIMIT 0 1"), bulks(&["10"]));
        f.run("RPUSH w a 1");
        assert_eq!(f.run("SORT w"), Frame::error("ERR One or more scores can't be converted into double"));
        assert_eq!(f.run("SORT nokey"), bulks(&[]));
        f.run("SET s x");
        assert_eq!(f.run("SORT s"), WRONGTYPE);
        assert_eq!(f.run("SORT l LIMIT 1"), SYNTAX);
        assert_eq!(f.run("SORT l LIMIT a 1"), NOT_INT);
        assert_eq!(f.run("SORT_RO l STORE d"), SYNTAX);
        assert_eq!(f.run("SORT l BOGUS"), SYNTAX);
    }

    #[test]
    fn by_and_get_read_other_keys_and_hash_fields() {
        let mut f = Harness::at(1);
        f.run("RPUSH ids 1 2 3");
        f.run("MSET w_1 30 w_2 10 w_3 20 name_1 one name_2 two");
        f.run("HSET h_3 n three");
        assert_eq!(f.run("SORT ids BY w_*"), bulks(&["2", "3", "1"]));
        assert_eq!(
            f.run("SORT ids BY w_* GET # GET name_* GET h_*->n"),
            Frame::Array(vec![
                bulk("2"),
                bulk("two"),
                Frame::Null,
                bulk("3"),
                Frame::Null,
                bulk("three"),
                bulk("1"),
                bulk("one"),
                Frame::Null,
            ])
        );
        // A pattern without `*` keeps the list's order (read from the end
        // with DESC); GET of such a pattern is null.
        assert_eq!(f.run("SORT ids BY nosort DESC"), bulks(&["3", "2", "1"]));
        assert_eq!(f.run("SORT ids BY nosort GET x"), Frame::Array(vec![Frame::Null; 3]));
        // Missing weights are 0.
        f.run("RPUSH more 5 6");
        assert_eq!(f.run("SORT more BY w_* DESC"), bulks(&["6", "5"]));
    }

    #[test]
    fn store_replaces_the_destination_with_a_list() {
        let mut f = Harness::at(1);
        f.run("SADD s c a b");
        f.run("SET dst old EX 100");
        assert_eq!(f.run("SORT s ALPHA STORE dst"), Frame::Integer(3));
        assert_eq!(f.run("LRANGE dst 0 -1"), bulks(&["a", "b", "c"]));
        assert_eq!(f.run("TTL dst"), Frame::Integer(-1));
        // A set kept "unsorted" is sorted when stored.
        assert_eq!(f.run("SORT s BY nosort STORE dst2"), Frame::Integer(3));
        assert_eq!(f.run("LRANGE dst2 0 -1"), bulks(&["a", "b", "c"]));
        // Missing GET values are stored as empty strings.
        assert_eq!(f.run("SORT s ALPHA GET nope_* STORE dst3"), Frame::Integer(3));
        assert_eq!(f.run("LRANGE dst3 0 -1"), bulks(&["", "", ""]));
        // An empty result deletes the destination.
        assert_eq!(f.run("SORT nokey STORE dst"), Frame::Integer(0));
        assert_eq!(f.run("EXISTS dst"), Frame::Integer(0));
        f.check_replay();
    }

    #[test]
    fn sorted_sets_sort_by_their_members_or_keep_their_order() {
        let mut f = Harness::at(1);
        f.run("ZADD z 1 30 2 10 3 20");
        assert_eq!(f.run("SORT z"), bulks(&["10", "20", "30"]));
        assert_eq!(f.run("SORT z BY nosort"), bulks(&["30", "10", "20"]));
        assert_eq!(f.run("SORT z BY nosort DESC LIMIT 0 2"), bulks(&["20", "10"]));
        assert_eq!(sort_number(b" 12"), Some(12.0));
        assert_eq!(sort_number(b""), Some(0.0));
        assert_eq!(sort_number(b"1e400"), None);
        assert_eq!(sort_number(b"nan"), None);
        assert_eq!(sort_number(b"0x10"), Some(16.0));
        // Found by comparing with Redis: white space alone and subnormal
        // numbers fail, and `BY nosort` stays in force after another `BY`.
        assert_eq!(sort_number(b" "), None);
        assert_eq!(sort_number(b"1e-310"), None);
        assert_eq!(sort_number(b"2.2250738585072014e-308"), Some(f64::MIN_POSITIVE));
        f.run("RPUSH l 3 1 2");
        f.run("SET w_1 9");
        assert_eq!(f.run("SORT l BY nosort BY w_*"), bulks(&["3", "1", "2"]));
    }
}
