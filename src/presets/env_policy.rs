//! Which env vars a preset may set. A preset is often a file from someone else (an
//! export a colleague shared), and whatever it sets reaches the user's shell
//! (`apply --export`) and every program aiswitch starts with it. Two classes are
//! therefore not taken on trust:
//!
//! - variables that change how programs run ([`exec_risk`]): `LD_PRELOAD`,
//!   `NODE_OPTIONS`, `PROMPT_COMMAND`, `PATH`, ... (the list is in SECURITY.md);
//!   refused unless the user names them with `--allow-env NAME`;
//! - provider variables that the preset's own fields own (base URL, key, model):
//!   folded into the fields when those are unset, refused when they say something
//!   else, so what `show` prints is what every agent gets. The URL and key variables
//!   of another provider family are refused unless allowed (an Anthropic preset has
//!   no business pointing Codex at a host).

use std::collections::BTreeSet;

use super::{EnvVarName, Preset, PresetError, ProviderKind, Secret};

/// Exact names that change how a shell or a program runs.
const EXEC_NAMES: &[&str] = &[
    "PATH",
    "HOME",
    "SHELL",
    "USER",
    "LOGNAME",
    "ENV",
    "BASH_ENV",
    "PROMPT_COMMAND",
    "PS0",
    "PS1",
    "PS2",
    "PS3",
    "PS4",
    "IFS",
    "CDPATH",
    "FPATH",
    "SHELLOPTS",
    "BASHOPTS",
    "ZDOTDIR",
    "TMPDIR",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "MANPAGER",
    "BROWSER",
    "LESSOPEN",
    "LESSCLOSE",
    "GCONV_PATH",
    "HOSTALIASES",
    "NODE_OPTIONS",
    "NODE_PATH",
    "NODE_EXTRA_CA_CERTS",
    "NODE_TLS_REJECT_UNAUTHORIZED",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "CLASSPATH",
    "GEM_HOME",
    "GEM_PATH",
];

/// Name prefixes that change how a program runs (loaders, interpreters, git, ssh).
const EXEC_PREFIXES: &[&str] = &[
    "LD_",
    "DYLD_",
    "PYTHON",
    "PERL5",
    "PERLLIB",
    "RUBY",
    "GIT_",
    "SSH_",
    "NPM_CONFIG_",
    "BUN_",
    "DENO_",
    "XDG_",
    "BASH_FUNC_",
    "GLIBC_",
    "MALLOC_",
];

/// Why setting `name` from a preset can run code or redirect a program, when it
/// can: the documented list of SECURITY.md.
pub fn exec_risk(name: &str) -> Option<&'static str> {
    let upper = name.to_ascii_uppercase();
    if EXEC_NAMES.contains(&upper.as_str()) {
        return Some("it changes how programs run");
    }
    EXEC_PREFIXES
        .iter()
        .any(|p| upper.starts_with(p))
        .then_some("it changes how programs run")
}

/// Which preset field a provider variable stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `base_url`.
    BaseUrl,
    /// `api_key`.
    ApiKey,
    /// `model`.
    Model,
}

impl Field {
    fn as_str(self) -> &'static str {
        match self {
            Self::BaseUrl => "base_url",
            Self::ApiKey => "api_key",
            Self::Model => "model",
        }
    }
}

/// The variables each provider family reads for its URL, key and model.
const FAMILY_VARS: &[(ProviderKind, Field, &str)] = &[
    (
        ProviderKind::Anthropic,
        Field::BaseUrl,
        "ANTHROPIC_BASE_URL",
    ),
    (
        ProviderKind::Anthropic,
        Field::ApiKey,
        "ANTHROPIC_AUTH_TOKEN",
    ),
    (ProviderKind::Anthropic, Field::ApiKey, "ANTHROPIC_API_KEY"),
    (ProviderKind::Anthropic, Field::Model, "ANTHROPIC_MODEL"),
    (ProviderKind::Openai, Field::BaseUrl, "OPENAI_BASE_URL"),
    (ProviderKind::Openai, Field::BaseUrl, "OPENAI_API_BASE"),
    (ProviderKind::Openai, Field::ApiKey, "OPENAI_API_KEY"),
    (ProviderKind::Openai, Field::Model, "OPENAI_MODEL"),
    (
        ProviderKind::Gemini,
        Field::BaseUrl,
        "GOOGLE_GEMINI_BASE_URL",
    ),
    (ProviderKind::Gemini, Field::ApiKey, "GEMINI_API_KEY"),
    (ProviderKind::Gemini, Field::ApiKey, "GOOGLE_API_KEY"),
    (ProviderKind::Gemini, Field::Model, "GEMINI_MODEL"),
];

