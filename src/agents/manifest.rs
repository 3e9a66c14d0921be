//! Agent manifests (TOML): what to run, which driver reads it, how a preset reaches
//! it, and how it is supervised. Validated whole on load, so a bad manifest is
//! refused at `agents register` with the field named.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::drivers::{DriverKind, JsonlSpec};
use super::launch::InjectedFile;
use crate::presets::{EnvVarName, Preset, PresetName, ProviderKind};

/// The placeholders a template may use.
const PLACEHOLDERS: [&str; 4] = ["base_url", "api_key", "model", "preset"];

/// Whether an agent process serves one task or a long-lived session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lifetime {
    /// A new process per task (`claude -p`, `codex exec`).
    #[default]
    PerTask,
    /// One process, many prompts (ACP agents).
    Session,
}

/// When a stopped process is started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartMode {
    /// Never.
    Never,
    /// When it exited with an error or crashed.
    #[default]
    OnFailure,
    /// Whenever it exits.
    Always,
}

/// Restart policy with exponential backoff and a start limit (as systemd's
/// `StartLimitBurst` within `StartLimitIntervalSec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RestartPolicy {
    /// When to restart.
    pub mode: RestartMode,
    /// First backoff delay, in milliseconds; doubles each restart.
    pub backoff_initial_ms: u64,
    /// Largest backoff delay, in milliseconds.
    pub backoff_max_ms: u64,
    /// At most this many restarts within `window_secs`; one more gives up.
    pub max_restarts: u32,
    /// The window of the start limit, in seconds.
    pub window_secs: u64,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            mode: RestartMode::OnFailure,
            backoff_initial_ms: 500,
            backoff_max_ms: 30_000,
            max_restarts: 5,
            window_secs: 60,
        }
    }
}

/// How a preset of one kind reaches this CLI: env vars, flag groups and config
/// files aiswitch writes under its own directory, as templates over `{base_url}`,
/// `{api_key}`, `{model}` and `{preset}`; `{file:NAME}` is the path of file NAME. An
/// entry whose placeholder the preset leaves unset is skipped (a flag group as a
/// whole, a key of a file).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindInjection {
    /// Env vars to set.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Flag groups to add, e.g. `[["-m", "{model}"]]`.
    #[serde(default)]
    pub args: Vec<Vec<String>>,
    /// JSON files to write, by file name: the table is the file's content, with
    /// templates in its keys and strings.
    #[serde(default)]
    pub files: BTreeMap<String, toml::Table>,
    /// The `_meta` of ACP `session/new`, with templates as in files (the Claude ACP
    /// adapter takes extra Claude flags there).
    #[serde(default)]
    pub session_meta: Option<toml::Table>,
    /// What a preset without a key becomes instead: the CLI keeps its own login (a
    /// subscription) and only the base URL and model come from the preset, e.g.
    /// Codex's `requires_openai_auth` provider for its ChatGPT sign-in.
    #[serde(default)]
    pub login: Option<Box<KindInjection>>,
}

/// What a preset becomes for one agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Injection {
    /// Env vars, in order; later ones win.
    pub env: Vec<(String, String)>,
    /// Arguments added after the manifest's own.
    pub args: Vec<String>,
    /// Files the agent reads (written before it starts).
    pub files: Vec<InjectedFile>,
    /// The `_meta` of ACP `session/new`.
    pub session_meta: Option<serde_json::Value>,
    /// The gateway lease the launch's token belongs to, when it goes through the
    /// provider gateway (the token stops working when the last holder drops it).
    pub lease: Option<crate::gateway::LeaseHandle>,
}

