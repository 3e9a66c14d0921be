//! The window's line protocol with the tray that started it (see the tray's
//! `window.rs`): `show ROUTE` (or `show -`) on stdin brings the window to the front;
//! `focused` and `blurred` on stdout say where the keyboard is. When stdin is a pipe
//! and it closes, the tray has quit, and so does the window. Started some other way
//! (`aiswitch-desktop --window` from a terminal, or by a WebDriver), the window just
//! stays until it is closed.

use std::io::{BufRead, Write};

use tauri::AppHandle;

/// Reads the tray's requests until it goes away, then exits.
pub fn follow(app: AppHandle) {
    if !from_the_tray() {
        return;
    }
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if let Some(route) = line.strip_prefix("show ") {
                let route = (route != "-").then(|| route.to_owned());
                let shown = app.clone();
                let _ = app.run_on_main_thread(move || {
                    crate::window::show(&shown, route.as_deref());
                });
            }
        }
        app.exit(0);
    });
}

/// Tells the tray one line (nothing when no tray started this window).
pub fn say(line: &str) {
    if !from_the_tray() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Whether stdin is a pipe, as the tray starts the window.
fn from_the_tray() -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata("/proc/self/fd/0").is_ok_and(|m| m.file_type().is_fifo())
}
