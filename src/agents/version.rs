//! Where a program's version comes from: the `package.json` of the npm package a Node
//! CLI was installed from (read, nothing started), else the program itself, started
//! with its version flag under a deadline and killed when it passes.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The version in the `package.json` of the npm package `program` belongs to: the
/// nearest one above the file it resolves to that names a package, inside a
/// `node_modules` directory (npm links a package's bins there, globally and locally).
pub fn from_package_json(program: &Path) -> Option<String> {
    let target = std::fs::canonicalize(program).ok()?;
    if !target.components().any(|c| c.as_os_str() == "node_modules") {
        return None;
    }
    for dir in target.ancestors().skip(1) {
        if dir.file_name().is_some_and(|n| n == "node_modules") {
            return None;
        }
        let Ok(text) = std::fs::read(dir.join("package.json")) else {
            continue;
        };
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(&text) else {
            continue;
        };
        if json.get("name").is_some() {
            return json["version"].as_str().map(str::to_owned);
        }
    }
    None
}

/// A program started to print its version.
#[derive(Debug)]
pub struct VersionProbe {
    child: Mutex<Option<Child>>,
}

impl VersionProbe {
    /// Starts `program args`; `None` when it cannot be started.
    pub fn start(program: &Path, args: &[String]) -> Option<Self> {
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        Some(Self {
            child: Mutex::new(Some(child)),
        })
    }

    /// The first line it prints, once it exits; `None` when it printed nothing, did
    /// not exit by `deadline` (it is killed) or was killed.
    pub fn wait(&self, deadline: Instant) -> Option<String> {
        loop {
            let mut slot = self.child.lock().unwrap_or_else(|e| e.into_inner());
            let child = slot.as_mut()?;
            match child.try_wait() {
                Ok(Some(_)) => {
                    let mut out = String::new();
                    child.stdout.take()?.read_to_string(&mut out).ok()?;
                    return out
                        .lines()
                        .find(|l| !l.trim().is_empty())
                        .map(|l| l.trim().to_owned());
                }
                Ok(None) if Instant::now() < deadline => {}
                _ => {
                    drop(slot);
                    self.kill();
                    return None;
                }
            }
            drop(slot);
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Kills and reaps it (a listing that stops waiting leaves no process behind).
    pub fn kill(&self) {
        let taken = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut child) = taken {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_node_cli_is_versioned_from_its_package_and_nothing_else_is() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let package = tmp.path().join("node_modules/@scope/tool");
        std::fs::create_dir_all(package.join("dist")).expect("mkdir");
        std::fs::write(
            package.join("package.json"),
            r#"{"name":"@scope/tool","version":"1.2.3"}"#,
        )
        .expect("write");
        std::fs::write(package.join("dist/package.json"), r#"{"type":"module"}"#).expect("w");
        std::fs::write(package.join("dist/cli.js"), "#!/usr/bin/env node\n").expect("write");
        let bin = tmp.path().join("node_modules/.bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        std::os::unix::fs::symlink("../@scope/tool/dist/cli.js", bin.join("tool")).expect("ln");
        assert_eq!(
            from_package_json(&bin.join("tool")).as_deref(),
            Some("1.2.3")
        );

        let plain = tmp.path().join("plain");
        std::fs::write(&plain, "#!/bin/sh\n").expect("write");
        std::fs::write(
            tmp.path().join("package.json"),
            r#"{"name":"x","version":"9"}"#,
        )
        .expect("write");
        assert_eq!(from_package_json(&plain), None, "not from a node_modules");
    }

    #[test]
    fn a_probe_reads_the_first_line_and_one_that_hangs_is_killed_at_its_deadline() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let script = |name: &str, body: &str| {
            let path = tmp.path().join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            path
        };
        let prints = script("prints", "echo; echo 'tool 4.5.6'; echo more");
        let probe = VersionProbe::start(&prints, &[]).expect("start");
        let far = Instant::now() + Duration::from_secs(30);
        assert_eq!(probe.wait(far).as_deref(), Some("tool 4.5.6"));

        let hangs = script("hangs", "exec sleep 600");
        let probe = VersionProbe::start(&hangs, &[]).expect("start");
        let started = Instant::now();
        assert_eq!(probe.wait(started + Duration::from_millis(200)), None);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "killed, not waited for"
        );
    }
}
