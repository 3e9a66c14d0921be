//! The tray's three icons (idle, busy, alert), as the ARGB32 pixmaps a
//! StatusNotifierItem carries, decoded once from the PNGs in `icons/`.

use std::sync::LazyLock;

use crate::tray_model::TrayIcon;

static IDLE: LazyLock<ksni::Icon> =
    LazyLock::new(|| decode(include_bytes!("../../icons/tray-idle.png")));
static BUSY: LazyLock<ksni::Icon> =
    LazyLock::new(|| decode(include_bytes!("../../icons/tray-busy.png")));
static ALERT: LazyLock<ksni::Icon> =
    LazyLock::new(|| decode(include_bytes!("../../icons/tray-alert.png")));

/// The pixmap of `icon`.
pub fn pixmap(icon: TrayIcon) -> ksni::Icon {
    match icon {
        TrayIcon::Idle => IDLE.clone(),
        TrayIcon::Busy => BUSY.clone(),
        TrayIcon::Alert => ALERT.clone(),
    }
}

/// An 8-bit RGBA PNG as ARGB32 in network byte order. The icons are ours and built
/// in: one that does not decode is a bug, shown as an empty icon rather than a crash.
fn decode(png_bytes: &[u8]) -> ksni::Icon {
    let empty = ksni::Icon {
        width: 0,
        height: 0,
        data: Vec::new(),
    };
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let Ok(mut reader) = decoder.read_info() else {
        return empty;
    };
    let Some(size) = reader.output_buffer_size() else {
        return empty;
    };
    let mut data = vec![0; size];
    let Ok(frame) = reader.next_frame(&mut data) else {
        return empty;
    };
    if frame.color_type != png::ColorType::Rgba || frame.bit_depth != png::BitDepth::Eight {
        return empty;
    }
    data.truncate(frame.buffer_size());
    for pixel in data.chunks_exact_mut(4) {
        pixel.rotate_right(1); // RGBA -> ARGB
    }
    ksni::Icon {
        width: i32::try_from(frame.width).unwrap_or(0),
        height: i32::try_from(frame.height).unwrap_or(0),
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_icon_decodes_to_a_32_pixel_square_of_argb() {
        for icon in [TrayIcon::Idle, TrayIcon::Busy, TrayIcon::Alert] {
            let pixmap = pixmap(icon);
            assert_eq!((pixmap.width, pixmap.height), (32, 32), "{icon:?}");
            assert_eq!(pixmap.data.len(), 32 * 32 * 4, "{icon:?}");
            // Not all transparent: something is drawn.
            assert!(pixmap.data.chunks(4).any(|p| p[0] > 0), "{icon:?}");
        }
        assert_ne!(pixmap(TrayIcon::Idle).data, pixmap(TrayIcon::Alert).data);
    }
}
