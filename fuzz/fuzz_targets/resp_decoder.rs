//! Fuzzes the request decoder: any input, split at any point, must decode
//! without panicking, and the split must not change the result.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use statebroker::resp::Decoder;

fn decode(chunks: &[&[u8]]) -> Vec<Result<Vec<bytes::Bytes>, String>> {
    let mut d = Decoder::default();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for c in chunks {
        buf.extend_from_slice(c);
        loop {
            match d.decode(&mut buf) {
                Ok(Some(cmd)) => out.push(Ok(cmd)),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e.0));
                    return out;
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let cut = data[0] as usize % data.len();
    let body = &data[1..];
    let cut = cut.min(body.len());
    let whole = decode(&[body]);
    let split = decode(&[&body[..cut], &body[cut..]]);
    // A split can only delay an error or a command, never change one.
    let n = whole.len().min(split.len());
    assert_eq!(whole[..n], split[..n]);
});