/// The field of a `kind` preset that variable `name` stands for, if any.
fn own_field(kind: ProviderKind, name: &str) -> Option<Field> {
    let upper = name.to_ascii_uppercase();
    FAMILY_VARS
        .iter()
        .find(|(k, _, var)| *k == kind && *var == upper)
        .map(|(_, field, _)| *field)
}

/// Prefixes of the variables provider SDKs and agent CLIs read.
const PROVIDER_PREFIXES: &[&str] = &[
    "ANTHROPIC_",
    "CLAUDE_CODE_",
    "OPENAI_",
    "AZURE_OPENAI_",
    "CODEX_",
    "GEMINI_",
    "GOOGLE_",
    "QWEN_",
    "DASHSCOPE_",
    "OPENROUTER_",
    "DEEPSEEK_",
    "MOONSHOT_",
    "KIMI_",
    "ZHIPU",
    "ZAI_",
    "GLM_",
    "OLLAMA_",
    "OPENCODE_",
    "CURSOR_",
    "GOOSE_",
    "AISWITCH_CODEX_",
    "AISWITCH_OPENCODE_",
];

/// Words that make a variable of those families say where requests go, with which
/// credential, or for which model.
const PROVIDER_WORDS: &[&str] = &[
    "URL",
    "API_BASE",
    "ENDPOINT",
    "HOST",
    "KEY",
    "TOKEN",
    "AUTH",
    "CREDENTIAL",
    "HEADER",
    "MODEL",
    "PROVIDER",
    "PROJECT",
    "LOCATION",
    "REGION",
    "ORG",
    "CONFIG",
    "SETTINGS",
    "USE_BEDROCK",
    "USE_VERTEX",
];

/// True when `name` tells an agent CLI or provider SDK where to send requests, with
/// which credential or model: what a launch with a preset must not inherit from the
/// caller's environment unless the preset sets it.
pub fn is_provider_var(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if FAMILY_VARS.iter().any(|(_, _, var)| *var == upper) {
        return true;
    }
    PROVIDER_PREFIXES.iter().any(|p| upper.starts_with(p))
        && PROVIDER_WORDS.iter().any(|w| upper.contains(w))
}

/// A variable the user allowed with `--allow-env`, kept with a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvWarning {
    /// The preset.
    pub preset: String,
    /// The variable.
    pub name: String,
    /// Why it is risky.
    pub why: &'static str,
}

impl std::fmt::Display for EnvWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "preset {} sets {} ({}); allowed by --allow-env",
            self.preset, self.name, self.why
        )
    }
}

impl Preset {
    /// Checks the raw env of a preset from outside (`add`, `import`): folds the
    /// variables its own fields stand for into those fields (refusing a
    /// contradiction), and refuses variables that change how programs run, or point
    /// another provider family somewhere, unless `allowed` names them. Returns a
    /// warning per allowed risky variable.
    pub fn check_env(
        &mut self,
        allowed: &BTreeSet<EnvVarName>,
    ) -> Result<Vec<EnvWarning>, PresetError> {
        let mut warnings = Vec::new();
        let names: Vec<EnvVarName> = self.env.keys().cloned().collect();
        for name in names {
            if let Some(field) = own_field(self.kind, name.as_str()) {
                let value = self.env.remove(&name).unwrap_or_default();
                self.fold(&name, field, value)?;
                continue;
            }
            let upper = name.as_str().to_ascii_uppercase();
            let why = exec_risk(name.as_str()).or_else(|| {
                let foreign = self.kind != ProviderKind::Custom
                    && FAMILY_VARS
                        .iter()
                        .any(|(_, field, var)| *var == upper && *field != Field::Model);
                foreign.then_some("it points another provider family's agents somewhere")
            });
            if let Some(why) = why {
                if !allowed.contains(&name) {
                    return Err(PresetError::RiskyEnv {
                        preset: self.name.to_string(),
                        name: name.to_string(),
                        why,
                    });
                }
                warnings.push(EnvWarning {
                    preset: self.name.to_string(),
                    name: name.to_string(),
                    why,
                });
            }
        }
        self.validate()?;
        Ok(warnings)
    }

    /// For a preset already stored (the user's own): moves the variables of its own
    /// family's URL, key and model into those fields, the variable winning as raw env
    /// always has, so the settings files aiswitch writes, the env, `show` and
    /// `--print-command` all say the same.
    pub fn fold_provider_env(&mut self) {
        let names: Vec<EnvVarName> = self.env.keys().cloned().collect();
        for name in names {
            let Some(field) = own_field(self.kind, name.as_str()) else {
                continue;
            };
            let value = self.env.remove(&name).unwrap_or_default();
            match field {
                Field::BaseUrl => self.base_url = Some(value),
                Field::ApiKey => self.api_key = Some(Secret::new(value)),
                Field::Model => self.model = Some(value),
            }
        }
    }

