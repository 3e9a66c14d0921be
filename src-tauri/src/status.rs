//! What the desktop app knows about the engine at one moment, read through the
//! engine API. Both the tray model and the dashboard are built from it.

use aiswitch::Engine;
use aiswitch::presets::PresetView;
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
        match engine.preset_overview() {
            Ok(overview) => {
                status.current = overview.current;
                status.presets = overview.presets;
                status.problems = overview.problems.into_iter().map(|p| p.error).collect();
            }
            Err(err) => status.problems.push(err.to_string()),
        }
        status
    }
}
