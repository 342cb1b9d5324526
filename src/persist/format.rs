//! File layouts: segment and snapshot headers, and the framed record both
//! use: `len: u32 LE | crc32c(body): u32 LE | body[len]`.

use std::io::{self, Read};

/// First bytes of a log segment.
pub const LOG_MAGIC: &[u8; 8] = b"SBLOG\0\r\n";
/// First bytes of a snapshot.
pub const SNAP_MAGIC: &[u8; 8] = b"SBSNAP\r\n";
/// The format version this build writes and reads (log and snapshot).
pub const VERSION: u32 = 1;
/// Size of a segment header: magic, version, reserved, first sequence number.
pub const LOG_HEADER: usize = 24;
/// Size of a snapshot header: magic, version, reserved, sequence, creation time.
pub const SNAP_HEADER: usize = 32;
/// Set in a log record's sequence number when the record closes a unit of
/// writes (one broker round): recovery applies a unit whole or not at all.
pub const UNIT_END: u64 = 1 << 63;
/// Size of a record frame header.
pub const FRAME_HEADER: usize = 8;
/// Snapshot record kind: one key.
pub const SNAP_ENTRY: u8 = 1;
/// Snapshot record kind: the end, with the number of entries.
pub const SNAP_END: u8 = 2;

/// The name of the segment whose first record is `first_seq`.
pub fn segment_name(first_seq: u64) -> String {
    format!("log-{first_seq:020}.sblog")
}

/// The first sequence number named by a segment file name.
pub fn parse_segment_name(name: &str) -> Option<u64> {
    name.strip_prefix("log-")?.strip_suffix(".sblog")?.parse().ok()
}

/// The name of the snapshot consistent with sequence number `seq`.
pub fn snapshot_name(seq: u64) -> String {
    format!("snap-{seq:020}.sbsnap")
}

/// The sequence number named by a snapshot file name.
pub fn parse_snapshot_name(name: &str) -> Option<u64> {
    name.strip_prefix("snap-")?.strip_suffix(".sbsnap")?.parse().ok()
}

/// A segment header.
pub fn log_header(first_seq: u64) -> [u8; LOG_HEADER] {
    let mut h = [0u8; LOG_HEADER];
    h[..8].copy_from_slice(LOG_MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h[16..24].copy_from_slice(&first_seq.to_le_bytes());
    h
}

/// A snapshot header.
pub fn snap_header(seq: u64, created_ms: u64) -> [u8; SNAP_HEADER] {
    let mut h = [0u8; SNAP_HEADER];
    h[..8].copy_from_slice(SNAP_MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h[16..24].copy_from_slice(&seq.to_le_bytes());
    h[24..32].copy_from_slice(&created_ms.to_le_bytes());
    h
}

/// Checks a header's magic and version; returns the `u64` at bytes 16..24.
pub fn check_header(h: &[u8], magic: &[u8; 8], what: &str) -> Result<u64, String> {
    if &h[..8] != magic {
        return Err(format!("not a statebroker {what} (bad magic bytes)"));
    }
    let version = u32::from_le_bytes(h[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(format!(
            "{what} format version {version} is not supported by this build (it reads version {VERSION}); \
             use the statebroker version that wrote it"
        ));
    }
    Ok(u64::from_le_bytes(h[16..24].try_into().expect("8 bytes")))
}

/// Appends `body` as a framed record.
pub fn put_frame(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(body).to_le_bytes());
    out.extend_from_slice(body);
}

/// Frames a record whose body is being built at the end of `out`: call
/// with the length of `out` before the 8-byte placeholder was pushed.
pub fn begin_frame(out: &mut Vec<u8>) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0u8; FRAME_HEADER]);
    at
}

/// Fills in the frame header reserved by [`begin_frame`].
pub fn end_frame(out: &mut [u8], at: usize) {
    let body = &out[at + FRAME_HEADER..];
    let len = (body.len() as u32).to_le_bytes();
    let crc = crc32c::crc32c(body).to_le_bytes();
    out[at..at + 4].copy_from_slice(&len);
    out[at + 4..at + 8].copy_from_slice(&crc);
}

