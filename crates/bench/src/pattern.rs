//! Deterministic object bytes: generated chunk by chunk and checked by comparison, never hashed.
//!
//! Every object is a sequence of 1 MiB chunks cut from one fixed pseudo-random buffer; the first
//! 16 bytes of each chunk carry the chunk index and the object id (little-endian), so a chunk
//! served from the wrong offset or the wrong object is caught by a plain `memcmp`.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// Size of one pattern chunk.
pub const CHUNK: u64 = 1 << 20;
/// Bytes at the start of each chunk that name the chunk and the object.
const HEADER: usize = 16;

/// The fixed pseudo-random buffer every chunk is cut from (incompressible, built once).
fn base() -> &'static Bytes {
    static BASE: OnceLock<Bytes> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut state = 0x0c0f_fe12_be4c_u64;
        let mut buffer = Vec::with_capacity(CHUNK as usize);
        while buffer.len() < CHUNK as usize {
            buffer.extend_from_slice(&splitmix64(&mut state).to_le_bytes());
        }
        Bytes::from(buffer)
    })
}

/// A step of the splitmix64 generator: cheap, well mixed, deterministic.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The 1 MiB buffer of the pattern (for the ceilings, so they hash the same bytes).
pub fn chunk_buffer() -> Bytes {
    base().clone()
}

/// The content of one object, named by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern {
    /// Distinguishes objects (and versions of one key) from each other.
    pub object_id: u64,
}

impl Pattern {
    /// The pattern of object `object_id`.
    pub fn new(object_id: u64) -> Self {
        Self { object_id }
    }

    fn header(self, chunk: u64) -> [u8; HEADER] {
        let mut header = [0u8; HEADER];
        header[..8].copy_from_slice(&chunk.to_le_bytes());
        header[8..].copy_from_slice(&self.object_id.to_le_bytes());
        header
    }

    /// Checks that `data` is what the object holds at `offset`. On a mismatch, returns the
    /// object offset of the first 1 MiB chunk that differs.
    pub fn check(self, offset: u64, data: &[u8]) -> Result<(), u64> {
        let base = base();
        let mut position = offset;
        let mut rest = data;
        while !rest.is_empty() {
            let chunk = position / CHUNK;
            let within = (position % CHUNK) as usize;
            let take = rest.len().min(CHUNK as usize - within);
            let (piece, tail) = rest.split_at(take);
            let ok = if within < HEADER {
                let header = self.header(chunk);
                let in_header = (HEADER - within).min(take);
                piece[..in_header] == header[within..within + in_header]
                    && piece[in_header..] == base[within + in_header..within + take]
            } else {
                piece == &base[within..within + take]
            };
            if !ok {
                return Err(chunk * CHUNK);
            }
            position += take as u64;
            rest = tail;
        }
        Ok(())
    }

    /// A request body streaming bytes `[offset, offset + length)` of this object.
    pub fn body(self, offset: u64, length: u64) -> PatternBody {
        PatternBody {
            pattern: self,
            position: offset,
            end: offset + length,
        }
    }
}

/// A streaming body of pattern bytes: 16 fresh header bytes, then a zero-copy slice of the
/// shared buffer, per chunk. Never holds more than the shared 1 MiB buffer.
#[derive(Debug)]
pub struct PatternBody {
    pattern: Pattern,
    position: u64,
    end: u64,
}

impl PatternBody {
    /// Bytes still to send.
    pub fn remaining(&self) -> u64 {
        self.end - self.position
    }

    fn next_frame(&mut self) -> Option<Bytes> {
        let remaining = self.remaining();
        if remaining == 0 {
            return None;
        }
        let chunk = self.position / CHUNK;
        let within = (self.position % CHUNK) as usize;
        let frame = if within < HEADER {
            let take = (HEADER - within).min(remaining as usize);
            Bytes::copy_from_slice(&self.pattern.header(chunk)[within..within + take])
        } else {
            let take =
                (CHUNK as usize - within).min(usize::try_from(remaining).unwrap_or(usize::MAX));
            base().slice(within..within + take)
        };
        self.position += frame.len() as u64;
        Some(frame)
    }
}

impl Body for PatternBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(
            self.get_mut()
                .next_frame()
                .map(|data| Ok(Frame::data(data))),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.remaining() == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining())
    }
}

/// Checks a downloaded body frame by frame against the object's pattern.
#[derive(Debug)]
pub struct Verifier {
    pattern: Pattern,
    position: u64,
    expected_length: u64,
}

impl Verifier {
    /// Expects `expected_length` bytes of `pattern` from offset 0.
    pub fn new(pattern: Pattern, expected_length: u64) -> Self {
        Self {
            pattern,
            position: 0,
            expected_length,
        }
    }

    /// Checks the next received bytes.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), String> {
        if self.position + data.len() as u64 > self.expected_length {
            return Err(format!(
                "body longer than the {} bytes expected",
                self.expected_length
            ));
        }
        self.pattern
            .check(self.position, data)
            .map_err(|at| format!("wrong bytes in the chunk at offset {at}"))?;
        self.position += data.len() as u64;
        Ok(())
    }

    /// Bytes checked so far; an error unless the whole object arrived.
    pub fn finish(&self) -> Result<u64, String> {
        if self.position == self.expected_length {
            Ok(self.position)
        } else {
            Err(format!(
                "body ended after {} of {} bytes",
                self.position, self.expected_length
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(mut body: PatternBody) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(frame) = body.next_frame() {
            out.extend_from_slice(&frame);
        }
        out
    }

    #[test]
    fn body_matches_check_at_any_split() {
        let pattern = Pattern::new(7);
        let length = 2 * CHUNK + 12_345;
        let bytes = collect(pattern.body(0, length));
        assert_eq!(bytes.len() as u64, length);
        for split in [1usize, 15, 16, 17, 4096, CHUNK as usize + 3] {
            let mut verifier = Verifier::new(pattern, length);
            for piece in bytes.chunks(split) {
                verifier.feed(piece).expect("same bytes");
            }
            assert_eq!(verifier.finish(), Ok(length));
        }
    }

    #[test]
    fn ranges_concatenate_to_the_whole_object() {
        let pattern = Pattern::new(3);
        let whole = collect(pattern.body(0, 3 * CHUNK));
        let mut parts = collect(pattern.body(0, CHUNK + 10));
        parts.extend(collect(pattern.body(CHUNK + 10, 2 * CHUNK - 10)));
        assert_eq!(whole, parts);
    }

    #[test]
    fn other_objects_and_offsets_are_caught() {
        let bytes = collect(Pattern::new(1).body(0, 2 * CHUNK));
        assert_eq!(Pattern::new(2).check(0, &bytes), Err(0));
        assert_eq!(
            Pattern::new(1).check(CHUNK, &bytes[..CHUNK as usize]),
            Err(CHUNK)
        );
        let mut flipped = bytes.clone();
        flipped[CHUNK as usize + 500] ^= 1;
        assert_eq!(Pattern::new(1).check(0, &flipped), Err(CHUNK));
        let mut verifier = Verifier::new(Pattern::new(1), 10);
        verifier.feed(&bytes[..5]).expect("prefix");
        assert!(verifier.finish().is_err());
    }
}
