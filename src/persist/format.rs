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
    /// A bad frame. `torn` (judged only by a reader made with
    /// [`FrameReader::for_log`]) is true when it can be an interrupted
    /// append at the end of the file: no intact frame (a non-zero length
    /// that fits in the file, a matching checksum) starts anywhere after
    /// the bad frame's first byte. A damaged record in the middle of a log
    /// is followed by intact ones, and those were acknowledged: they must
    /// not be cut off as a torn tail. (Zeros where a frame should start, to
    /// the end of the file, are [`Next::End`].)
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
    /// Whether a bad frame is judged torn or not (see [`Next::Bad`]).
    judge_torn: bool,
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

/// Whether an intact frame (a non-zero length that fits in `bytes`, a
/// matching checksum) starts anywhere in `bytes` after its first byte.
fn intact_frame_after_start(bytes: &[u8]) -> bool {
    (1..(bytes.len() + 1).saturating_sub(FRAME_HEADER)).any(|i| {
        let len = u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4")) as usize;
        let crc = u32::from_le_bytes(bytes[i + 4..i + 8].try_into().expect("4"));
        let body = i + FRAME_HEADER;
        len > 0 && len <= bytes.len() - body && crc32c::crc32c(&bytes[body..body + len]) == crc
    })
}

impl<R: Read> FrameReader<R> {
    /// A reader positioned after a header of `header_len` bytes. Every bad
    /// frame it finds is reported as not torn (a snapshot is complete
    /// before it is installed: any bad frame in it is damage).
    pub fn new(r: R, header_len: u64) -> FrameReader<R> {
        FrameReader { r, offset: header_len, judge_torn: false }
    }

    /// A reader of a log segment, which may end with an interrupted append:
    /// it judges whether a bad frame can be one (see [`Next::Bad`]), for
    /// which it reads the rest of the file into memory.
    pub fn for_log(r: R, header_len: u64) -> FrameReader<R> {
        FrameReader { r, offset: header_len, judge_torn: true }
    }

    /// A bad frame whose bytes read so far (from its first byte) are
    /// `seen`: whether it can be a torn tail, judged on the rest of the file.
    fn bad(&mut self, reason: String, mut seen: Vec<u8>) -> io::Result<Next> {
        if !self.judge_torn {
            return Ok(Next::Bad { reason, torn: false });
        }
        self.r.read_to_end(&mut seen)?;
        Ok(Next::Bad { reason, torn: !intact_frame_after_start(&seen) })
    }

    /// Reads exactly a header; `Ok(None)` if the file is shorter.
    pub fn read_header(r: &mut R, len: usize) -> io::Result<Option<Vec<u8>>> {
        let mut h = vec![0u8; len];
        let n = read_full(r, &mut h)?;
        Ok((n == len).then_some(h))
    }

    /// Whether `seen` and the rest of the file are all zeros. A reader of a
    /// log keeps what it reads on `seen` (to judge a bad frame by); a
    /// reader of a snapshot stops at the first chunk that is not zeros.
    fn rest_is_zero(&mut self, seen: &mut Vec<u8>) -> io::Result<bool> {
        if seen.iter().any(|&b| b != 0) {
            return Ok(false);
        }
        let mut chunk = [0u8; 8192];
        loop {
            let n = read_full(&mut self.r, &mut chunk)?;
            if self.judge_torn {
                seen.extend_from_slice(&chunk[..n]);
            }
            if chunk[..n].iter().any(|&b| b != 0) {
                return Ok(false);
            }
            if n < chunk.len() {
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
            return self.bad(format!("incomplete record header ({n} of 8 bytes)"), h[..n].to_vec());
        }
        let len = u32::from_le_bytes(h[..4].try_into().expect("4")) as u64;
        let crc = u32::from_le_bytes(h[4..].try_into().expect("4"));
        if len == 0 {
            // No record is empty. Zeros from here to the end of the file
            // are space written ahead of the data (or a zero-filled
            // unacknowledged append): the data ends here.
            let mut seen = h.to_vec();
            if self.rest_is_zero(&mut seen)? {
                return Ok(Next::End);
            }
            return self.bad("empty record header".into(), seen);
        }
        let mut body = Vec::new();
        let got = (&mut self.r).take(len).read_to_end(&mut body)? as u64;
        if got < len || crc32c::crc32c(&body) != crc {
            let reason = if got < len {
                format!("record of {len} bytes runs past the end of the file ({got} present)")
            } else {
                "checksum mismatch".into()
            };
            let mut seen = h.to_vec();
            seen.append(&mut body);
            return self.bad(reason, seen);
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
        let mut fr = FrameReader::for_log(&buf[..], 0);
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

    /// A bad frame is torn only if no intact frame follows it anywhere.
    #[test]
    fn a_bad_frame_followed_by_an_intact_one_is_damage_not_a_torn_tail() {
        let mut bad = Vec::new();
        put_frame(&mut bad, b"two");
        bad[FRAME_HEADER] ^= 1;
        let mut good = Vec::new();
        put_frame(&mut good, b"three");
        let torn = |tail: &[u8]| match &frames(tail)[..] {
            [Next::Record(_), Next::Bad { torn, .. }] => *torn,
            other => panic!("{other:?}"),
        };
        assert!(torn(&bad));
        assert!(torn(&[bad.clone(), vec![0; 100]].concat()));
        assert!(!torn(&[bad.clone(), good.clone()].concat()));
        assert!(!torn(&[bad.clone(), vec![0; 100], good.clone()].concat()));
        // A length too long for the file, or zero with data after it.
        let mut long = bad.clone();
        long[1] = 0x10;
        assert!(torn(&long));
        assert!(!torn(&[long, good.clone()].concat()));
        assert!(!torn(&[vec![0; 8], vec![1], good].concat()));
    }
}
