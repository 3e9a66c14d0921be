//! What the desktop app's integration tests share: the app under test and the
//! `aiswitch` binaries beside it.

use std::path::{Path, PathBuf};

/// The app under test.
pub const APP: &str = env!("CARGO_BIN_EXE_aiswitch-desktop");

/// A binary beside the app (`aiswitch`, `aiswitch-agent`, `aiswitch-tray`); fails the test with how to
/// build it when it is missing.
pub fn sibling(name: &str) -> PathBuf {
    let path = Path::new(APP).with_file_name(name);
    assert!(
        path.is_file(),
        "{} is missing: build it first with `cargo build -p aiswitch -p aiswitch-tray`",
        path.display()
    );
    path
}
