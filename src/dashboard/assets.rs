//! The web UI's files, embedded at build time (build.rs), by path.

include!(concat!(env!("OUT_DIR"), "/ui_files.rs"));

/// Served when the binary was built without `ui/dist`.
const NOT_BUILT: &[u8] = b"<!doctype html><title>aiswitch</title><p>This aiswitch was built \
without its web UI: run <code>npm --prefix ui ci && npm --prefix ui run build</code>, then \
<code>cargo build</code> again.</p>";

/// The file at `path` (no leading slash) and its media type. Paths without an
/// extension are the single-page app's routes: they get `index.html`.
pub fn file(path: &str) -> Option<(&'static [u8], &'static str)> {
    let path = if path.is_empty() || !path.rsplit('/').next().unwrap_or("").contains('.') {
        "index.html"
    } else {
        path
    };
    let found = FILES
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, bytes)| *bytes);
    let bytes = match found {
        Some(bytes) => bytes,
        None if path == "index.html" => NOT_BUILT,
        None => return None,
    };
    Some((bytes, media_type(path)))
}

fn media_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_get_the_page_and_unknown_files_nothing() {
        let (page, kind) = file("tasks/t1").expect("a route");
        assert_eq!(kind, "text/html; charset=utf-8");
        assert_eq!(file("").map(|f| f.0), Some(page));
        assert!(file("assets/missing.js").is_none());
    }
}
