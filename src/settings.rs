//! User settings: a typed struct with defaults, layered as defaults, then
//! `config.toml`, then `AISWITCH_*` environment variables.
//!
//! Settings hold behaviour knobs only; presets (which hold secrets) live elsewhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Every setting aiswitch reads. Each field can be set in `config.toml` under the same
/// name, or with the environment variable named in its doc comment.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// How long a command waits for a busy database, in milliseconds
    /// (`AISWITCH_BUSY_TIMEOUT_MS`).
    pub busy_timeout_ms: u64,
    /// Characters of a secret shown at each end when it is redacted; secrets shorter
    /// than four times this are hidden whole (`AISWITCH_REVEAL_CHARS`).
    pub reveal_chars: usize,
    /// Log verbosity for long-running parts: error, warn, info, debug, trace
    /// (`AISWITCH_LOG_LEVEL`).
    pub log_level: String,
    /// The daemon disconnects a client that sends nothing this long after
    /// connecting, in milliseconds (`AISWITCH_CONTROL_FIRST_MESSAGE_MS`).
    pub control_first_message_ms: u64,
    /// Price overrides per model name, USD per million tokens
    /// (`[prices."model-name"] input = 1.0, output = 2.0, ...`); they beat the
    /// bundled table and are beaten by a preset's own `--price`. File only.
    pub prices: BTreeMap<String, crate::presets::PriceOverrides>,
    /// The language of the desktop app's tray, notifications and dashboard: `auto`
    /// (from the system locale), `en` or `zh` (`AISWITCH_LANGUAGE`).
    pub language: Language,
    /// The time zone of budgets' days, weeks and months, of usage by day and of dates
    /// on the command line: `system`, `UTC` or an IANA name such as `Asia/Shanghai`
    /// (`AISWITCH_TIMEZONE`).
    pub timezone: String,
    /// The first day of a week for weekly budgets and reports: `monday`, `sunday`, ...
    /// (`AISWITCH_WEEK_START`).
    pub week_start: String,
    /// Where the engine host serves Prometheus metrics (`GET /metrics`), e.g.
    /// `127.0.0.1:9464`; unset: not served (`AISWITCH_METRICS_LISTEN`). An address
    /// other than loopback is served too, with a warning in the daemon's log.
    pub metrics_listen: Option<String>,
    /// How launches reach their provider: `on` (through the local provider gateway,
    /// which meters every request and keeps the real key from the CLI) or `direct`
    /// (the key and URL are injected into the CLI as they are) (`AISWITCH_GATEWAY`).
    pub gateway: GatewayMode,
    /// Where the provider gateway listens: a 127.0.0.1 address; port 0 picks a
    /// free port per engine host (`AISWITCH_GATEWAY_LISTEN`).
    pub gateway_listen: String,
    /// For debugging only: the gateway writes every request and response body (with
    /// redacted headers) to files (0600) under `data/gateway-bodies/`. They hold
    /// prompts and code (`AISWITCH_GATEWAY_LOG_BODIES`, `aiswitch daemon --log-bodies`).
    pub gateway_log_bodies: bool,
    /// An OpenTelemetry collector to send usage events and metrics to over OTLP/HTTP
    /// (JSON), e.g. `http://127.0.0.1:4318`; unset: nothing is sent
    /// (`AISWITCH_OTLP_ENDPOINT`). Prompts and keys are never sent.
    pub otlp_endpoint: Option<String>,
    /// Seconds between two sends of the metrics to `otlp_endpoint` (usage events go
    /// as soon as they are recorded) (`AISWITCH_OTLP_INTERVAL_SECS`).
    pub otlp_interval_secs: u64,
}

/// How launches reach their provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GatewayMode {
    /// Through the local provider gateway.
    #[default]
    On,
    /// Straight to the provider, the key in the CLI's environment.
    Direct,
}

impl std::str::FromStr for GatewayMode {
    type Err = ();
    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "on" => Ok(Self::On),
            "direct" => Ok(Self::Direct),
            _ => Err(()),
        }
    }
}

/// A language the GUI speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// From the system locale (`LC_ALL`, `LC_MESSAGES`, `LANG`): Chinese for `zh*`.
    #[default]
    Auto,
    /// English.
    En,
    /// Simplified Chinese.
    Zh,
}

