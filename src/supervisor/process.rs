//! Agent processes: each in its own process group, signalled as a group, and
//! registered with the reaper, a small process that kills every registered group as
//! soon as the supervisor dies, even by `kill -9`.
//!
//! Why a reaper and not only a parent-death signal: `PR_SET_PDEATHSIG` reaches the
//! direct child only, and not its grandchildren (the `codex-acp` npm wrapper's native
//! binary survives SIGTERM to the wrapper). The reaper holds the read end of a pipe
//! whose write end only the supervisor holds; end of file means the supervisor is
//! gone, and it kills the groups it was told about.

use std::io::Write;
use std::process::{Child as StdChild, ChildStdin, Command as StdCommand, Stdio};
use std::sync::Mutex;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// The reaper script: `+PGID` registers a group, `-PGID` forgets it; at end of input
/// every group still registered gets SIGKILL.
const REAPER_SCRIPT: &str = r#"groups=" "
while read -r line; do
  case "$line" in
    +*) groups="$groups${line#+} " ;;
    -*) groups=$(printf '%s' "$groups" | sed "s/ ${line#-} / /") ;;
  esac
done
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
"#;

/// The reaper process and the pipe to it.
pub(crate) struct Reaper {
    /// Written under the lock, never across an `.await`; `None` once closed.
    pipe: Mutex<Option<ChildStdin>>,
    child: Mutex<StdChild>,
}

impl Reaper {
    /// Starts the reaper in its own process group (so a Ctrl-C aimed at the CLI does
    /// not reach it).
    pub fn start() -> std::io::Result<Self> {
        use std::os::unix::process::CommandExt;
        let mut child = StdCommand::new("sh")
            .args(["-c", REAPER_SCRIPT])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let pipe = child
            .stdin
            .take()
            .ok_or_else(|| std::io::Error::other("reaper has no stdin"))?;
        Ok(Self {
            pipe: Mutex::new(Some(pipe)),
            child: Mutex::new(child),
        })
    }

    /// Tells the reaper to kill `pgid` if the supervisor dies.
    pub fn register(&self, pgid: u32) {
        self.send(&format!("+{pgid}\n"));
    }

    /// Tells the reaper `pgid` is gone.
    pub fn forget(&self, pgid: u32) {
        self.send(&format!("-{pgid}\n"));
    }

    fn send(&self, line: &str) {
        let mut pipe = self
            .pipe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(pipe) = pipe.as_mut() {
            let _ = pipe.write_all(line.as_bytes()).and_then(|()| pipe.flush());
        }
    }
}

impl Drop for Reaper {
    /// The supervisor is going away in order: close the pipe (the reaper kills what
    /// is still registered, normally nothing) and await the reaper, so it is not
    /// left a zombie.
    fn drop(&mut self) {
        self.pipe
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let _ = self
            .child
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .wait();
    }
}

/// Sends `signal` to the process group `pgid`; a group already gone is not an error.
pub(crate) fn signal_group(pgid: u32, signal: Signal) {
    if let Ok(raw) = i32::try_from(pgid) {
        let _ = killpg(Pid::from_raw(raw), signal);
    }
}

/// True while any process of the group is alive (or a zombie not yet awaited).
pub(crate) fn group_alive(pgid: u32) -> bool {
    i32::try_from(pgid).is_ok_and(|raw| killpg(Pid::from_raw(raw), None).is_ok())
}
