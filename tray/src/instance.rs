//! One app per `AISWITCH_HOME`: the first launch holds `desktop.lock` in the runtime
//! directory and listens on `desktop.sock` beside it; a second launch finds the lock
//! taken, asks the first (over that socket) to bring its dashboard to the front, and
//! exits.

use std::fs::File;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fs2::FileExt;
use tokio::io::AsyncBufReadExt;

use crate::window::Window;

/// The first app's claim, held while it runs.
pub struct Instance {
    /// Keeps the lock (released when the process ends).
    _lock: File,
    listener: tokio::net::UnixListener,
}

/// What starting found.
pub enum Acquired {
    /// This is the only app: it goes on.
    First(Instance),
    /// Another app runs and was asked to show its dashboard: this one exits.
    Second,
}

/// Why the app could not tell whether another one runs.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// The runtime directory could not be created.
    #[error(transparent)]
    Dir(#[from] aiswitch::paths::PathsError),
    /// The lock or the socket could not be made.
    #[error("cannot claim {path}: {source}; check the permissions of its directory")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Instance {
    /// Claims the app for `runtime_dir`, or hands over to the app that has it.
    pub fn acquire(runtime_dir: &Path) -> Result<Acquired, InstanceError> {
        aiswitch::paths::ensure_private_dir(runtime_dir)?;
        let lock_path = runtime_dir.join("desktop.lock");
        let socket = runtime_dir.join("desktop.sock");
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| InstanceError::Io { path, source }
        };
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        if lock.try_lock_exclusive().is_err() {
            ask_to_show(&socket);
            return Ok(Acquired::Second);
        }
        // A socket left by an app that died is ours to replace: we hold the lock.
        let _ = std::fs::remove_file(&socket);
        let listener = std::os::unix::net::UnixListener::bind(&socket).map_err(io(&socket))?;
        listener.set_nonblocking(true).map_err(io(&socket))?;
        let listener = tokio::net::UnixListener::from_std(listener).map_err(io(&socket))?;
        Ok(Acquired::First(Self {
            _lock: lock,
            listener,
        }))
    }

    /// Answers later launches until the app quits: each shows the dashboard.
    pub async fn serve(self, window: Window) {
        loop {
            let Ok((stream, _)) = self.listener.accept().await else {
                // Out of file descriptors, say: wait a little rather than spin a core.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            };
            let window = window.clone();
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line == "show" {
                        window.open(None);
                    }
                }
            });
        }
    }
}

/// Tells the running app to show its dashboard. It may be starting (lock taken,
/// socket not yet bound): tries for two seconds.
fn ask_to_show(socket: &Path) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if let Ok(mut stream) = UnixStream::connect(socket) {
            let _ = stream.write_all(b"show\n");
            return;
        }
        if Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_launch_hands_over_and_one_that_died_leaves_nothing_in_the_way() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        let Ok(Acquired::First(first)) = Instance::acquire(&run) else {
            panic!("the first launch is the app");
        };
        // The second one asks the first over its socket, which accepts the request.
        let asked = std::thread::spawn({
            let run = run.clone();
            move || matches!(Instance::acquire(&run), Ok(Acquired::Second))
        });
        let (stream, _) = first.listener.accept().await.unwrap();
        let mut line = String::new();
        tokio::io::BufReader::new(stream)
            .read_line(&mut line)
            .await
            .unwrap();
        assert_eq!(line, "show\n");
        assert!(asked.join().unwrap(), "the second launch hands over");
        // The first one quits, leaving its socket file: the next launch is the app.
        drop(first);
        assert!(run.join("desktop.sock").exists());
        assert!(matches!(Instance::acquire(&run), Ok(Acquired::First(_))));
    }
}
