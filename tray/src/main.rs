//! The aiswitch tray: the icon and menu a desktop panel shows (a StatusNotifierItem with
//! its `com.canonical.dbusmenu` menu, over D-Bus), desktop notifications, and the
//! launcher of the dashboard window. It links neither GTK nor WebKit, so the app in
//! the tray costs a few MiB; the dashboard runs in its own process
//! (`aiswitch-desktop --window`) that exits, memory and all, when its window closes.
//!
//! This crate is a thin adapter: the engine holds all behaviour, `tray_model` decides
//! what the tray shows (a pure function, unit-tested), `notices` which events notify,
//! and `tray` only turns the model into menu items.

mod cli_install;
mod host;
mod i18n;
mod icons;
mod instance;
mod login;
mod notices;
mod status;
mod tray;
mod tray_model;
mod window;

use aiswitch::Engine;

/// With this env var set, the app opens the dashboard, waits until the dashboard has
/// rendered the engine's status and quits, printing one line; CI uses it under Xvfb.
const SMOKE_ENV: &str = "AISWITCH_DESKTOP_SMOKE";

/// Start in the tray only, without the dashboard window (as at login).
pub const TRAY_ONLY_ARG: &str = "--tray";

#[tokio::main]
async fn main() {
    let engine = match Engine::from_env() {
        Ok(engine) => engine,
        Err(err) => {
            eprintln!("aiswitch-desktop: {err}");
            std::process::exit(1);
        }
    };
    // A second launch only brings the running app's dashboard to the front.
    let instance = match instance::Instance::acquire(&engine.paths().runtime_dir) {
        Ok(instance::Acquired::First(instance)) => instance,
        Ok(instance::Acquired::Second) => return,
        Err(err) => {
            eprintln!("aiswitch-desktop: {err}");
            std::process::exit(1);
        }
    };
    let smoke = std::env::var_os(SMOKE_ENV).is_some();
    let window = window::Window::beside_this_app();
    let host = host::Host::new(engine, window.clone());
    let tray = match tray::install(host.clone(), window.clone()).await {
        Ok(tray) => tray,
        Err(err) => {
            eprintln!("aiswitch-desktop: cannot show the tray icon: {err}");
            std::process::exit(1);
        }
    };
    if smoke {
        // The smoke run only looks: it starts no daemon, and ends with the window.
        host.follow(tray, false);
        let code = window.run_to_end();
        println!("aiswitch-desktop: tray ready");
        std::process::exit(code);
    }
    host.follow(tray, true);
    if !std::env::args().any(|a| a == TRAY_ONLY_ARG) {
        window.open(None);
    }
    instance.serve(window.clone()).await;
}

/// A mutex's guard; a panic elsewhere while it was held leaves the data usable.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
