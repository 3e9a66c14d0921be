//! Turns the [`TrayModel`] into a Tauri tray icon and menu, updates it in place, and
//! hands clicks to the engine. When a new model has the same items as the shown one
//! (only texts and check marks differ) the items are changed where they are, so an open
//! menu stays open and its items keep their ids; otherwise the menu is rebuilt.

use std::sync::Mutex;

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

use tauri_plugin_autostart::ManagerExt;

use crate::host::Host;
use crate::tray_model::{MenuCommand, TrayIcon, TrayItem, TrayModel};

const IDLE_PNG: &[u8] = include_bytes!("../../icons/tray-idle.png");
const BUSY_PNG: &[u8] = include_bytes!("../../icons/tray-busy.png");
const ALERT_PNG: &[u8] = include_bytes!("../../icons/tray-alert.png");

/// The tray icon's id.
const TRAY_ID: &str = "aiswitch";

/// The menu shown: its model and the handles of its items, in pre-order.
#[derive(Default)]
pub struct Shown(Mutex<Option<(Vec<TrayItem>, Vec<Handle>)>>);

/// A built menu item, to change in place.
pub enum Handle {
    /// A label or an action.
    Item(MenuItem<Wry>),
    /// A check item.
    Check(CheckMenuItem<Wry>),
    /// A submenu.
    Submenu(Submenu<Wry>),
    /// A separator.
    Separator,
}

/// Creates the tray icon showing `model`.
pub fn install(app: &AppHandle, model: &TrayModel) -> tauri::Result<()> {
    let mut handles = Vec::new();
    let menu = build_menu(app, &model.items, &mut handles)?;
    *lock(&app.state::<Shown>().0) = Some((model.items.clone(), handles));
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(model.icon)?)
        .tooltip(&model.tooltip)
        .menu(&menu)
        // Left click opens the dashboard where the platform reports it (not with
        // appindicator on Linux); the menu is on right click.
        .show_menu_on_left_click(false)
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                crate::window::open_dashboard(tray.app_handle());
            }
        })
        .on_menu_event(|app, event| {
            if let Some(command) = MenuCommand::parse(event.id().as_ref()) {
                run(app, command);
            }
        })
        .build(app)?;
    Ok(())
}

/// Shows `model` in the tray: icon, tooltip and menu (in place when it can).
pub fn show(app: &AppHandle, model: &TrayModel) -> tauri::Result<()> {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return Ok(());
    };
    let shown = app.state::<Shown>();
    let mut shown = lock(&shown.0);
    match shown.as_mut() {
        Some((items, handles)) if same_shape(items, &model.items) => {
            update(&model.items, &mut handles.iter())?;
            items.clone_from(&model.items);
        }
        _ => {
            let mut handles = Vec::new();
            tray.set_menu(Some(build_menu(app, &model.items, &mut handles)?))?;
            *shown = Some((model.items.clone(), handles));
        }
    }
    tray.set_tooltip(Some(&model.tooltip))?;
    tray.set_icon(Some(icon(model.icon)?))
}

/// The same items in the same places: only texts and check marks may differ.
fn same_shape(old: &[TrayItem], new: &[TrayItem]) -> bool {
    old.len() == new.len()
        && old.iter().zip(new).all(|pair| match pair {
            (TrayItem::Label(_), TrayItem::Label(_))
            | (TrayItem::Separator, TrayItem::Separator) => true,
            (TrayItem::Action { command: a, .. }, TrayItem::Action { command: b, .. })
            | (TrayItem::Check { command: a, .. }, TrayItem::Check { command: b, .. }) => a == b,
            (TrayItem::Submenu { items: a, .. }, TrayItem::Submenu { items: b, .. }) => {
                same_shape(a, b)
            }
            _ => false,
        })
}