/// An agent manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Unique id, used on the command line.
    pub id: PresetName,
    /// Display name.
    pub name: String,
    /// The program.
    pub command: String,
    /// Its fixed arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// How its output is read.
    pub driver: DriverKind,
    /// Per task or long-lived.
    #[serde(default)]
    pub lifetime: Lifetime,
    /// Env vars always set for this agent.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Per preset kind, how a preset is injected; the kinds listed are the ones
    /// this agent can use.
    #[serde(default)]
    pub inject: BTreeMap<ProviderKind, KindInjection>,
    /// Restart policy.
    #[serde(default)]
    pub restart: RestartPolicy,
    /// How many instances may run at once.
    #[serde(default = "one")]
    pub concurrency: u32,
    /// How a user installs the CLI, for the message when it is missing.
    #[serde(default)]
    pub install: Option<String>,
    /// Arguments that print the version.
    #[serde(default = "version_args")]
    pub version_args: Vec<String>,
    /// The JSON-lines dialect, for the `jsonl` driver.
    pub jsonl: Option<JsonlSpec>,
    /// Other spellings of the flags injected (`{ "-m" = "--model" }`), so a flag the
    /// user gives in either spelling replaces the injected one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub flag_aliases: BTreeMap<String, String>,
}

fn one() -> u32 {
    1
}

fn version_args() -> Vec<String> {
    vec!["--version".into()]
}

/// A manifest that cannot be used; the message names the field.
#[derive(Debug, thiserror::Error)]
#[error("invalid agent manifest {source_name}: {message}")]
pub struct ManifestError {
    /// The file (or built-in name).
    pub source_name: String,
    /// What is wrong, naming the field.
    pub message: String,
}

