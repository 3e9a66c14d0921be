//! "Start at login": an XDG autostart entry (`~/.config/autostart/aiswitch.desktop`)
//! that starts this app in the tray only (`--tray`).

use auto_launch::{AutoLaunch, AutoLaunchBuilder};

/// The app's autostart entry, for the executable running now.
fn entry() -> Result<AutoLaunch, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    AutoLaunchBuilder::new()
        .set_app_name("aiswitch")
        .set_app_path(&exe.to_string_lossy())
        .set_args(&[crate::TRAY_ONLY_ARG])
        .build()
        .map_err(|e| e.to_string())
}

/// Whether the app starts at login.
pub fn enabled() -> bool {
    entry().and_then(|e| e.is_enabled().map_err(|e| e.to_string())) == Ok(true)
}

/// Turns starting at login on when it is off, and off when it is on.
pub fn toggle() -> Result<(), String> {
    let entry = entry()?;
    let on = entry.is_enabled().map_err(|e| e.to_string())?;
    let switched = if on { entry.disable() } else { entry.enable() };
    switched.map_err(|e| format!("cannot change starting at login: {e}"))
}
