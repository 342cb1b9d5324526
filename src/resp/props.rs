//! Property tests for the decoder: arbitrary input never panics, and how the
//! input is split across reads never changes what comes out.

use bytes::BytesMut;
use proptest::prelude::*;

use super::decode::Decoder;

fn decode_all(chunks: &[&[u8]]) -> (Vec<Vec<bytes::Bytes>>, Option<String>) {
    let mut d = Decoder::default();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match d.decode(&mut buf) {
                Ok(Some(cmd)) => out.push(cmd),
                Ok(None) => break,
                Err(e) => return (out, Some(e.0)),
            }
        }
    }
    (out, None)
}

fn encode(cmds: &[Vec<Vec<u8>>]) -> Vec<u8> {
    let mut out = Vec::new();
    for cmd in cmds {
        out.extend_from_slice(format!("*{}\r\n", cmd.len()).as_bytes());
        for arg in cmd {
            out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..512), cut in 0usize..512) {
        let cut = cut.min(input.len());
        let _ = decode_all(&[&input[..cut], &input[cut..]]);
    }

    #[test]
    fn resp_like_garbage_never_panics(parts in proptest::collection::vec(
        prop_oneof![Just(&b"*"[..]), Just(&b"$"[..]), Just(&b"\r\n"[..]), Just(&b"-1"[..]), Just(&b"3"[..]),
                    Just(&b"abc"[..]), Just(&b"\""[..]), Just(&b" "[..]), Just(&b"\n"[..]), Just(&b"99999999999"[..])],
        0..64)) {
        let input: Vec<u8> = parts.concat();
        let _ = decode_all(&[&input]);
    }

    #[test]
    fn round_trip_at_any_split(
        cmds in proptest::collection::vec(proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 1..5), 1..5),
        cut in 0usize..400,
    ) {
        let wire = encode(&cmds);
        let cut = cut.min(wire.len());
        let (whole, err) = decode_all(&[&wire]);
        prop_assert!(err.is_none());
        let (split, err2) = decode_all(&[&wire[..cut], &wire[cut..]]);
        prop_assert!(err2.is_none());
        let expected: Vec<Vec<bytes::Bytes>> =
            cmds.iter().map(|c| c.iter().map(|a| bytes::Bytes::from(a.clone())).collect()).collect();
        prop_assert_eq!(&whole, &expected);
        prop_assert_eq!(&split, &expected);
    }
}