/// Sets the texts and check marks of `items` on their handles (pre-order).
fn update<'a>(
    items: &[TrayItem],
    handles: &mut impl Iterator<Item = &'a Handle>,
) -> tauri::Result<()> {
    for item in items {
        match (item, handles.next()) {
            (TrayItem::Label(text) | TrayItem::Action { text, .. }, Some(Handle::Item(handle))) => {
                retext(handle.text()?, text, |t| handle.set_text(t))?;
            }
            (TrayItem::Check { text, checked, .. }, Some(Handle::Check(handle))) => {
                retext(handle.text()?, text, |t| handle.set_text(t))?;
                if handle.is_checked()? != *checked {
                    handle.set_checked(*checked)?;
                }
            }
            (TrayItem::Submenu { text, items }, Some(Handle::Submenu(handle))) => {
                retext(handle.text()?, text, |t| handle.set_text(t))?;
                update(items, handles)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Sets `text` when it differs from what is shown (an unchanged label is not touched).
fn retext(
    shown: String,
    text: &str,
    set: impl FnOnce(&str) -> tauri::Result<()>,
) -> tauri::Result<()> {
    if shown == text { Ok(()) } else { set(text) }
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
        MenuCommand::Open => crate::window::open_dashboard(app),
        MenuCommand::Launch => crate::window::open_dashboard_at(app, "/launch"),
        MenuCommand::OpenTask(id) => crate::window::open_dashboard_at(app, &format!("/task/{id}")),
        MenuCommand::OpenAlerts => crate::window::open_dashboard_at(app, "/alerts"),
        MenuCommand::StartAtLogin => {
            let login = app.autolaunch();
            let switched = if login.is_enabled().unwrap_or(false) {
                login.disable()
            } else {
                login.enable()
            };
            if let Err(e) = switched {
                eprintln!("aiswitch-desktop: cannot change starting at login: {e}");
            }
            app.state::<Host>().wake();
        }
        other => app.state::<Host>().act(other),
    }
}

fn build_menu(
    app: &AppHandle,
    items: &[TrayItem],
    handles: &mut Vec<Handle>,
) -> tauri::Result<Menu<Wry>> {
    let built = build_items(app, items, handles)?;
    let refs: Vec<&dyn IsMenuItem<Wry>> = built.iter().map(AsRef::as_ref).collect();
    Menu::with_items(app, &refs)
}

/// Builds `items`, pushing each one's handle in pre-order.
fn build_items(
    app: &AppHandle,
    items: &[TrayItem],
    handles: &mut Vec<Handle>,
) -> tauri::Result<Vec<Box<dyn IsMenuItem<Wry>>>> {
    let mut built: Vec<Box<dyn IsMenuItem<Wry>>> = Vec::with_capacity(items.len());
    for item in items {
        built.push(match item {
            TrayItem::Label(text) => {
                let id = format!("label-{}", handles.len());
                let label = MenuItem::with_id(app, id, text, false, None::<&str>)?;
                handles.push(Handle::Item(label.clone()));
                Box::new(label)
            }
            TrayItem::Action { command, text } => {
                let action = MenuItem::with_id(app, command.id(), text, true, None::<&str>)?;
                handles.push(Handle::Item(action.clone()));
                Box::new(action)
            }
            TrayItem::Check {
                command,
                text,
                checked,
            } => {
                let check =
                    CheckMenuItem::with_id(app, command.id(), text, true, *checked, None::<&str>)?;
                handles.push(Handle::Check(check.clone()));
                Box::new(check)
            }
            TrayItem::Submenu { text, items } => {
                let index = handles.len();
                handles.push(Handle::Separator); // its place, filled below
                let children = build_items(app, items, handles)?;
                let refs: Vec<&dyn IsMenuItem<Wry>> = children.iter().map(AsRef::as_ref).collect();
                let submenu = Submenu::with_items(app, text, true, &refs)?;
                handles[index] = Handle::Submenu(submenu.clone());
                Box::new(submenu)
            }
            TrayItem::Separator => {
                handles.push(Handle::Separator);
                Box::new(PredefinedMenuItem::separator(app)?)
            }
        });
    }
    Ok(built)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
