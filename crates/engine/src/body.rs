//! Byte streams in and out of the engine.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use coffer_blob::{BlobReader, FsBlobStore};
use futures::Stream;

use crate::EngineError;

/// A request body as the engine consumes it. Errors carry the transport's description.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, String>> + Send + Sync>>;

/// One contiguous piece of an object's bytes.
#[derive(Debug, Clone)]
pub(crate) enum Segment {
    /// Bytes held in memory (inline objects).
    Memory(Bytes),
    /// `len` bytes of a blob from `offset`.
    Blob {
        blob_id: String,
        offset: u64,
        len: u64,
    },
}

/// The bytes of an object (or a range of it), streamed from memory and blobs in order.
pub struct ObjectBody {
    blobs: FsBlobStore,
    segments: VecDeque<Segment>,
    current: Option<BlobReader>,
    remaining: u64,
}

impl ObjectBody {
    pub(crate) fn new(blobs: FsBlobStore, segments: Vec<Segment>) -> Self {
        let remaining = segments
            .iter()
            .map(|s| match s {
                Segment::Memory(b) => b.len() as u64,
                Segment::Blob { len, .. } => *len,
            })
            .sum();
        Self {
            blobs,
            segments: segments.into(),
            current: None,
            remaining,
        }
    }

    /// Bytes still to come.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }
}

impl Stream for ObjectBody {
    type Item = Result<Bytes, EngineError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(reader) = &mut this.current {
                match reader.poll_chunk(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(chunk))) => {
                        this.remaining = this.remaining.saturating_sub(chunk.len() as u64);
                        return Poll::Ready(Some(Ok(chunk)));
                    }
                    Poll::Ready(Some(Err(e))) => {
                        this.current = None;
                        this.segments.clear();
                        return Poll::Ready(Some(Err(e.into())));
                    }
                    Poll::Ready(None) => this.current = None,
                }
                continue;
            }
            match this.segments.pop_front() {
                None => return Poll::Ready(None),
                Some(Segment::Memory(bytes)) => {
                    if bytes.is_empty() {
                        continue;
                    }
                    this.remaining = this.remaining.saturating_sub(bytes.len() as u64);
                    return Poll::Ready(Some(Ok(bytes)));
                }
                Some(Segment::Blob {
                    blob_id,
                    offset,
                    len,
                }) => {
                    if len == 0 {
                        continue;
                    }
                    this.current = Some(this.blobs.reader(&blob_id, offset, len));
                }
            }
        }
    }
}