impl Manifest {
    /// Parses and validates a manifest; `source_name` names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, ManifestError> {
        let err = |message: String| ManifestError {
            source_name: source_name.to_owned(),
            message,
        };
        let mut manifest: Self = toml::from_str(text).map_err(|e| {
            let field = e.span().map(|s| describe_span(text, s)).unwrap_or_default();
            err(format!("{}{field}", e.message()))
        })?;
        // Without a `lifetime`, the driver says: an ACP agent runs as a session.
        let lifetime_given = text
            .parse::<toml::Table>()
            .is_ok_and(|t| t.contains_key("lifetime"));
        if !lifetime_given && manifest.driver == DriverKind::Acp {
            manifest.lifetime = Lifetime::Session;
        }
        manifest.validate().map_err(err)?;
        Ok(manifest)
    }

    /// Reads and validates a manifest file.
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|e| ManifestError {
            source_name: path.display().to_string(),
            message: format!("cannot read it: {e}"),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    fn validate(&self) -> Result<(), String> {
        if self.command.trim().is_empty() {
            return Err("field `command` is empty: name the program to run".into());
        }
        if self.concurrency == 0 {
            return Err("field `concurrency` must be at least 1".into());
        }
        if (self.driver == DriverKind::Jsonl) != self.jsonl.is_some() {
            return Err("field `jsonl` is required with driver = \"jsonl\" and only then".into());
        }
        for name in self.env.keys() {
            EnvVarName::parse(name)
                .map_err(|_| format!("field `env`: invalid env var name {name:?}"))?;
        }
        for (kind, injection) in &self.inject {
            check_injection(&format!("inject.{kind}"), injection)?;
            if let Some(login) = &injection.login {
                if login.login.is_some() {
                    return Err(format!(
                        "field `inject.{kind}.login`: a login has no login of its own"
                    ));
                }
                check_injection(&format!("inject.{kind}.login"), login)?;
            }
        }
        let policy = &self.restart;
        if policy.backoff_initial_ms == 0 || policy.backoff_max_ms < policy.backoff_initial_ms {
            return Err(
                "field `restart`: backoff_initial_ms must be > 0 and <= backoff_max_ms".into(),
            );
        }
        Ok(())
    }

    /// The injected flag groups (of `injected`, flat) that the user's own arguments
    /// replace: a single-valued flag (injected once) that the user also gives, as
    /// `--flag value`, `--flag=value` or another spelling the manifest knows. Returns
    /// the injected arguments to keep and those dropped.
    pub fn user_flags_win(
        &self,
        injected: &[String],
        user: &[String],
    ) -> (Vec<String>, Vec<String>) {
        let spellings = |flag: &str| -> Vec<String> {
            let mut all = vec![flag.to_owned()];
            for (a, b) in &self.flag_aliases {
                if a == flag {
                    all.push(b.clone());
                }
                if b == flag {
                    all.push(a.clone());
                }
            }
            all
        };
        let given = |flag: &str| {
            spellings(flag).iter().any(|spelling| {
                user.iter().any(|arg| {
                    arg == spelling
                        || arg
                            .strip_prefix(spelling.as_str())
                            .is_some_and(|rest| rest.starts_with('='))
                })
            })
        };
        // Split the flat list back into groups: a flag and the values after it.
        let mut groups: Vec<Vec<String>> = Vec::new();
        for arg in injected {
            match groups.last_mut() {
                Some(group) if !arg.starts_with('-') => group.push(arg.clone()),
                _ => groups.push(vec![arg.clone()]),
            }
        }
        let count = |flag: &str| groups.iter().filter(|g| g[0] == flag).count();
        let (mut keep, mut dropped) = (Vec::new(), Vec::new());
        for group in &groups {
            let flag = &group[0];
            if flag.starts_with('-') && count(flag) == 1 && given(flag) {
                dropped.extend(group.iter().cloned());
            } else {
                keep.extend(group.iter().cloned());
            }
        }
        (keep, dropped)
    }

    /// True when this agent can use presets of `kind`.
    pub fn accepts(&self, kind: ProviderKind) -> bool {
        self.inject.contains_key(&kind)
    }

    /// The env vars, extra arguments and files that inject `preset` into this
    /// agent (files go in `files_dir`), or the kinds it accepts when it cannot use
    /// this one.
    pub fn injection(
        &self,
        preset: &Preset,
        files_dir: &Path,
    ) -> Result<Injection, Vec<ProviderKind>> {
        let Some(injection) = self.inject.get(&preset.kind) else {
            return Err(self.inject.keys().copied().collect());
        };
        let injection = match (&preset.api_key, &injection.login) {
            (None, Some(login)) => login,
            _ => injection,
        };
        let values = |name: &str| -> Option<String> {
            match name {
                "base_url" => preset.base_url.clone(),
                "api_key" => preset.api_key.as_ref().map(|k| k.expose().to_owned()),
                "model" => preset.model.clone(),
                "preset" => Some(preset.name.to_string()),
                _ => name
                    .strip_prefix("file:")
                    .map(|file| files_dir.join(file).display().to_string()),
            }
        };
        let mut env: Vec<(String, String)> = injection
            .env
            .iter()
            .filter_map(|(name, template)| render(template, &values).map(|v| (name.clone(), v)))
            .collect();
        // The preset's raw env vars apply as given, after (and so over) the mapping.
        env.extend(preset.env.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let args = injection
            .args
            .iter()
            .filter_map(|group| {
                group
                    .iter()
                    .map(|a| render(a, &values))
                    .collect::<Option<Vec<_>>>()
            })
            .flatten()
            .collect();
        let files = injection
            .files
            .iter()
            .map(|(name, table)| InjectedFile {
                path: files_dir.join(name),
                contents: render_json(&toml::Value::Table(table.clone()), &values)
                    .map(|v| format!("{v:#}\n"))
                    .unwrap_or_else(|| "{}\n".into()),
            })
            .collect();
        let session_meta = injection
            .session_meta
            .as_ref()
            .and_then(|meta| render_json(&toml::Value::Table(meta.clone()), &values));
        Ok(Injection {
            env,
            args,
            files,
            session_meta,
            lease: None,
        })
    }
}

/// Checks one injection table (`label` names it in errors).
fn check_injection(label: &str, injection: &KindInjection) -> Result<(), String> {
    let files: Vec<&str> = injection.files.keys().map(String::as_str).collect();
    for name in injection.files.keys() {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Err(format!(
                "field `{label}.files`: {name:?} must be a plain file name"
            ));
        }
    }
    for (name, template) in &injection.env {
        EnvVarName::parse(name)
            .map_err(|_| format!("field `{label}.env`: invalid env var name {name:?}"))?;
        check_template(template, &files).map_err(|e| format!("field `{label}.env.{name}`: {e}"))?;
    }
    for (name, table) in &injection.files {
        check_table(table, &[]).map_err(|e| format!("field `{label}.files.{name}`: {e}"))?;
    }
    if let Some(meta) = &injection.session_meta {
        check_table(meta, &files).map_err(|e| format!("field `{label}.session_meta`: {e}"))?;
    }
    for group in &injection.args {
        for arg in group {
            check_template(arg, &files).map_err(|e| format!("field `{label}.args`: {e}"))?;
            if arg.contains("{api_key}") {
                return Err(format!(
                    "field `{label}.args`: {{api_key}} may not appear in arguments (other users can read them in ps); pass it in `env`"
                ));
            }
        }
    }
    Ok(())
}

