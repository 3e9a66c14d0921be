//! `aiswitch doctor`: which agent CLIs are installed and which presets each can use,
//! every place where the user's own settings compete with a preset (and whether
//! aiswitch beats it, with the fix when it does not), directory permissions, and the
//! daemon's state. It only reads.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::{AgentInfo, Engine};
use crate::Error;

/// One agent CLI.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorAgent {
    /// The agent as `agents list` shows it (path and version when installed).
    #[serde(flatten)]
    pub info: AgentInfo,
    /// The presets of a kind it takes.
    pub presets: Vec<String>,
}

/// A user setting that competes with a preset.
#[derive(Debug, Clone, Serialize)]
pub struct Override {
    /// The file.
    pub file: PathBuf,
    /// The setting, as a path in it (`env.ANTHROPIC_BASE_URL`).
    pub setting: String,
    /// The agents it concerns.
    pub agents: Vec<String>,
    /// True when aiswitch's injection beats it.
    pub beaten: bool,
    /// How aiswitch beats it, or how to fix it.
    pub note: String,
}

/// A directory aiswitch keeps files in.
#[derive(Debug, Clone, Serialize)]
pub struct DirectoryCheck {
    /// What it holds.
    pub role: &'static str,
    /// Where.
    pub path: PathBuf,
    /// Its mode, e.g. `700`, when it exists.
    pub mode: Option<String>,
    /// What is wrong with it, if anything.
    pub problem: Option<String>,
}

/// Everything `doctor` found.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    /// Agent CLIs.
    pub agents: Vec<DoctorAgent>,
    /// Competing user settings.
    pub overrides: Vec<Override>,
    /// aiswitch's directories.
    pub directories: Vec<DirectoryCheck>,
    /// The daemon's pid when one runs.
    pub daemon_pid: Option<String>,
}

impl DoctorReport {
    /// True when something needs the user's attention.
    pub fn has_problems(&self) -> bool {
        self.overrides.iter().any(|o| !o.beaten)
            || self.directories.iter().any(|d| d.problem.is_some())
    }
}

impl Engine {
    /// Looks at the agent CLIs, the user's settings under `home` and aiswitch's own
    /// directories: the agent discovery and the file checks run side by side.
    pub fn doctor(&self, home: &Path) -> Result<DoctorReport, Error> {
        let presets = self.list_presets()?.presets;
        let (infos, overrides, directories) = std::thread::scope(|scope| {
            let listing = scope.spawn(|| self.list_agents(false).0);
            let overrides = scope.spawn(|| {
                let claude_env = self.claude_settings_env();
                user_overrides(home, &self.paths.data_dir, &claude_env)
            });
            let directories = vec![
                check_dir("config", &self.paths.config_dir),
                check_dir("data", &self.paths.data_dir),
                check_dir("runtime", &self.paths.runtime_dir),
            ];
            (joined(listing), joined(overrides), directories)
        });
        let agents = infos
            .into_iter()
            .map(|info| DoctorAgent {
                presets: presets
                    .iter()
                    .filter(|p| info.accepts.contains(&p.kind))
                    .map(|p| p.name.to_string())
                    .collect(),
                info,
            })
            .collect();
        Ok(DoctorReport {
            agents,
            overrides,
            directories,
            daemon_pid: crate::daemon::running_pid(&self.paths.runtime_dir),
        })
    }
}

impl Engine {
    /// The env block of the settings file aiswitch would give Claude Code here: the
    /// variables that beat the user's own `env` block (`None`: no preset applies).
    fn claude_settings_env(&self) -> Option<Vec<String>> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let choice = self.choose_preset(Some("claude"), None, &cwd).ok()??;
        let manifest = self.agent_registry().get("claude").ok()?;
        let injection = self.injection(&manifest, &choice.preset).ok()?;
        let file = injection
            .files
            .iter()
            .find(|f| f.path.file_name().is_some_and(|n| n == "settings.json"))?;
        let json: Value = serde_json::from_str(&file.contents).ok()?;
        Some(
            json.get("env")
                .and_then(Value::as_object)
                .map(|env| env.keys().cloned().collect())
                .unwrap_or_default(),
        )
    }
}

/// A scoped thread's result; its panic goes on in the caller.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

fn check_dir(role: &'static str, path: &Path) -> DirectoryCheck {
    let mode = std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777);
    let problem = match mode {
        Some(mode) if mode & 0o077 != 0 => Some(format!(
            "readable by others (mode {mode:o}): run `chmod 700 {}`",
            path.display()
        )),
        _ => None,
    };
    DirectoryCheck {
        role,
        path: path.to_path_buf(),
        mode: mode.map(|m| format!("{m:o}")),
        problem,
    }
}

