//! `--log-bodies`, for debugging only: each exchange through the gateway written to
//! a file of its own (0600, in a 0700 directory) — the request line, its headers with
//! credentials redacted, its body, then the response status, headers and body as it
//! streamed. Without it, bodies are never stored or logged.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use hyper::HeaderMap;

/// Where exchanges are written.
#[derive(Debug)]
pub struct BodyLog {
    dir: PathBuf,
    next: AtomicU64,
}

/// Headers whose values are credentials.
const SECRET_HEADERS: [&str; 4] = ["authorization", "x-api-key", "x-goog-api-key", "cookie"];

impl BodyLog {
    /// A log in `dir` (created 0700 on first use).
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            next: AtomicU64::new(1),
        }
    }

    /// Opens the file of one exchange and writes its request; `None` (and a warning)
    /// when it cannot.
    pub fn request(&self, line: &str, headers: &HeaderMap, body: &[u8]) -> Option<File> {
        let opened = crate::paths::ensure_private_dir(&self.dir)
            .map_err(std::io::Error::other)
            .and_then(|()| {
                let n = self.next.fetch_add(1, Ordering::Relaxed);
                let name = format!("{}-{n}.txt", crate::store::now_ms());
                let mut options = std::fs::OpenOptions::new();
                options.create_new(true).write(true);
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                options.open(self.dir.join(name))
            });
        let mut file = match opened {
            Ok(file) => file,
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "cannot write a body log");
                return None;
            }
        };
        let written = writeln!(file, "{line}")
            .and_then(|()| write_headers(&mut file, headers))
            .and_then(|()| file.write_all(body))
            .and_then(|()| writeln!(file, "\n"));
        written.ok().map(|()| file)
    }
}

/// Writes the response's status and headers to an exchange's file.
pub fn response(file: &mut File, status: u16, headers: &HeaderMap) {
    let _ = writeln!(file, "HTTP {status}").and_then(|()| write_headers(file, headers));
}

fn write_headers(file: &mut File, headers: &HeaderMap) -> std::io::Result<()> {
    for (name, value) in headers {
        let shown = if SECRET_HEADERS.contains(&name.as_str()) {
            "<redacted>"
        } else {
            value.to_str().unwrap_or("<binary>")
        };
        writeln!(file, "{name}: {shown}")?;
    }
    writeln!(file)
}
