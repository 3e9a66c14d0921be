//! The response body the client receives: the upstream's, frame by frame as it
//! arrives (never buffered whole), read by a [`Meter`] on the way. When the body
//! ends — finished, cut off by the upstream, or dropped by the client — what the
//! meter read is reported once. A translated exchange (`translate`) is metered in
//! the upstream's API and handed to the client in the client's.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};

use super::meter::Meter;

/// Called once with the meter when the body ends.
pub type OnEnd = Box<dyn FnOnce(Meter) + Send + Sync>;

/// An upstream body passed through while metered.
pub struct MeteredBody {
    inner: Incoming,
    meter: Option<(Meter, OnEnd)>,
    /// `--log-bodies`: the exchange's file, which gets every frame too.
    log: Option<std::fs::File>,
    /// The answer turned into the client's API, when the upstream speaks another.
    translate: Option<Translating>,
    /// A small answer read whole as it passes (Code Assist's quota), and what gets it.
    tap: Option<(Vec<u8>, Tap)>,
}

/// Called once with a whole answer (see [`MeteredBody::tapped`]).
pub type Tap = Box<dyn FnOnce(&[u8]) + Send + Sync>;

/// How an upstream answer is turned into the client's API.
pub enum Translating {
    /// A whole JSON body (or an error), converted when it has all arrived.
    Whole {
        /// From which API into which.
        translation: super::translate::Translation,
        /// The upstream's status.
        status: u16,
        /// The body so far.
        buffer: Vec<u8>,
    },
    /// An SSE stream, converted event by event.
    Stream(super::translate::Stream),
    /// Converted and handed over.
    Done,
}

impl MeteredBody {
    /// Wraps `inner`; `on_end` gets the meter when the body ends.
    pub fn new(inner: Incoming, meter: Meter, on_end: OnEnd) -> Self {
        Self {
            inner,
            meter: Some((meter, on_end)),
            log: None,
            translate: None,
            tap: None,
        }
    }

    /// Hands `tap` the whole answer when it has passed.
    pub fn tapped(mut self, tap: Tap) -> Self {
        self.tap = Some((Vec::new(), tap));
        self
    }

    /// Hands the answer to the client in its own API (see [`Translating`]).
    pub fn translated(mut self, translate: Translating) -> Self {
        self.translate = Some(translate);
        self
    }

    /// Copies every frame to `log` as well (`--log-bodies`).
    pub fn with_log(mut self, log: Option<std::fs::File>) -> Self {
        self.log = log;
        self
    }

    /// Once, when the body ends (or is dropped: hyper stops polling a body whose
    /// length it knows once it has it all).
    fn end(&mut self) {
        if let Some((meter, on_end)) = self.meter.take() {
            on_end(meter);
        }
        if let Some((whole, tap)) = self.tap.take() {
            tap(&whole);
        }
    }
}

impl Body for MeteredBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        loop {
            let polled = Pin::new(&mut self.inner).poll_frame(cx);
            let this = &mut *self;
            match polled {
                Poll::Ready(Some(Ok(frame))) => {
                    let Some(data) = frame.data_ref() else {
                        return Poll::Ready(Some(Ok(frame)));
                    };
                    if let Some((meter, _)) = this.meter.as_mut() {
                        meter.feed(data);
                    }
                    if let Some(log) = this.log.as_mut() {
                        let _ = std::io::Write::write_all(log, data);
                    }
                    if let Some((whole, _)) = this.tap.as_mut() {
                        whole.extend_from_slice(data);
                    }
                    let out = match this.translate.as_mut() {
                        None => return Poll::Ready(Some(Ok(frame))),
                        Some(Translating::Whole { buffer, .. }) => {
                            buffer.extend_from_slice(data);
                            Vec::new()
                        }
                        Some(Translating::Stream(stream)) => stream.feed(data),
                        Some(Translating::Done) => Vec::new(),
                    };
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                    }
                }
                Poll::Ready(None) => {
                    this.end();
                    let tail = match this.translate.replace(Translating::Done) {
                        Some(Translating::Whole {
                            translation,
                            status,
                            buffer,
                        }) => translation.response(status, &buffer),
                        Some(Translating::Stream(mut stream)) => stream.finish(),
                        None => {
                            this.translate = None;
                            Vec::new()
                        }
                        Some(Translating::Done) => Vec::new(),
                    };
                    if tail.is_empty() {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(tail)))));
                }
                Poll::Ready(Some(Err(e))) => {
                    this.end();
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self.translate {
            Some(Translating::Whole { .. } | Translating::Stream(_)) => false,
            Some(Translating::Done) | None => self.inner.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self.translate {
            Some(_) => SizeHint::default(),
            None => self.inner.size_hint(),
        }
    }
}

impl Drop for MeteredBody {
    fn drop(&mut self) {
        self.end();
    }
}
