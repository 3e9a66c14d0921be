//! The tray menu as data: a pure function of [`Status`], so what the tray shows is
//! unit-tested without a display. `tray.rs` turns the model into Tauri menu items.

use crate::status::Status;

/// Which tray icon to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayIcon {
    /// Nothing running, nothing wrong.
    Idle,
    /// Something needs the user's attention.
    Alert,
}

/// One entry of the tray menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayItem {
    /// A line of text that cannot be clicked.
    Label(String),
    /// A clickable entry with a stable id.
    Action {
        /// The id the click handler matches on.
        id: &'static str,
        /// The text shown.
        text: String,
    },
    /// A separator line.
    Separator,
}

/// The whole tray: icon, tooltip and menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayModel {
    /// The icon.
    pub icon: TrayIcon,
    /// The tooltip, same as the status line.
    pub tooltip: String,
    /// The menu, top to bottom.
    pub items: Vec<TrayItem>,
}

/// Menu id of "Open dashboard".
pub const OPEN_ID: &str = "open";
/// Menu id of "Quit".
pub const QUIT_ID: &str = "quit";

/// Builds the tray from the engine's status.
pub fn tray_model(status: &Status) -> TrayModel {
    let preset = status.current.as_deref().unwrap_or("no preset");
    let count = status.presets.len();
    let plural = if count == 1 { "" } else { "s" };
    let status_line = format!("aiswitch · {preset} · {count} preset{plural}");
    let mut items = vec![TrayItem::Label(status_line.clone())];
    if let Some(problem) = status.problems.first() {
        items.push(TrayItem::Label(format!("⚠ {}", shorten(problem, 60))));
    }
    items.extend([
        TrayItem::Separator,
        TrayItem::Action {
            id: OPEN_ID,
            text: "Open dashboard".into(),
        },
        TrayItem::Separator,
        TrayItem::Action {
            id: QUIT_ID,
            text: "Quit".into(),
        },
    ]);
    TrayModel {
        icon: if status.problems.is_empty() {
            TrayIcon::Idle
        } else {
            TrayIcon::Alert
        },
        tooltip: status_line,
        items,
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_engine_shows_status_and_quit() {
        let model = tray_model(&Status::default());
        assert_eq!(model.icon, TrayIcon::Idle);
        assert_eq!(
            model.items.first(),
            Some(&TrayItem::Label("aiswitch · no preset · 0 presets".into()))
        );
        assert!(matches!(
            model.items.last(),
            Some(TrayItem::Action { id: QUIT_ID, .. })
        ));
    }

    #[test]
    fn a_problem_turns_the_icon_to_alert_and_is_shown() {
        let status = Status {
            current: Some("deepseek".into()),
            problems: vec!["preset file x.toml is corrupt".into()],
            ..Status::default()
        };
        let model = tray_model(&status);
        assert_eq!(model.icon, TrayIcon::Alert);
        assert!(model.tooltip.contains("deepseek"));
        assert!(
            model
                .items
                .contains(&TrayItem::Label("⚠ preset file x.toml is corrupt".into()))
        );
    }
}
