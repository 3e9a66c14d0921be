//! Presets from outside: `add` and `import`. Every raw env var is checked
//! ([`Preset::check_env`]: variables that run code are refused unless allowed,
//! provider variables folded into the fields), a secret the export withheld keeps
//! the stored value, and a dry run lists every field of every preset with what
//! would change, going on past a preset that would be refused.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Engine, describe};
use crate::Error;
use crate::escape::for_terminal;
use crate::events::Event;
use crate::presets::{
    Bundle, EnvVarName, Preset, PresetError, Secret, Secrets, env_policy::EnvWarning,
};

/// What an added preset did.
#[derive(Debug, Clone)]
pub struct AddOutcome {
    /// True when it replaced a preset of the same name.
    pub replaced: bool,
    /// Risky env vars the user allowed.
    pub warnings: Vec<EnvWarning>,
}

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Replace presets that exist.
    pub replace: bool,
    /// Write nothing; report every preset, refused ones included.
    pub dry_run: bool,
    /// Risky env vars the user accepts (`--allow-env`).
    pub allow_env: BTreeSet<EnvVarName>,
}

/// What happens to one preset of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportAction {
    /// A new preset.
    Added,
    /// An existing preset replaced.
    Replaced,
    /// Not imported: see `error`.
    Refused,
}

impl ImportAction {
    /// The word shown to the user.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Replaced => "replaced",
            Self::Refused => "refused",
        }
    }
}

/// How one field compares with the stored preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Not in the stored preset (or no stored preset).
    New,
    /// Different from the stored value.
    Changed,
    /// The same as stored.
    Unchanged,
    /// In the stored preset, not in the imported one.
    Removed,
    /// Withheld by the export: the stored value stays.
    Kept,
}

impl Change {
    /// The word shown to the user.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Changed => "changed",
            Self::Unchanged => "unchanged",
            Self::Removed => "removed",
            Self::Kept => "kept: withheld by the export",
        }
    }
}

/// One field of an imported preset, as shown (secrets redacted, control characters
/// escaped).
#[derive(Debug, Clone, Serialize)]
pub struct FieldChange {
    /// `kind`, `base_url`, `api_key`, `model`, `env.NAME`, ...
    pub field: String,
    /// The imported value as shown; for `removed`, the stored one.
    pub value: String,
    /// How it compares with what is stored.
    pub change: Change,
    /// For `changed`, the stored value as shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub was: Option<String>,
}

/// What `import` did, or would do with a dry run, to one preset.
#[derive(Debug, Clone, Serialize)]
pub struct ImportOutcome {
    /// The preset.
    pub name: String,
    /// Added, replaced or refused.
    pub action: ImportAction,
    /// Every field, with how it compares with the stored preset.
    pub fields: Vec<FieldChange>,
    /// Secret fields the bundle did not carry and nothing stored replaces.
    pub missing_secrets: Vec<String>,
    /// Risky env vars accepted with `--allow-env`.
    pub warnings: Vec<String>,
    /// Why the preset is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Engine {
    /// Adds a preset, or replaces one when `replace`, after checking its raw env
    /// (variables that run code need `allow_env`; provider variables fold into the
    /// fields).
    pub fn add_preset(
        &self,
        mut preset: Preset,
        replace: bool,
        allow_env: &BTreeSet<EnvVarName>,
    ) -> Result<AddOutcome, Error> {
        let warnings = preset.check_env(allow_env)?;
        self.check_fallback(&preset)?;
        let replaced = self
            .presets
            .save_all(std::slice::from_ref(&preset), replace)?
            .first()
            .copied()
            .unwrap_or(false);
        self.record(&[preset_written(&preset, replaced)])?;
        Ok(AddOutcome { replaced, warnings })
    }

    /// A preset's fallback must be another existing preset of the same kind.
    fn check_fallback(&self, preset: &Preset) -> Result<(), Error> {
        let Some(fallback) = &preset.fallback else {
            return Ok(());
        };
        let reason = if *fallback == preset.name {
            Some("a preset cannot fall back to itself; name another preset".to_owned())
        } else {
            match self.presets.get(fallback) {
                Ok(f) if f.kind != preset.kind => Some(format!(
                    "it is a {} preset and this one is {}; a fallback must speak the same API",
                    f.kind, preset.kind
                )),
                Ok(_) => None,
                Err(_) => Some("no preset has that name; add it first".to_owned()),
            }
        };
        match reason {
            Some(reason) => Err(crate::presets::PresetError::InvalidField {
                field: "fallback",
                value: fallback.to_string(),
                reason,
            }
            .into()),
            None => Ok(()),
        }
    }

