//! Turns the [`TrayModel`] into a StatusNotifierItem and its dbusmenu (ksni), and
//! hands clicks back as [`MenuCommand`]s. ksni compares each new menu with the shown
//! one and tells the panel only what changed (changed properties when the items stay
//! in place, so an open menu stays open; a new layout otherwise).

use ksni::menu::{CheckmarkItem, MenuItem, StandardItem, SubMenu};
use ksni::{ToolTip, TrayMethods};

use crate::host::Host;
use crate::tray_model::{MenuCommand, TrayItem, TrayModel};
use crate::window::Window;

/// The tray as the panel sees it.
pub struct AppTray {
    host: Host,
    window: Window,
    model: TrayModel,
}

/// The running tray: give it a new model with [`show`].
pub type TrayHandle = ksni::Handle<AppTray>;

/// Puts the tray icon on the session bus, showing the host's state now. It does not
/// wait for a panel: one that starts later finds it.
pub async fn install(host: Host, window: Window) -> Result<TrayHandle, ksni::Error> {
    let model = host.model(crate::login::enabled(), Vec::new());
    AppTray {
        host,
        window,
        model,
    }
    .assume_sni_available(true)
    .spawn()
    .await
}

/// Shows `model` in the tray: icon, tooltip and menu.
pub async fn show(tray: &TrayHandle, model: TrayModel) {
    tray.update(move |t| t.model = model).await;
}

impl AppTray {
    /// What a click does: the same engine calls as the CLI.
    fn run(&mut self, command: MenuCommand) {
        match command {
            MenuCommand::Quit => {
                self.window.close();
                std::process::exit(0);
            }
            MenuCommand::Open => self.window.open(None),
            MenuCommand::Launch => self.window.open(Some("/launch")),
            MenuCommand::OpenTask(id) => self.window.open(Some(&format!("/task/{id}"))),
            MenuCommand::OpenAlerts => self.window.open(Some("/alerts")),
            MenuCommand::StartAtLogin => {
                if let Err(e) = crate::login::toggle() {
                    eprintln!("aiswitch-desktop: {e}");
                }
                self.host.wake();
            }
            other => self.host.act(other),
        }
    }
}

impl ksni::Tray for AppTray {
    fn id(&self) -> String {
        "aiswitch".into()
    }

    fn title(&self) -> String {
        "aiswitch".into()
    }

    /// Left click, where the panel delivers it: the dashboard.
    fn activate(&mut self, _x: i32, _y: i32) {
        self.window.open(None);
    }

    fn icon_pixmap(&self) -> Vec<ksni::Icon> {
        vec![crate::icons::pixmap(self.model.icon)]
    }

    fn tool_tip(&self) -> ToolTip {
        ToolTip {
            title: "aiswitch".into(),
            description: self.model.tooltip.clone(),
            ..ToolTip::default()
        }
    }

    fn menu(&self) -> Vec<MenuItem<Self>> {
        self.model.items.iter().map(menu_item).collect()
    }
}

fn menu_item(item: &TrayItem) -> MenuItem<AppTray> {
    match item {
        TrayItem::Label(text) => StandardItem {
            label: mnemonic_free(text),
            enabled: false,
            ..StandardItem::default()
        }
        .into(),
        TrayItem::Action { command, text } => {
            let command = command.clone();
            StandardItem {
                label: mnemonic_free(text),
                activate: Box::new(move |tray: &mut AppTray| tray.run(command.clone())),
                ..StandardItem::default()
            }
            .into()
        }
        TrayItem::Check {
            command,
            text,
            checked,
        } => {
            let command = command.clone();
            CheckmarkItem {
                label: mnemonic_free(text),
                checked: *checked,
                activate: Box::new(move |tray: &mut AppTray| tray.run(command.clone())),
                ..CheckmarkItem::default()
            }
            .into()
        }
        TrayItem::Submenu { text, items } => SubMenu {
            label: mnemonic_free(text),
            submenu: items.iter().map(menu_item).collect(),
            ..SubMenu::default()
        }
        .into(),
        TrayItem::Separator => MenuItem::Separator,
    }
}

/// `text` as a dbusmenu label: an underscore there marks the access key, so a literal
/// one (`claude_max`) is written twice.
fn mnemonic_free(text: &str) -> String {
    text.replace('_', "__")
}
