//! The response body the client receives: the upstream's, frame by frame as it
//! arrives (never buffered whole), read by a [`Meter`] on the way. When the body
//! ends — finished, cut off by the upstream, or dropped by the client — what the
//! meter read is reported once.

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
}

impl MeteredBody {
    /// Wraps `inner`; `on_end` gets the meter when the body ends.
    pub fn new(inner: Incoming, meter: Meter, on_end: OnEnd) -> Self {
        Self {
            inner,
            meter: Some((meter, on_end)),
            log: None,
        }
    }

    /// Copies every frame to `log` as well (`--log-bodies`).
    pub fn with_log(mut self, log: Option<std::fs::File>) -> Self {
        self.log = log;
        self
    }

    fn end(&mut self) {
        if let Some((meter, on_end)) = self.meter.take() {
            on_end(meter);
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
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let this = &mut *self;
                    if let Some((meter, _)) = this.meter.as_mut() {
                        meter.feed(data);
                    }
                    if let Some(log) = this.log.as_mut() {
                        let _ = std::io::Write::write_all(log, data);
                    }
                }
            }
            Poll::Ready(Some(Err(_)) | None) => self.end(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for MeteredBody {
    fn drop(&mut self) {
        self.end();
    }
}
