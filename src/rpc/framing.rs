//! Reading and writing whole messages: newline-delimited JSON (ACP, our control
//! socket) or `Content-Length` headers (LSP style). Both refuse a message over the
//! size limit without buffering it.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

/// The default largest message accepted: 16 MiB.
pub const DEFAULT_MAX_MESSAGE: usize = 16 * 1024 * 1024;
/// The largest header line accepted with `Content-Length` framing.
const MAX_HEADER_LINE: usize = 8 * 1024;

/// How messages are delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    /// One JSON message per line.
    #[default]
    Lines,
    /// `Content-Length: N` header, blank line, N bytes.
    ContentLength,
}

/// Why a frame could not be read.
#[derive(Debug)]
pub(crate) enum FrameError {
    /// Over the limit; the connection must close.
    TooLarge,
    /// A malformed header (Content-Length framing).
    BadHeader(Vec<u8>),
    /// The transport failed.
    Io(std::io::Error),
}

impl From<std::io::Error> for FrameError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

impl Framing {
    /// Reads one message body; `Ok(None)` at a clean end of stream.
    pub(crate) async fn read<R: AsyncBufRead + Unpin>(
        self,
        reader: &mut R,
        max: usize,
    ) -> Result<Option<Vec<u8>>, FrameError> {
        match self {
            Self::Lines => loop {
                match read_line(reader, max).await? {
                    None => return Ok(None),
                    // Blank lines between messages are tolerated.
                    Some(line) if line.iter().all(u8::is_ascii_whitespace) => continue,
                    Some(line) => return Ok(Some(line)),
                }
            },
            Self::ContentLength => read_content_length(reader, max).await,
        }
    }

    /// Frames a message body for the wire.
    pub(crate) fn encode(self, body: &[u8]) -> Vec<u8> {
        match self {
            Self::Lines => {
                let mut out = Vec::with_capacity(body.len() + 1);
                out.extend_from_slice(body);
                out.push(b'\n');
                out
            }
            Self::ContentLength => {
                let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
                out.extend_from_slice(body);
                out
            }
        }
    }
}

/// Reads up to and without the next `\n` (and a `\r` before it), refusing lines over
/// `max` as soon as they pass it.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut line = Vec::new();
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(if line.is_empty() { None } else { Some(line) });
        }
        let (chunk, found) = match memchr::memchr(b'\n', buf) {
            Some(pos) => (&buf[..pos], Some(pos)),
            None => (buf, None),
        };
        if line.len() + chunk.len() > max {
            return Err(FrameError::TooLarge);
        }
        line.extend_from_slice(chunk);
        let used = found.map_or(buf.len(), |pos| pos + 1);
        reader.consume(used);
        if found.is_some() {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Some(line));
        }
    }
}

async fn read_content_length<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut length = None;
    loop {
        let Some(line) = read_line(reader, MAX_HEADER_LINE)
            .await
            .map_err(|e| match e {
                FrameError::TooLarge => FrameError::BadHeader(b"(header line too long)".to_vec()),
                other => other,
            })?
        else {
            return Ok(None);
        };
        if line.is_empty() {
            if length.is_some() {
                break;
            }
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        let Some((name, value)) = text.split_once(':') else {
            return Err(FrameError::BadHeader(line));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let n: usize = value
                .trim()
                .parse()
                .map_err(|_| FrameError::BadHeader(line.clone()))?;
            length = Some(n);
        }
    }
    let length = length.unwrap_or(0);
    if length > max {
        return Err(FrameError::TooLarge);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_split_and_skip_blanks() {
        let mut input: &[u8] = b"{\"a\":1}\r\n\n{\"b\":2}\n{\"c\":3}";
        let f = Framing::Lines;
        assert_eq!(
            f.read(&mut input, 100).await.ok().flatten().as_deref(),
            Some(&b"{\"a\":1}"[..])
        );
        assert_eq!(
            f.read(&mut input, 100).await.ok().flatten().as_deref(),
            Some(&b"{\"b\":2}"[..])
        );
        assert_eq!(
            f.read(&mut input, 100).await.ok().flatten().as_deref(),
            Some(&b"{\"c\":3}"[..])
        );
        assert!(matches!(f.read(&mut input, 100).await, Ok(None)));
    }

    #[tokio::test]
    async fn oversized_line_is_refused() {
        let big = vec![b'x'; 1000];
        let mut input: &[u8] = &big;
        assert!(matches!(
            Framing::Lines.read(&mut input, 100).await,
            Err(FrameError::TooLarge)
        ));
    }

    #[tokio::test]
    async fn content_length_round_trip() {
        let f = Framing::ContentLength;
        let mut wire = f.encode(b"{\"x\":1}");
        wire.extend(f.encode(b"{}"));
        let mut input: &[u8] = &wire;
        assert_eq!(
            f.read(&mut input, 100).await.ok().flatten().as_deref(),
            Some(&b"{\"x\":1}"[..])
        );
        assert_eq!(
            f.read(&mut input, 100).await.ok().flatten().as_deref(),
            Some(&b"{}"[..])
        );
        let mut big: &[u8] = b"Content-Length: 1000\r\n\r\n";
        assert!(matches!(
            f.read(&mut big, 100).await,
            Err(FrameError::TooLarge)
        ));
    }
}
