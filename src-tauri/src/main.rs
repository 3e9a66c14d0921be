//! The aiswitch desktop app: a tray icon and the dashboard over the engine, attached to
//! the engine host (the daemon, started when none runs).
//!
//! This crate is a thin adapter: the engine holds all behaviour, `tray_model` decides
//! what the tray shows (a pure function, unit-tested), and `tray` only turns that model
//! into Tauri menu items.

mod cli_install;
mod commands;
mod host;
mod i18n;
mod notices;
mod status;
mod tray;
mod tray_model;
mod window;

use aiswitch::Engine;
use tauri::Manager;
use tauri_plugin_autostart::ManagerExt;

/// With this env var set, the app quits as soon as the dashboard has rendered the
/// engine's status, printing one line; CI uses it under Xvfb.
const SMOKE_ENV: &str = "AISWITCH_DESKTOP_SMOKE";

/// Start in the tray only, without the dashboard window (as at login).
const TRAY_ONLY_ARG: &str = "--tray";

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
    let app = tauri::Builder::default()
        // First: a second launch only brings the running app's dashboard to the front.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            window::open_dashboard(app);
        }))
        // "Start at login" starts it in the tray only.
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .app_name("aiswitch")
                .arg(TRAY_ONLY_ARG)
                .build(),
        )
        .manage(engine)
        .manage(host)
        .manage(tray::Shown::default())
        .manage(commands::Smoke(smoke))
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::control,
            commands::ui_ready
        ])
        .setup(move |app| {
            let host = app.state::<host::Host>();
            let mut status = host.status();
            status.start_at_login = app.autolaunch().is_enabled().unwrap_or(false);
            let model = tray_model::tray_model(&status, host.lang());
            tray::install(app.handle(), &model)?;
            // The smoke run only looks: it starts no daemon.
            host.follow(app.handle().clone(), !smoke);
            // The window is built here (`create: false` in the config), so the tray-only
            // start never loads a webview.
            if !std::env::args().any(|a| a == TRAY_ONLY_ARG) {
                window::open_dashboard(app.handle());
            }
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(err) => {
            eprintln!("aiswitch-desktop: {err}");
            std::process::exit(1);
        }
    };
    app.run(|_, event| {
        // Closing the last window leaves the app in the tray; Quit exits (with a code).
        if let tauri::RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            api.prevent_exit();
        }
    });
}
