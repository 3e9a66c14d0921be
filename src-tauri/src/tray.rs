//! Turns the [`TrayModel`] into a Tauri tray icon and menu, updates it in place, and
//! hands clicks to the engine.

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};

use crate::host::Host;
use crate::tray_model::{MenuCommand, TrayIcon, TrayItem, TrayModel};

const IDLE_PNG: &[u8] = include_bytes!("../../icons/tray-idle.png");
const BUSY_PNG: &[u8] = include_bytes!("../../icons/tray-busy.png");
const ALERT_PNG: &[u8] = include_bytes!("../../icons/tray-alert.png");

/// The tray icon's id.
const TRAY_ID: &str = "aiswitch";

/// Creates the tray icon showing `model`.
pub fn install(app: &AppHandle, model: &TrayModel) -> tauri::Result<()> {
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(model.icon)?)
        .tooltip(&model.tooltip)
        .menu(&build_menu(app, &model.items)?)
        .on_menu_event(|app, event| {
            if let Some(command) = MenuCommand::parse(event.id().as_ref()) {
                run(app, command);
            }
        })
        .build(app)?;
    Ok(())
}

/// Shows `model` in the tray: icon, tooltip and menu.
pub fn show(app: &AppHandle, model: &TrayModel) -> tauri::Result<()> {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return Ok(());
    };
    tray.set_menu(Some(build_menu(app, &model.items)?))?;
    tray.set_tooltip(Some(&model.tooltip))?;
    tray.set_icon(Some(icon(model.icon)?))
}

fn icon(icon: TrayIcon) -> tauri::Result<Image<'static>> {
    Image::from_bytes(match icon {
        TrayIcon::Idle => IDLE_PNG,
        TrayIcon::Busy => BUSY_PNG,
        TrayIcon::Alert => ALERT_PNG,
    })
}

/// What a click does: the same engine calls as the CLI.
fn run(app: &AppHandle, command: MenuCommand) {
    match command {
        MenuCommand::Quit => app.exit(0),
        MenuCommand::Open => {
            if let Some(window) = app.get_webview_window("dashboard") {
                let _ = window.show();
                let _ = window.set_focus();
            }
        }
        other => app.state::<Host>().act(other),
    }
}

fn build_menu(app: &AppHandle, items: &[TrayItem]) -> tauri::Result<Menu<Wry>> {
    let built = build_items(app, items)?;
    let refs: Vec<&dyn IsMenuItem<Wry>> = built.iter().map(AsRef::as_ref).collect();
    Menu::with_items(app, &refs)
}

fn build_items(
    app: &AppHandle,
    items: &[TrayItem],
) -> tauri::Result<Vec<Box<dyn IsMenuItem<Wry>>>> {
    let mut built: Vec<Box<dyn IsMenuItem<Wry>>> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        built.push(match item {
            TrayItem::Label(text) => Box::new(MenuItem::with_id(
                app,
                format!("label-{index}-{text}"),
                text,
                false,
                None::<&str>,
            )?),
            TrayItem::Action { command, text } => Box::new(MenuItem::with_id(
                app,
                command.id(),
                text,
                true,
                None::<&str>,
            )?),
            TrayItem::Check {
                command,
                text,
                checked,
            } => Box::new(CheckMenuItem::with_id(
                app,
                command.id(),
                text,
                true,
                *checked,
                None::<&str>,
            )?),
            TrayItem::Submenu { text, items } => {
                let children = build_items(app, items)?;
                let refs: Vec<&dyn IsMenuItem<Wry>> = children.iter().map(AsRef::as_ref).collect();
                Box::new(Submenu::with_items(app, text, true, &refs)?)
            }
            TrayItem::Separator => Box::new(PredefinedMenuItem::separator(app)?),
        });
    }
    Ok(built)
}
