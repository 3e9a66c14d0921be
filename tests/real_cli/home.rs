//! A private home for one CLI of the real-CLI suite: the user's competing config files,
//! the CLI's package on PATH, aiswitch run with no provider settings leaking in.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Case, STALE_SHELL, USER_FILES, bin_dir, cache_dir, check, tail};
use crate::common;
use crate::common::fake_provider::FakeProvider;

/// A private home outside /tmp (Gemini CLI refuses settings under a world-writable
/// directory), with the user's competing config files.
pub(crate) struct CliHome {
    pub(crate) dir: tempfile::TempDir,
    path: String,
}

impl Drop for CliHome {
    fn drop(&mut self) {
        self.stop_daemon();
    }
}

impl CliHome {
    pub(crate) fn new(case: &Case) -> Self {
        // Under the CLI cache (in the user's home), wherever the checkout is: a clone
        // under /tmp would put the homes under a world-writable directory.
        let parent = cache_dir().join("homes");
        std::fs::create_dir_all(&parent).unwrap();
        let dir = tempfile::Builder::new()
            .prefix("real-cli-")
            .tempdir_in(parent)
            .unwrap();
        for (file, text) in USER_FILES {
            let path = dir.path().join("user").join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        let aiswitch_dir = Path::new(common::BIN).parent().unwrap();
        let path = format!(
            "{}:{}:{}",
            bin_dir(case.package).display(),
            aiswitch_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Self { dir, path }
    }

    /// `text` with the temporary home shown as `/home/user` and the provider's port
    /// as `PORT`.
    pub(crate) fn anonymise(&self, text: &str, provider: &FakeProvider) -> String {
        let root = self.dir.path().display().to_string();
        let port = provider
            .url()
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_owned();
        text.replace(&format!("{root}/user"), "/home/user")
            .replace(&root, "/home/user/.aiswitch-test")
            .replace(&format!("127.0.0.1:{port}"), "127.0.0.1:PORT")
    }

    /// Runs `aiswitch args`, which must succeed and print the fake provider's reply;
    /// its standard output.
    pub(crate) fn run_replying(&self, args: &[&str]) -> Result<String, String> {
        let (code, out, err) = self.run(args, None)?;
        check(code == 0, || {
            format!(
                "`aiswitch {}` exited {code}: {}",
                args.join(" "),
                tail(&err)
            )
        })?;
        check(out.contains("FAKE_REPLY"), || {
            format!(
                "`aiswitch {}` printed no reply: {}",
                args.join(" "),
                tail(&out)
            )
        })?;
        Ok(out)
    }

    /// Checks that the ledger holds exactly `requests` rows from the gateway (what the
    /// provider counted, call for call).
    pub(crate) fn check_metered(&self, requests: usize) -> Result<(), String> {
        let (_, summary, _) = self.run(
            &["tokens", "summary", "--all", "--by", "source", "--json"],
            None,
        )?;
        let summary: serde_json::Value =
            serde_json::from_str(&summary).map_err(|e| e.to_string())?;
        let metered = summary["groups"]
            .as_array()
            .and_then(|g| g.iter().find(|g| g["key"] == "gateway"))
            .and_then(|g| g["runs"].as_u64())
            .unwrap_or(0);
        check(metered == requests as u64, || {
            format!("{requests} requests, the ledger has {metered} from the gateway")
        })
    }

    /// The user's home.
    pub(crate) fn user(&self) -> PathBuf {
        self.dir.path().join("user")
    }

    pub(crate) fn user_files(&self) -> Vec<(String, Vec<u8>)> {
        USER_FILES
            .iter()
            .map(|(file, _)| {
                let bytes = std::fs::read(self.dir.path().join("user").join(file)).unwrap();
                ((*file).to_owned(), bytes)
            })
            .collect()
    }

    pub(crate) fn aiswitch(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(common::BIN);
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            // No real provider settings leak in; IS_SANDBOX (set in some CI
            // sandboxes) makes the Claude ACP adapter pass a flag Claude refuses as root.
            if key.starts_with("AISWITCH_")
                || key.starts_with("ANTHROPIC_")
                || key.starts_with("OPENAI_")
                || key.starts_with("GEMINI_")
                || key.starts_with("GOOGLE_")
                || key == "IS_SANDBOX"
            {
                cmd.env_remove(key);
            }
        }
        cmd.args(args)
            .current_dir(self.dir.path().join("work"))
            .env("AISWITCH_HOME", self.dir.path().join("aiswitch"))
            .env("HOME", self.dir.path().join("user"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("user/.config"))
            .env("XDG_DATA_HOME", self.dir.path().join("user/.local/share"))
            .env("XDG_CACHE_HOME", self.dir.path().join("user/.cache"))
            .env("PATH", &self.path)
            // What a shell holds after the user tried another provider by hand (or
            // an earlier `aiswitch apply`): none of it may reach a run with a preset.
            .envs(STALE_SHELL)
            // What a user would set for a one-shot, unattended run.
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env("GEMINI_CLI_TRUST_WORKSPACE", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs aiswitch with a deadline; (exit code, stdout, stderr).
    pub(crate) fn run(
        &self,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Result<(i32, String, String), String> {
        self.finish(self.aiswitch(args), args, stdin)
    }

    pub(crate) fn finish(
        &self,
        mut cmd: Command,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Result<(i32, String, String), String> {
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        if let Some(text) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        let out = match rx.recv_timeout(Duration::from_secs(180)) {
            Ok(out) => out.map_err(|e| e.to_string())?,
            Err(_) => {
                common::send_signal(pid, "KILL");
                return Err(format!(
                    "`aiswitch {}` did not finish in 180 s",
                    args.join(" ")
                ));
            }
        };
        Ok((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    /// Processes that carry this home in their environment (the CLI and anything
    /// it started).
    /// Stops the daemon `run` started for the gateway, and waits for it.
    pub(crate) fn stop_daemon(&self) {
        let run = self.dir.path().join("aiswitch").join("run");
        if let Some(pid) = aiswitch::daemon::running_pid(&run) {
            common::send_signal(pid.parse().unwrap_or(0), "TERM");
            let deadline = Instant::now() + Duration::from_secs(10);
            while aiswitch::daemon::running_pid(&run).is_some() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    pub(crate) fn processes(&self) -> Vec<u32> {
        let marker = format!(
            "AISWITCH_HOME={}",
            self.dir.path().join("aiswitch").display()
        );
        let me = std::process::id();
        common::procs::all()
            .into_iter()
            .filter(|p| p.1 != 'Z' && p.0 != me)
            .filter(|p| {
                std::fs::read(format!("/proc/{}/environ", p.0))
                    .is_ok_and(|env| env.split(|b| *b == 0).any(|var| var == marker.as_bytes()))
            })
            .map(|p| p.0)
            .collect()
    }
}
