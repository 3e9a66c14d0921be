//! The dashboard window, run as its own process (`aiswitch-desktop --window`, the
//! Tauri app beside this one): the tray starts it when the dashboard is opened and it
//! exits when its window closes, giving all of WebKit's memory back.
//!
//! The two talk in lines over the window process's stdin and stdout. To the window:
//! `show ROUTE` (bring the window to the front at a page's hash route, `-` for where
//! it is). From the window: `focused` and `blurred`, which the notification rules use
//! ("task finished while the window is not focused"). When the tray ends, the
//! window's stdin closes and it quits too.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::lock;

/// The window process's argument that makes it the dashboard window.
const WINDOW_ARG: &str = "--window";

/// Turns WebKitGTK's accelerated compositing off in the window.
const COMPOSITING_ENV: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// The dashboard window, running or not. Clones share it.
#[derive(Clone)]
pub struct Window {
    exe: PathBuf,
    running: Arc<Mutex<Option<Running>>>,
    focused: Arc<AtomicBool>,
}

struct Running {
    child: Child,
    stdin: ChildStdin,
}

impl Window {
    /// The window of the `aiswitch-desktop` beside this executable.
    pub fn beside_this_app() -> Self {
        let exe = std::env::current_exe()
            .unwrap_or_else(|_| PathBuf::from("aiswitch-tray"))
            .with_file_name("aiswitch-desktop");
        Self {
            exe,
            running: Arc::default(),
            focused: Arc::default(),
        }
    }

    /// Shows the dashboard in front at `route` (`/launch`, `/task/ID`, `/alerts`),
    /// starting its process when it is not running.
    pub fn open(&self, route: Option<&str>) {
        let mut running = lock(&self.running);
        if let Some(window) = running.as_mut() {
            let line = format!("show {}\n", route.unwrap_or("-"));
            let alive = matches!(window.child.try_wait(), Ok(None));
            if alive && window.stdin.write_all(line.as_bytes()).is_ok() {
                return;
            }
            let _ = window.child.wait();
            *running = None;
        }
        match self.start(route) {
            Ok(window) => *running = Some(window),
            Err(e) => eprintln!(
                "aiswitch-desktop: cannot open the dashboard ({}): {e}",
                self.exe.display()
            ),
        }
    }

    /// Whether the dashboard window has the keyboard focus.
    pub fn focused(&self) -> bool {
        self.focused.load(Ordering::Relaxed)
    }

    /// Closes the window (its process quits when its stdin closes) and waits for it.
    pub fn close(&self) {
        if let Some(mut window) = lock(&self.running).take() {
            drop(window.stdin);
            let _ = window.child.wait();
        }
    }

    /// Opens the window and waits until its process ends; its exit code.
    pub fn run_to_end(&self) -> i32 {
        self.open(None);
        let Some(mut window) = lock(&self.running).take() else {
            return 1;
        };
        window.child.wait().ok().and_then(|s| s.code()).unwrap_or(1)
    }

    fn start(&self, route: Option<&str>) -> std::io::Result<Running> {
        let mut command = Command::new(&self.exe);
        // WebKitGTK's accelerated compositing costs ~70 MiB in its web process and buys
        // nothing for a page of tables and small charts; a user's own choice stands.
        if std::env::var_os(COMPOSITING_ENV).is_none() {
            command.env(COMPOSITING_ENV, "1");
        }
        command
            .arg(WINDOW_ARG)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        if let Some(route) = route {
            command.arg(route);
        }
        let mut child = command.spawn()?;
        let stdin = child.stdin.take().ok_or_else(no_pipe)?;
        let stdout = child.stdout.take().ok_or_else(no_pipe)?;
        let focused = self.focused.clone();
        // Follows what the window says until it exits.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                match line.as_str() {
                    "focused" => focused.store(true, Ordering::Relaxed),
                    "blurred" => focused.store(false, Ordering::Relaxed),
                    other => println!("{other}"),
                }
            }
            focused.store(false, Ordering::Relaxed);
        });
        Ok(Running { child, stdin })
    }
}

fn no_pipe() -> std::io::Error {
    std::io::Error::other("no pipe to the window process")
}
