//! The aiswitch desktop app. Launched plainly (from the menu, at login with `--tray`)
//! it becomes the tray: it replaces itself with `aiswitch-tray` beside it, same
//! process, same arguments. The tray starts it again with `--window [ROUTE]` as the
//! dashboard window, a Tauri app whose only job is that webview, and which exits when
//! the window closes, so the tray alone holds no GTK or WebKit memory.
//!
//! This crate is a thin adapter: the engine holds all behaviour; `commands` passes the
//! dashboard's calls to the engine host, `events` its event stream to the page, and
//! `link` talks to the tray over stdin and stdout.

mod commands;
mod events;
mod link;
mod window;

use aiswitch::Engine;
use tauri::{Manager, WindowEvent};

/// With this env var set, the window quits as soon as the dashboard has rendered the
/// engine's presets, printing one line; CI uses it under Xvfb.
const SMOKE_ENV: &str = "AISWITCH_DESKTOP_SMOKE";

/// The argument that makes this process the dashboard window.
const WINDOW_ARG: &str = "--window";

fn main() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some(WINDOW_ARG) {
        become_the_tray();
    }
    let route = args.next();
    let engine = match Engine::from_env() {
        Ok(engine) => engine,
        Err(err) => {
            eprintln!("aiswitch-desktop: {err}");
            std::process::exit(1);
        }
    };
    let smoke = std::env::var_os(SMOKE_ENV).is_some();
    let app = tauri::Builder::default()
        .manage(engine)
        .manage(commands::Smoke(smoke))
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::control,
            commands::ui_ready
        ])
        .setup(move |app| {
            window::open(app.handle(), route.as_deref())?;
            events::follow(app.handle().clone(), app.state::<Engine>().inner().clone());
            link::follow(app.handle().clone());
            Ok(())
        })
        .on_window_event(|_, event| match event {
            WindowEvent::Focused(focused) => {
                link::say(if *focused { "focused" } else { "blurred" })
            }
            WindowEvent::Destroyed => std::process::exit(0),
            _ => {}
        })
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|_, _| {}),
        Err(err) => {
            eprintln!("aiswitch-desktop: {err}");
            std::process::exit(1);
        }
    }
}

/// Replaces this process with the tray (`aiswitch-tray` beside it), keeping its pid
/// and arguments; returns only when that fails, by exiting.
fn become_the_tray() -> ! {
    use std::os::unix::process::CommandExt;
    let tray = std::env::current_exe()
        .unwrap_or_default()
        .with_file_name("aiswitch-tray");
    let err = std::process::Command::new(&tray)
        .args(std::env::args_os().skip(1))
        .exec();
    eprintln!(
        "aiswitch-desktop: cannot start the tray ({}): {err}; reinstall aiswitch",
        tray.display()
    );
    std::process::exit(1);
}
