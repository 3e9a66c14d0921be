//! Turns the [`TrayModel`] into a Tauri tray icon and menu, and handles clicks.

use tauri::image::Image;
use tauri::menu::{IsMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};

use crate::status::Status;
use crate::tray_model::{OPEN_ID, QUIT_ID, TrayIcon, TrayItem, tray_model};

const IDLE_PNG: &[u8] = include_bytes!("../../icons/tray-idle.png");
const BUSY_PNG: &[u8] = include_bytes!("../../icons/tray-busy.png");
const ALERT_PNG: &[u8] = include_bytes!("../../icons/tray-alert.png");

/// Creates the tray icon from the engine's current state.
pub fn install(app: &AppHandle) -> tauri::Result<()> {
    let engine = app.state::<aiswitch::Engine>();
    let model = tray_model(&Status::read(&engine));
    let menu = build_menu(app, &model.items)?;
    let _ = BUSY_PNG; // shown while agents run (agents arrive in a later issue)
    let icon = Image::from_bytes(match model.icon {
        TrayIcon::Idle => IDLE_PNG,
        TrayIcon::Alert => ALERT_PNG,
    })?;
    TrayIconBuilder::with_id("aiswitch")
        .icon(icon)
        .tooltip(&model.tooltip)
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            QUIT_ID => app.exit(0),
            OPEN_ID => {
                if let Some(window) = app.get_webview_window("dashboard") {
                    let _ = window.show();
                    let _ = window.set_focus();
                }
            }
            _ => {}
        })
        .build(app)?;
    Ok(())
}

fn build_menu(app: &AppHandle, items: &[TrayItem]) -> tauri::Result<Menu<Wry>> {
    let mut built: Vec<Box<dyn IsMenuItem<Wry>>> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        built.push(match item {
            TrayItem::Label(text) => Box::new(MenuItem::with_id(
                app,
                format!("label-{index}"),
                text,
                false,
                None::<&str>,
            )?),
            TrayItem::Action { id, text } => {
                Box::new(MenuItem::with_id(app, *id, text, true, None::<&str>)?)
            }
            TrayItem::Separator => Box::new(PredefinedMenuItem::separator(app)?),
        });
    }
    let refs: Vec<&dyn IsMenuItem<Wry>> = built.iter().map(AsRef::as_ref).collect();
    Menu::with_items(app, &refs)
}
