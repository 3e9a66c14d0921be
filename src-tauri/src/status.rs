//! What the desktop app knows about the engine at one moment, read through the
//! engine API. Both the tray model and the dashboard are built from it.

use aiswitch::Engine;
use aiswitch::presets::{PresetView, Secrets};
use serde::Serialize;

/// A snapshot of engine state for the tray and the dashboard.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    /// The aiswitch version.
    pub version: String,
    /// Every readable preset, secrets redacted.
    pub presets: Vec<PresetView>,
    /// The current preset, if any.
    pub current: Option<String>,
    /// Problems to show: corrupt preset files, unreadable directories.
    pub problems: Vec<String>,
}

impl Status {
    /// Reads the engine's state; failures become problems, never a crash.
    pub fn read(engine: &Engine) -> Self {
        let mut status = Self {
            version: aiswitch::VERSION.to_owned(),
            ..Self::default()
        };
        let current = match engine.current_preset() {
            Ok(current) => current,
            Err(err) => {
                status.problems.push(err.to_string());
                None
            }
        };
        status.current = current.as_ref().map(ToString::to_string);
        match engine.list_presets() {
            Ok(listing) => {
                let secrets = Secrets::Redact(engine.settings().reveal_chars);
                status.presets = listing
                    .presets
                    .iter()
                    .map(|p| PresetView::new(p, current.as_ref() == Some(&p.name), secrets))
                    .collect();
                status
                    .problems
                    .extend(listing.problems.iter().map(|p| p.error.to_string()));
            }
            Err(err) => status.problems.push(err.to_string()),
        }
        status
    }
}