    /// Imports a bundle: all presets or none. A preset that exists without
    /// `replace`, or with env the policy refuses, fails the whole import before
    /// anything is written; a dry run reports every preset instead.
    pub fn import_presets(
        &self,
        bundle: Bundle,
        options: &ImportOptions,
    ) -> Result<Vec<ImportOutcome>, Error> {
        let secrets = Secrets::Redact(self.settings.reveal_chars);
        let mut outcomes = Vec::new();
        let mut ready = Vec::new();
        let mut first_error: Option<PresetError> = None;
        for (mut preset, withheld) in bundle.into_entries() {
            let stored = self.presets.get(&preset.name).ok();
            let kept = keep_withheld(&mut preset, stored.as_ref(), &withheld);
            let checked = preset.check_env(&options.allow_env).and_then(|warnings| {
                if stored.is_some() && !options.replace {
                    Err(PresetError::AlreadyExists {
                        name: preset.name.to_string(),
                    })
                } else {
                    Ok(warnings)
                }
            });
            let missing_secrets = withheld
                .iter()
                .filter(|f| !kept.contains(*f))
                .cloned()
                .collect();
            let mut outcome = ImportOutcome {
                name: preset.name.to_string(),
                action: if stored.is_some() {
                    ImportAction::Replaced
                } else {
                    ImportAction::Added
                },
                fields: compare(&preset, stored.as_ref(), &kept, secrets),
                missing_secrets,
                warnings: Vec::new(),
                error: None,
            };
            match checked {
                Ok(warnings) => {
                    outcome.warnings = warnings.iter().map(ToString::to_string).collect();
                    ready.push(preset);
                }
                Err(e) => {
                    outcome.action = ImportAction::Refused;
                    outcome.error = Some(e.to_string());
                    first_error.get_or_insert(e);
                }
            }
            outcomes.push(outcome);
        }
        if options.dry_run {
            return Ok(outcomes);
        }
        if let Some(e) = first_error {
            return Err(e.into());
        }
        self.presets.save_all(&ready, options.replace)?;
        if !ready.is_empty() {
            let total = ready.len();
            let mut events = Vec::with_capacity(2 * total + 1);
            for (done, preset) in ready.iter().enumerate() {
                let replaced = outcomes
                    .iter()
                    .any(|o| o.name == preset.name.as_str() && o.action == ImportAction::Replaced);
                events.push(preset_written(preset, replaced));
                events.push(Event::ImportProgress {
                    preset: preset.name.to_string(),
                    action: if replaced { "changed" } else { "new" }.to_owned(),
                    done: done + 1,
                    total,
                });
            }
            events.push(Event::ImportFinished {
                what: "presets".to_owned(),
                written: total,
                skipped: outcomes.len() - total,
            });
            self.record(&events)?;
        }
        Ok(outcomes)
    }
}

/// The event of a preset written: added, or changed when it replaced one.
fn preset_written(preset: &Preset, replaced: bool) -> Event {
    let preset_name = preset.name.to_string();
    let fields = describe(preset);
    if replaced {
        Event::PresetChanged {
            preset: preset_name,
            fields,
        }
    } else {
        Event::PresetAdded {
            preset: preset_name,
            fields,
        }
    }
}

/// Puts the stored values of the secret fields an export withheld (`api_key`,
/// `env.NAME`) back into `preset`; returns the fields kept.
fn keep_withheld(preset: &mut Preset, stored: Option<&Preset>, withheld: &[String]) -> Vec<String> {
    let Some(stored) = stored else {
        return Vec::new();
    };
    let mut kept = Vec::new();
    for field in withheld {
        if field == "api_key" {
            if let (None, Some(key)) = (&preset.api_key, &stored.api_key) {
                preset.api_key = Some(Secret::new(key.expose()));
                kept.push(field.clone());
            }
        } else if let Some(name) = field.strip_prefix("env.")
            && let Ok(name) = EnvVarName::parse(name)
            && let Some(value) = stored.env.get(&name)
        {
            preset.env.entry(name).or_insert_with(|| value.clone());
            kept.push(field.clone());
        }
    }
    kept
}

/// Every field of `preset` against `stored`, as shown.
fn compare(
    preset: &Preset,
    stored: Option<&Preset>,
    kept: &[String],
    secrets: Secrets,
) -> Vec<FieldChange> {
    let new = fields_of(preset, secrets);
    let old = stored.map(|s| fields_of(s, secrets)).unwrap_or_default();
    let mut out: Vec<FieldChange> = new
        .iter()
        .map(|(field, shown, raw)| {
            let (change, was) = if kept.contains(field) {
                (Change::Kept, None)
            } else {
                match old.iter().find(|(f, _, _)| f == field) {
                    None => (Change::New, None),
                    Some((_, _, was)) if was == raw => (Change::Unchanged, None),
                    Some((_, was, _)) => (Change::Changed, Some(was.clone())),
                }
            };
            FieldChange {
                field: field.clone(),
                value: shown.clone(),
                change,
                was,
            }
        })
        .collect();
    out.extend(
        old.iter()
            .filter(|(f, _, _)| !new.iter().any(|(n, _, _)| n == f))
            .map(|(field, shown, _)| FieldChange {
                field: field.clone(),
                value: shown.clone(),
                change: Change::Removed,
                was: None,
            }),
    );
    out
}

/// (field, value as shown, raw value) for every field a preset sets.
fn fields_of(preset: &Preset, secrets: Secrets) -> Vec<(String, String, String)> {
    let view = crate::presets::PresetView::new(preset, false, secrets);
    let mut out = vec![(
        "kind".to_owned(),
        preset.kind.to_string(),
        preset.kind.to_string(),
    )];
    let mut push = |field: &str, shown: Option<String>, raw: Option<String>| {
        if let (Some(shown), Some(raw)) = (shown, raw) {
            out.push((field.to_owned(), for_terminal(&shown).into_owned(), raw));
        }
    };
    push("base_url", view.base_url, preset.base_url.clone());
    push(
        "api_key",
        view.api_key,
        preset.api_key.as_ref().map(|k| k.expose().to_owned()),
    );
    push("model", view.model, preset.model.clone());
    push("description", view.description, preset.description.clone());
    if !preset.tags.is_empty() {
        push(
            "tags",
            Some(preset.tags.join(", ")),
            Some(preset.tags.join(",")),
        );
    }
    if !preset.prices.is_empty() {
        let prices = toml::to_string(&preset.prices).unwrap_or_default();
        let prices = prices.trim().replace('\n', ", ");
        push("prices", Some(prices.clone()), Some(prices));
    }
    for (name, value) in &preset.env {
        let shown = view.env.get(name.as_str()).cloned();
        push(&format!("env.{name}"), shown, Some(value.clone()));
    }
    out
}