/// Checks the templates in a file's keys and strings (files cannot name files).
fn check_table(table: &toml::Table, files: &[&str]) -> Result<(), String> {
    for (key, value) in table {
        check_template(key, files)?;
        check_value(value, files)?;
    }
    Ok(())
}

fn check_value(value: &toml::Value, files: &[&str]) -> Result<(), String> {
    match value {
        toml::Value::String(s) => check_template(s, files),
        toml::Value::Table(t) => check_table(t, files),
        toml::Value::Array(items) => items.iter().try_for_each(|v| check_value(v, files)),
        _ => Ok(()),
    }
}

/// A file's content as JSON with its placeholders filled; a key or string whose
/// placeholder has no value is left out (`None` at the top means all of it).
fn render_json(
    value: &toml::Value,
    values: &dyn Fn(&str) -> Option<String>,
) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    Some(match value {
        toml::Value::String(s) => J::String(render(s, values)?),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => J::from(*f),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(items) => J::Array(
            items
                .iter()
                .filter_map(|v| render_json(v, values))
                .collect(),
        ),
        toml::Value::Table(table) => J::Object(
            table
                .iter()
                .filter_map(|(k, v)| Some((render(k, values)?, render_json(v, values)?)))
                .collect(),
        ),
    })
}

/// Checks that every `{word}` in a template is a known placeholder and every
/// `{file:NAME}` names one of `files`. Other braces (TOML inline tables in codex `-c`
/// values) are literal.
fn check_template(template: &str, files: &[&str]) -> Result<(), String> {
    for (start, _) in template.match_indices("{file:") {
        let rest = &template[start + "{file:".len()..];
        let name = rest.split('}').next().unwrap_or_default();
        if !files.contains(&name) {
            return Err(format!(
                "{{file:{name}}} names no file of this kind's `files`"
            ));
        }
    }
    for (start, _) in template.match_indices('{') {
        let after = &template[start + 1..];
        let word_len = after
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..word_len];
        if !name.is_empty() && after[word_len..].starts_with('}') && !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "unknown placeholder {{{name}}}; use {{base_url}}, {{api_key}}, {{model}} or {{preset}}"
            ));
        }
    }
    Ok(())
}