/// What the next frame of a file is.
#[derive(Debug)]
pub enum Next {
    /// A record whose checksum matches.
    Record(Vec<u8>),
    /// The file ends cleanly here.
    End,
    /// A bad frame. `torn` is true when it can only be an interrupted
    /// append at the end of the file: the frame runs past the end of the
    /// file, or everything after it is zero bytes, or it is the last frame
    /// and its checksum fails. (Zeros where a frame should start, to the
    /// end of the file, are [`Next::End`].)
    Bad {
        /// Why.
        reason: String,
        /// Whether it looks like a torn tail.
        torn: bool,
    },
}

/// Reads frames one by one, tracking the offset.
pub struct FrameReader<R: Read> {
    r: R,
    /// Offset of the next frame in the file.
    pub offset: u64,
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl<R: Read> FrameReader<R> {
    /// A reader positioned after a header of `header_len` bytes.
    pub fn new(r: R, header_len: u64) -> FrameReader<R> {
        FrameReader { r, offset: header_len }
    }

    /// Reads exactly a header; `Ok(None)` if the file is shorter.
    pub fn read_header(r: &mut R, len: usize) -> io::Result<Option<Vec<u8>>> {
        let mut h = vec![0u8; len];
        let n = read_full(r, &mut h)?;
        Ok((n == len).then_some(h))
    }

    fn rest_is_zero(&mut self, seen: &[u8]) -> io::Result<bool> {
        if seen.iter().any(|&b| b != 0) {
            return Ok(false);
        }
        let mut buf = [0u8; 8192];
        loop {
            let n = read_full(&mut self.r, &mut buf)?;
            if buf[..n].iter().any(|&b| b != 0) {
                return Ok(false);
            }
            if n < buf.len() {
                return Ok(true);
            }
        }
    }

    /// The next frame. The offset advances only over good records.
    pub fn next_frame(&mut self) -> io::Result<Next> {
        let mut h = [0u8; FRAME_HEADER];
        let n = read_full(&mut self.r, &mut h)?;
        if n == 0 {
            return Ok(Next::End);
        }
        if n < FRAME_HEADER {
            if h[..n].iter().all(|&b| b == 0) {
                // Fewer zeros than a header to the end of the file: space
                // written ahead, like a longer run of them.
                return Ok(Next::End);
            }
            return Ok(Next::Bad { reason: format!("incomplete record header ({n} of 8 bytes)"), torn: true });
        }
        let len = u32::from_le_bytes(h[..4].try_into().expect("4")) as u64;
        let crc = u32::from_le_bytes(h[4..].try_into().expect("4"));
        if len == 0 {
            // No record is empty. Zeros from here to the end of the file
            // are space written ahead of the data (or a zero-filled
            // unacknowledged append): the data ends here.
            if self.rest_is_zero(&h)? {
                return Ok(Next::End);
            }
            return Ok(Next::Bad { reason: "empty record header".into(), torn: false });
        }
        let mut body = Vec::new();
        let got = (&mut self.r).take(len).read_to_end(&mut body)? as u64;
        if got < len {
            return Ok(Next::Bad {
                reason: format!("record of {len} bytes runs past the end of the file ({got} present)"),
                torn: true,
            });
        }
        if crc32c::crc32c(&body) != crc {
            let mut probe = [0u8; 1];
            let at_end = read_full(&mut self.r, &mut probe)? == 0;
            let torn = at_end || self.rest_is_zero(&probe)?;
            return Ok(Next::Bad { reason: "checksum mismatch".into(), torn });
        }
        self.offset += FRAME_HEADER as u64 + len;
        Ok(Next::Record(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(tail: &[u8]) -> Vec<Next> {
        let mut buf = Vec::new();
        put_frame(&mut buf, b"one");
        buf.extend_from_slice(tail);
        let mut fr = FrameReader::new(&buf[..], 0);
        let mut out = Vec::new();
        loop {
            let next = fr.next_frame().unwrap();
            let last = !matches!(next, Next::Record(_));
            out.push(next);
            if last {
                return out;
            }
        }
    }

    /// Found by the recovery property test: zeros to the end of the file
    /// are its end however few they are; fewer than a frame header's eight
    /// were read as a torn record header.
    #[test]
    fn a_short_run_of_zeros_at_the_end_is_the_end() {
        for zeros in 0..20 {
            let got = frames(&vec![0u8; zeros]);
            assert!(matches!(got[..], [Next::Record(_), Next::End]), "{zeros} zeros: {got:?}");
        }
        // Anything else short of a header is a torn append.
        let got = frames(&[0, 0, 1]);
        assert!(matches!(got[..], [Next::Record(_), Next::Bad { torn: true, .. }]), "{got:?}");
    }
}
