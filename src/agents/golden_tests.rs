//! Golden tests: the exact env vars, flags, files and ACP `_meta` every built-in
//! manifest produces for a preset of each kind, compared with
//! `src/agents/builtin/injection.golden`. After a deliberate change, rewrite it with
//! `UPDATE_GOLDEN=1 cargo test -q --lib golden` and review the diff.

use std::fmt::Write as _;
use std::path::Path;

use super::AgentRegistry;
use crate::presets::{EnvVarName, Preset, PresetName, ProviderKind, Secret};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/agents/builtin/injection.golden"
);

fn preset(kind: ProviderKind) -> Preset {
    let mut preset = Preset::new(PresetName::parse("golden").expect("name"), kind);
    if kind == ProviderKind::Custom {
        preset
            .env
            .insert(EnvVarName::parse("RAW_VAR").expect("var"), "raw".into());
    } else {
        preset.base_url = Some(format!("https://{}.example/v1", kind.as_str()));
        preset.api_key = Some(Secret::new("sk-golden"));
        preset.model = Some("model-1".into());
    }
    preset
}

fn render_all() -> String {
    let kinds = [
        ProviderKind::Anthropic,
        ProviderKind::Openai,
        ProviderKind::Gemini,
        ProviderKind::Custom,
    ];
    let mut out = String::new();
    for manifest in AgentRegistry::builtins() {
        for kind in kinds {
            let dir = Path::new("/data/inject")
                .join(manifest.id.as_str())
                .join("golden");
            let _ = write!(out, "== {} with a {} preset: ", manifest.id, kind.as_str());
            match manifest.injection(&preset(kind), &dir) {
                Err(accepts) => {
                    let names: Vec<&str> = accepts.iter().map(|k| k.as_str()).collect();
                    let _ = writeln!(out, "refused (takes {})", names.join(", "));
                }
                Ok(injection) => {
                    out.push('\n');
                    for (name, value) in &injection.env {
                        let _ = writeln!(out, "env  {name}={value}");
                    }
                    if !injection.args.is_empty() {
                        let _ = writeln!(out, "args {}", injection.args.join(" "));
                    }
                    if let Some(meta) = &injection.session_meta {
                        let _ = writeln!(out, "_meta {meta}");
                    }
                    for file in &injection.files {
                        let _ = writeln!(out, "file {}", file.path.display());
                        for line in file.contents.lines() {
                            let _ = writeln!(out, "     {line}");
                        }
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_builtin_injection_matches_the_golden_file() {
    let rendered = render_all();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, &rendered).expect("write golden");
        return;
    }
    let golden = std::fs::read_to_string(GOLDEN).unwrap_or_default();
    if golden != rendered {
        let diff = golden
            .lines()
            .zip(rendered.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(n, (a, b))| format!("line {}: golden `{a}`, now `{b}`", n + 1))
            .unwrap_or_else(|| "the lengths differ".into());
        panic!(
            "built-in injections changed ({diff}); if deliberate, run UPDATE_GOLDEN=1 cargo test -q --lib golden and review the diff"
        );
    }
}