    /// Moves the value of `var` into `field`, or refuses when the field says
    /// something else.
    fn fold(&mut self, var: &EnvVarName, field: Field, value: String) -> Result<(), PresetError> {
        let current = match field {
            Field::BaseUrl => self.base_url.clone(),
            Field::ApiKey => self.api_key.as_ref().map(|k| k.expose().to_owned()),
            Field::Model => self.model.clone(),
        };
        match current {
            Some(existing) if existing != value => Err(PresetError::EnvContradicts {
                preset: self.name.to_string(),
                name: var.to_string(),
                field: field.as_str(),
            }),
            Some(_) => Ok(()),
            None => {
                match field {
                    Field::BaseUrl => self.base_url = Some(value),
                    Field::ApiKey => self.api_key = Some(Secret::new(value)),
                    Field::Model => self.model = Some(value),
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets::PresetName;

    fn preset(kind: ProviderKind, env: &[(&str, &str)]) -> Preset {
        let mut p = Preset::new(PresetName::parse("p").expect("name"), kind);
        for (k, v) in env {
            p.env
                .insert(EnvVarName::parse(k).expect("name"), (*v).to_owned());
        }
        p
    }

    #[test]
    fn code_running_variables_are_refused_unless_allowed() {
        for name in [
            "LD_PRELOAD",
            "NODE_OPTIONS",
            "PROMPT_COMMAND",
            "BASH_ENV",
            "PATH",
            "PYTHONPATH",
            "GIT_SSH_COMMAND",
            "PS1",
            "DYLD_INSERT_LIBRARIES",
        ] {
            let mut p = preset(ProviderKind::Anthropic, &[(name, "x")]);
            let err = p.check_env(&BTreeSet::new()).expect_err(name);
            assert!(err.to_string().contains("--allow-env"), "{err}");
            let allowed = BTreeSet::from([EnvVarName::parse(name).expect("name")]);
            let warnings = p.check_env(&allowed).expect("allowed");
            assert_eq!(warnings.len(), 1, "{name}");
        }
        let mut fine = preset(ProviderKind::Anthropic, &[("API_TIMEOUT_MS", "600000")]);
        assert_eq!(fine.check_env(&BTreeSet::new()).expect("fine"), []);
    }

    #[test]
    fn own_provider_variables_fold_into_the_fields_or_are_refused() {
        let mut p = preset(
            ProviderKind::Anthropic,
            &[("ANTHROPIC_BASE_URL", "https://api.example.com")],
        );
        p.check_env(&BTreeSet::new()).expect("folds");
        assert_eq!(p.base_url.as_deref(), Some("https://api.example.com"));
        assert!(p.env.is_empty());

        let mut p = preset(
            ProviderKind::Anthropic,
            &[("ANTHROPIC_BASE_URL", "https://evil.example")],
        );
        p.base_url = Some("https://api.anthropic.com".into());
        let err = p.check_env(&BTreeSet::new()).expect_err("contradiction");
        assert!(err.to_string().contains("base_url"), "{err}");
    }

    #[test]
    fn another_familys_url_is_refused_in_a_typed_preset() {
        let mut p = preset(
            ProviderKind::Anthropic,
            &[("OPENAI_BASE_URL", "https://evil.example/v1")],
        );
        assert!(p.check_env(&BTreeSet::new()).is_err());
        let mut custom = preset(
            ProviderKind::Custom,
            &[("OPENAI_BASE_URL", "https://proxy.example/v1")],
        );
        custom
            .check_env(&BTreeSet::new())
            .expect("custom presets set raw env");
    }

    #[test]
    fn provider_variables() {
        for name in [
            "ANTHROPIC_BASE_URL",
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_DEFAULT_SONNET_MODEL",
            "ANTHROPIC_CUSTOM_HEADERS",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "GEMINI_API_KEY",
            "GOOGLE_API_KEY",
            "GOOGLE_GEMINI_BASE_URL",
            "CLAUDE_CODE_USE_BEDROCK",
            "AISWITCH_CODEX_API_KEY",
            "OPENCODE_CONFIG",
        ] {
            assert!(is_provider_var(name), "{name}");
        }
        for name in [
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
            "GEMINI_CLI_TRUST_WORKSPACE",
            "API_TIMEOUT_MS",
            "TERM",
        ] {
            assert!(!is_provider_var(name), "{name}");
        }
    }
}