impl std::str::FromStr for Language {
    type Err = ();
    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "auto" => Ok(Self::Auto),
            "en" => Ok(Self::En),
            "zh" => Ok(Self::Zh),
            _ => Err(()),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            busy_timeout_ms: 5_000,
            reveal_chars: 4,
            log_level: "info".to_owned(),
            control_first_message_ms: 10_000,
            prices: BTreeMap::new(),
            language: Language::Auto,
            timezone: "system".to_owned(),
            week_start: "monday".to_owned(),
            metrics_listen: None,
            gateway: GatewayMode::On,
            gateway_listen: "127.0.0.1:0".to_owned(),
            gateway_log_bodies: false,
            otlp_endpoint: None,
            otlp_interval_secs: 60,
        }
    }
}

/// The settings file or an environment override is invalid.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `timezone` or `week_start` names nothing.
    #[error("invalid setting: {0}")]
    Calendar(#[from] crate::calendar::CalendarError),
    /// `metrics_listen` is not an address and port.
    #[error(
        "invalid setting metrics_listen {0:?}: expected an address and port such as 127.0.0.1:9464"
    )]
    MetricsListen(String),
    /// `gateway_listen` is not a loopback address and port.
    #[error(
        "invalid setting gateway_listen {0:?}: expected a 127.0.0.1 address and port such as 127.0.0.1:8787 (port 0 picks a free one)"
    )]
    GatewayListen(String),
    /// `otlp_endpoint` is not an http(s) URL.
    #[error(
        "invalid setting otlp_endpoint {0:?}: expected the collector's OTLP/HTTP base URL such as http://127.0.0.1:4318"
    )]
    OtlpEndpoint(String),
    /// `config.toml` exists but cannot be read.
    #[error("cannot read settings file {path}: {source}")]
    Read {
        /// The settings file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `config.toml` is not valid TOML or has an unknown or mistyped field.
    #[error("invalid settings file {path}: {message}; fix or remove the file")]
    Parse {
        /// The settings file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// An `AISWITCH_*` variable has a value of the wrong type.
    #[error("invalid value {value:?} for {var}: expected {expected}")]
    Env {
        /// The environment variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What it should look like.
        expected: &'static str,
    },
}

const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

impl Settings {
    /// Loads the layered settings: defaults, then `file` if it exists, then the
    /// process environment.
    pub fn load(file: &Path) -> Result<Self, SettingsError> {
        let mut settings = match std::fs::read_to_string(file) {
            Ok(text) => toml::from_str(&text).map_err(|e| SettingsError::Parse {
                path: file.to_path_buf(),
                message: e.message().to_owned(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::default(),
            Err(source) => {
                return Err(SettingsError::Read {
                    path: file.to_path_buf(),
                    source,
                });
            }
        };
        settings.apply_env(|name| std::env::var(name).ok())?;
        Ok(settings)
    }

    /// The user's calendar: `timezone` and `week_start`.
    pub fn calendar(&self) -> Result<crate::calendar::Calendar, SettingsError> {
        Ok(crate::calendar::Calendar::new(
            &self.timezone,
            &self.week_start,
        )?)
    }

    /// Applies `AISWITCH_*` overrides read through `lookup`.
    fn apply_env(&mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<(), SettingsError> {
        if let Some(value) = lookup("AISWITCH_BUSY_TIMEOUT_MS") {
            self.busy_timeout_ms = parse_env("AISWITCH_BUSY_TIMEOUT_MS", value, "milliseconds")?;
        }
        if let Some(value) = lookup("AISWITCH_REVEAL_CHARS") {
            self.reveal_chars = parse_env("AISWITCH_REVEAL_CHARS", value, "a small number")?;
        }
        if let Some(value) = lookup("AISWITCH_CONTROL_FIRST_MESSAGE_MS") {
            self.control_first_message_ms =
                parse_env("AISWITCH_CONTROL_FIRST_MESSAGE_MS", value, "milliseconds")?;
        }
        if let Some(value) = lookup("AISWITCH_LOG_LEVEL") {
            if !LOG_LEVELS.contains(&value.as_str()) {
                return Err(SettingsError::Env {
                    var: "AISWITCH_LOG_LEVEL",
                    value,
                    expected: "one of error, warn, info, debug, trace",
                });
            }
            self.log_level = value;
        }
        if let Some(value) = lookup("AISWITCH_LANGUAGE") {
            self.language = parse_env("AISWITCH_LANGUAGE", value, "auto, en or zh")?;
        }
        if let Some(value) = lookup("AISWITCH_TIMEZONE") {
            self.timezone = value;
        }
        if let Some(value) = lookup("AISWITCH_WEEK_START") {
            self.week_start = value;
        }
        if let Some(value) = lookup("AISWITCH_METRICS_LISTEN") {
            self.metrics_listen = Some(value).filter(|v| !v.is_empty());
        }
        if let Some(value) = lookup("AISWITCH_GATEWAY") {
            self.gateway = parse_env("AISWITCH_GATEWAY", value, "on or direct")?;
        }
        if let Some(value) = lookup("AISWITCH_GATEWAY_LISTEN") {
            self.gateway_listen = value;
        }
        if let Some(value) = lookup("AISWITCH_GATEWAY_LOG_BODIES") {
            self.gateway_log_bodies =
                parse_env("AISWITCH_GATEWAY_LOG_BODIES", value, "true or false")?;
        }
        if let Some(value) = lookup("AISWITCH_OTLP_ENDPOINT") {
            self.otlp_endpoint = Some(value).filter(|v| !v.is_empty());
        }
        if let Some(value) = lookup("AISWITCH_OTLP_INTERVAL_SECS") {
            self.otlp_interval_secs =
                parse_env("AISWITCH_OTLP_INTERVAL_SECS", value, "a number of seconds")?;
        }
        self.calendar()?;
        self.metrics_address()?;
        self.otlp_base()?;
        self.gateway_address()?;
        Ok(())
    }

    /// The address `gateway_listen` names (loopback only).
    pub fn gateway_address(&self) -> Result<std::net::SocketAddr, SettingsError> {
        self.gateway_listen
            .parse::<std::net::SocketAddr>()
            .ok()
            .filter(|a| a.ip().is_loopback())
            .ok_or_else(|| SettingsError::GatewayListen(self.gateway_listen.clone()))
    }

    /// The collector's base URL `otlp_endpoint` names (without a trailing `/`), if set.
    pub fn otlp_base(&self) -> Result<Option<String>, SettingsError> {
        self.otlp_endpoint
            .as_deref()
            .map(|text| {
                text.parse::<hyper::Uri>()
                    .ok()
                    .filter(|uri| {
                        matches!(uri.scheme_str(), Some("http" | "https"))
                            && uri.authority().is_some()
                    })
                    .map(|_| text.trim_end_matches('/').to_owned())
                    .ok_or_else(|| SettingsError::OtlpEndpoint(text.to_owned()))
            })
            .transpose()
    }

    /// The address `metrics_listen` names, if set.
    pub fn metrics_address(&self) -> Result<Option<std::net::SocketAddr>, SettingsError> {
        self.metrics_listen
            .as_deref()
            .map(|text| {
                text.parse()
                    .map_err(|_| SettingsError::MetricsListen(text.to_owned()))
            })
            .transpose()
    }
}

fn parse_env<T: std::str::FromStr>(
    var: &'static str,
    value: String,
    expected: &'static str,
) -> Result<T, SettingsError> {
    value.trim().parse().map_err(|_| SettingsError::Env {
        var,
        value,
        expected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join("config.toml");
        std::fs::write(&file, "busy_timeout_ms = 100\nreveal_chars = 2\n").expect("write");
        let mut settings: Settings =
            toml::from_str(&std::fs::read_to_string(&file).expect("read")).expect("parse");
        assert_eq!(settings.busy_timeout_ms, 100);
        assert_eq!(
            settings.log_level, "info",
            "unset fields keep their default"
        );
        settings
            .apply_env(|name| (name == "AISWITCH_BUSY_TIMEOUT_MS").then(|| "7".to_owned()))
            .expect("env");
        assert_eq!(settings.busy_timeout_ms, 7);
        assert_eq!(settings.reveal_chars, 2);
    }

    #[test]
    fn bad_env_value_is_named() {
        let err = Settings::default()
            .apply_env(|_| Some("soon".to_owned()))
            .expect_err("must fail");
        assert!(
            err.to_string().contains("AISWITCH_BUSY_TIMEOUT_MS"),
            "{err}"
        );
    }

    #[test]
    fn unknown_field_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join("config.toml");
        std::fs::write(&file, "busy_timout_ms = 1\n").expect("write");
        let err = Settings::load(&file).expect_err("typo must fail");
        assert!(err.to_string().contains("busy_timout_ms"), "{err}");
    }
}