/// A value at a dotted path in JSON.
fn at<'a>(json: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(json, |v, key| v.get(key))
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Whether aiswitch beats the user's Claude `env.NAME`: only when its own settings
/// file (`ours`, for the preset that applies here) sets the same variable; a preset
/// without a base URL leaves the user's URL in force.
fn claude_verdict(ours: Option<&[String]>, name: &str) -> (bool, &'static str) {
    match ours {
        Some(ours) if ours.iter().any(|o| o == name) => (
            true,
            "beaten: aiswitch passes its own settings file (claude --settings; the ACP adapter through session/new _meta)",
        ),
        Some(_) => (
            false,
            "wins: the preset that applies here does not set it; set that field on the preset (base URL, key or model) or remove it from the file",
        ),
        None => (
            false,
            "wins: no preset applies here (`aiswitch use PRESET` or `aiswitch use --here PRESET`)",
        ),
    }
}

/// Every competing setting found in the user's files under `home`; `claude_env` is
/// what aiswitch's own Claude settings file sets for the preset that applies.
fn user_overrides(home: &Path, data_dir: &Path, claude_env: &Option<Vec<String>>) -> Vec<Override> {
    let mut found = Vec::new();
    let mut add = |file: &Path, setting: String, agents: &[&str], beaten: bool, note: &str| {
        found.push(Override {
            file: file.to_path_buf(),
            setting,
            agents: agents.iter().map(|a| (*a).to_owned()).collect(),
            beaten,
            note: note.to_owned(),
        });
    };

    let claude = home.join(".claude/settings.json");
    if let Some(Value::Object(env)) = read_json(&claude).as_ref().and_then(|j| at(j, "env")) {
        for name in env.keys().filter(|k| k.starts_with("ANTHROPIC_")) {
            let (beaten, note) = claude_verdict(claude_env.as_deref(), name);
            add(
                &claude,
                format!("env.{name}"),
                &["claude", "claude-acp"],
                beaten,
                note,
            );
        }
    }

    let codex = home.join(".codex/config.toml");
    if let Some(table) = std::fs::read_to_string(&codex)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
    {
        for key in ["model_provider", "model"] {
            if table.contains_key(key) {
                add(
                    &codex,
                    key.to_owned(),
                    &["codex", "codex-acp"],
                    true,
                    "beaten: aiswitch passes -c model_provider=aiswitch -c model=...",
                );
            }
        }
    }

    let gemini = home.join(".gemini/settings.json");
    if let Some(json) = read_json(&gemini) {
        if at(&json, "security.auth.selectedType").is_some() {
            add(
                &gemini,
                "security.auth.selectedType".into(),
                &["gemini", "gemini-print"],
                true,
                "beaten: aiswitch selects gemini-api-key in its own system settings file (GEMINI_CLI_SYSTEM_SETTINGS_PATH)",
            );
        }
        if let Some(enforced) = at(&json, "security.auth.enforcedType") {
            add(
                &gemini,
                "security.auth.enforcedType".into(),
                &["gemini", "gemini-print"],
                enforced == "gemini-api-key",
                "wins: Gemini CLI refuses any other auth type; remove it from the file to use API-key presets",
            );
        }
        if at(&json, "model.name").is_some() {
            add(
                &gemini,
                "model.name".into(),
                &["gemini", "gemini-print"],
                true,
                "beaten: GEMINI_MODEL beats it",
            );
        }
    }
    // Gemini refuses a system settings file under a directory others can write.
    if let Some(open) = data_dir
        .ancestors()
        .find(|d| std::fs::metadata(d).is_ok_and(|m| m.permissions().mode() & 0o022 != 0))
    {
        add(
            open,
            "permissions".into(),
            &["gemini", "gemini-print"],
            false,
            "wins: Gemini CLI ignores aiswitch's settings file under a directory others can write; set AISWITCH_HOME (or XDG_DATA_HOME) to a directory in your home",
        );
    }

    let qwen = home.join(".qwen/settings.json");
    if let Some(json) = read_json(&qwen) {
        for (setting, how) in [
            ("model.name", "beaten: aiswitch passes -m"),
            (
                "security.auth.selectedType",
                "beaten: aiswitch passes --auth-type",
            ),
        ] {
            if at(&json, setting).is_some() {
                add(&qwen, setting.into(), &["qwen"], true, how);
            }
        }
    }

    let opencode = home.join(".config/opencode/opencode.json");
    if let Some(json) = read_json(&opencode)
        && json.get("model").is_some()
    {
        add(
            &opencode,
            "model".into(),
            &["opencode", "opencode-run"],
            true,
            "beaten: aiswitch's config file (OPENCODE_CONFIG) is merged over it",
        );
    }
    found
}