/// Fills placeholders in one pass over the template: a value is never read again
/// for placeholders (a base URL holding `{api_key}` stays literal). Braces that
/// open no known placeholder (TOML inline tables in codex `-c` values) are literal.
/// `None` when a placeholder has no value.
fn render(template: &str, values: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name = after.find('}').map(|close| &after[..close]).filter(|name| {
            PLACEHOLDERS.contains(name) || name.strip_prefix("file:").is_some_and(|f| !f.is_empty())
        });
        match name {
            Some(name) => {
                out.push_str(&values(name)?);
                rest = &after[name.len() + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

/// "(line N, `text`)" for a TOML error span.
fn describe_span(text: &str, span: std::ops::Range<usize>) -> String {
    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
    let snippet: String = text
        .get(span.clone())
        .unwrap_or_default()
        .chars()
        .take(40)
        .collect();
    format!(" (line {line}: `{}`)", snippet.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets::Secret;

    const BASIC: &str = "id = \"x\"\nname = \"X\"\ncommand = \"x\"\ndriver = \"acp\"\n";

    #[test]
    fn values_are_substituted_once() {
        let values = |name: &str| match name {
            "base_url" => Some("https://h/{api_key}/{file:x}".to_owned()),
            "api_key" => Some("sk-secret".to_owned()),
            "file:x" => Some("/path/x".to_owned()),
            _ => None,
        };
        assert_eq!(
            render("url={base_url} key={api_key}", &values).as_deref(),
            Some("url=https://h/{api_key}/{file:x} key=sk-secret")
        );
        assert_eq!(
            render("{ name = \"a\", f = \"{file:x}\" }", &values).as_deref(),
            Some("{ name = \"a\", f = \"/path/x\" }")
        );
        assert_eq!(render("{model}", &values), None);
    }

    #[test]
    fn unknown_driver_and_fields_are_named() {
        let err =
            Manifest::parse(&BASIC.replace("acp", "smoke-signals"), "m.toml").expect_err("driver");
        assert!(err.to_string().contains("smoke-signals"), "{err}");
        let err = Manifest::parse(&format!("{BASIC}colour = 1\n"), "m.toml").expect_err("field");
        assert!(err.to_string().contains("colour"), "{err}");
        let err = Manifest::parse(&BASIC.replace("command = \"x\"\n", ""), "m.toml")
            .expect_err("command");
        assert!(err.to_string().contains("command"), "{err}");
    }

    #[test]
    fn bad_env_mappings_are_refused() {
        let bad_name = format!("{BASIC}[inject.openai.env]\n\"1BAD\" = \"{{base_url}}\"\n");
        let err = Manifest::parse(&bad_name, "m").expect_err("name");
        assert!(err.to_string().contains("inject.openai.env"), "{err}");
        let bad_placeholder =
            format!("{BASIC}[inject.openai.env]\nOPENAI_BASE_URL = \"{{base_ur}}\"\n");
        let err = Manifest::parse(&bad_placeholder, "m").expect_err("placeholder");
        assert!(err.to_string().contains("{base_ur}"), "{err}");
        let key_in_args =
            format!("{BASIC}[inject.openai]\nargs = [[\"--key\", \"{{api_key}}\"]]\n");
        let err = Manifest::parse(&key_in_args, "m").expect_err("key in args");
        assert!(
            err.to_string().contains("may not appear in arguments"),
            "{err}"
        );
    }

    #[test]
    fn injection_skips_what_the_preset_leaves_unset() {
        let text = format!(
            "{BASIC}[inject.openai]\nenv = {{ OPENAI_API_KEY = \"{{api_key}}\", OPENAI_BASE_URL = \"{{base_url}}\" }}\nargs = [[\"-m\", \"{{model}}\"], [\"--tag\", \"{{preset}}\"]]\n"
        );
        let manifest = Manifest::parse(&text, "m").expect("valid");
        let mut preset = Preset::new(PresetName::parse("p").expect("n"), ProviderKind::Openai);
        preset.api_key = Some(Secret::new("sk-1"));
        let injection = manifest
            .injection(&preset, Path::new("/f"))
            .expect("accepted");
        assert_eq!(
            injection.env,
            vec![("OPENAI_API_KEY".to_owned(), "sk-1".to_owned())]
        );
        assert_eq!(
            injection.args,
            ["--tag", "p"],
            "the -m group is dropped whole"
        );
        let gemini = Preset::new(PresetName::parse("g").expect("n"), ProviderKind::Gemini);
        assert_eq!(
            manifest
                .injection(&gemini, Path::new("/f"))
                .expect_err("refused"),
            vec![ProviderKind::Openai]
        );
    }

    #[test]
    fn a_preset_without_a_key_takes_the_login_injection() {
        let text = format!(
            "{BASIC}[inject.openai]\nenv = {{ KEY = \"{{api_key}}\" }}\nargs = [[\"--provider\", \"keyed\"]]\n[inject.openai.login]\nargs = [[\"--provider\", \"login\"], [\"--url\", \"{{base_url}}\"]]\n"
        );
        let manifest = Manifest::parse(&text, "m").expect("valid");
        let mut preset = Preset::new(PresetName::parse("p").expect("n"), ProviderKind::Openai);
        preset.base_url = Some("https://chatgpt.example/codex".into());
        let login = manifest
            .injection(&preset, Path::new("/f"))
            .expect("accepted");
        assert_eq!(
            login.args,
            [
                "--provider",
                "login",
                "--url",
                "https://chatgpt.example/codex"
            ]
        );
        assert!(login.env.is_empty());
        preset.api_key = Some(Secret::new("sk-1"));
        let keyed = manifest
            .injection(&preset, Path::new("/f"))
            .expect("accepted");
        assert_eq!(keyed.args, ["--provider", "keyed"]);
        let nested = format!("{text}[inject.openai.login.login]\n");
        let err = Manifest::parse(&nested, "m").expect_err("refused");
        assert!(err.to_string().contains("inject.openai.login"), "{err}");
    }
}
