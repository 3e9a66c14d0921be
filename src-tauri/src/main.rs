//! The aiswitch desktop app: a tray icon and the dashboard over the engine, attached to
//! the engine host (the daemon, started when none runs).
//!
//! This crate is a thin adapter: the engine holds all behaviour, `tray_model` decides
//! what the tray shows (a pure function, unit-tested), and `tray` only turns that model
//! into Tauri menu items.

mod commands;
mod host;
mod i18n;
mod notices;
mod status;
mod tray;
mod tray_model;

use aiswitch::Engine;
use tauri::Manager;

/// With this env var set, the app quits as soon as the dashboard has rendered the
/// engine's status, printing one line; CI uses it under Xvfb.
const SMOKE_ENV: &str = "AISWITCH_DESKTOP_SMOKE";

fn main() {
    let engine = match Engine::from_env() {
        Ok(engine) => engine,
        Err(err) => {
            eprintln!("aiswitch-desktop: {err}");
            std::process::exit(1);
        }
    };
    let smoke = std::env::var_os(SMOKE_ENV).is_some();
    let host = host::Host::new(engine.clone());
    let result = tauri::Builder::default()
        .manage(engine)
        .manage(host)
        .manage(tray::Shown::default())
        .manage(commands::Smoke(smoke))
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::ui_ready
        ])
        .setup(move |app| {
            let host = app.state::<host::Host>();
            let model = tray_model::tray_model(&host.status(), host.lang());
            tray::install(app.handle(), &model)?;
            // The smoke run only looks: it starts no daemon.
            host.follow(app.handle().clone(), !smoke);
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(err) = result {
        eprintln!("aiswitch-desktop: {err}");
        std::process::exit(1);
    }
}
