//! Turns the [`TrayModel`] into a StatusNotifierItem and its dbusmenu (ksni), and
//! hands clicks back as [`MenuCommand`]s. ksni compares each new menu with the shown
//! one and tells the panel only what changed (changed properties when the items stay
//! in place, so an open menu stays open; a new layout otherwise).

use ksni::menu::{CheckmarkItem, MenuItem, RadioGroup, RadioItem, StandardItem, SubMenu};
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
        menu_items(&self.model.items)
    }
}

/// The menu items of `items`. An agent's presets (a run of switch items) are one
/// radio group: choosing one unchecks the others.
fn menu_items(items: &[TrayItem]) -> Vec<MenuItem<AppTray>> {
    let mut menu = Vec::with_capacity(items.len());
    let mut rest = items;
    while let Some(first) = rest.first() {
        let presets = rest.iter().take_while(|item| is_switch(item)).count();
        if presets > 0 {
            menu.push(radio_group(&rest[..presets]));
            rest = &rest[presets..];
        } else {
            menu.push(menu_item(first));
            rest = &rest[1..];
        }
    }
    menu
}

fn is_switch(item: &TrayItem) -> bool {
    matches!(
        item,
        TrayItem::Check {
            command: MenuCommand::Switch { .. },
            ..
        }
    )
}

/// Switch items as radio items; none is selected when no preset is active.
fn radio_group(items: &[TrayItem]) -> MenuItem<AppTray> {
    let mut commands = Vec::with_capacity(items.len());
    let mut options = Vec::with_capacity(items.len());
    let mut selected = usize::MAX;
    for (index, item) in items.iter().enumerate() {
        if let TrayItem::Check {
            command,
            text,
            checked,
        } = item
        {
            commands.push(command.clone());
            options.push(RadioItem {
                label: mnemonic_free(text),
                ..RadioItem::default()
            });
            if *checked {
                selected = index;
            }
        }
    }
    RadioGroup {
        selected,
        select: Box::new(move |tray: &mut AppTray, index| {
            if let Some(command) = commands.get(index) {
                tray.run(command.clone());
            }
        }),
        options,
    }
    .into()
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
            submenu: menu_items(items),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn preset(name: &str, checked: bool) -> TrayItem {
        TrayItem::Check {
            command: MenuCommand::Switch {
                agent: "claude".into(),
                preset: name.into(),
            },
            text: name.into(),
            checked,
        }
    }

    #[test]
    fn an_agents_presets_are_one_radio_group_and_other_checks_stay_checkmarks() {
        let menu = menu_items(&[
            preset("work_proxy", false),
            preset("deepseek", true),
            TrayItem::Separator,
            preset("kimi", false),
            TrayItem::Check {
                command: MenuCommand::StartAtLogin,
                text: "Start at login".into(),
                checked: true,
            },
        ]);
        let [
            MenuItem::RadioGroup(first),
            MenuItem::Separator,
            MenuItem::RadioGroup(second),
            MenuItem::Checkmark(login),
        ] = menu.as_slice()
        else {
            panic!("two radio groups around a separator, then a checkmark");
        };
        assert_eq!(first.selected, 1);
        let labels: Vec<_> = first.options.iter().map(|o| o.label.as_str()).collect();
        assert_eq!(labels, ["work__proxy", "deepseek"], "underscores escaped");
        assert!(second.selected >= second.options.len(), "no preset active");
        assert!(login.checked);
    }
}
