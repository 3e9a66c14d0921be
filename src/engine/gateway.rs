//! The engine's side of the provider gateway: it starts the gateway in this process
//! on first use, routes launches through it (the CLI gets the gateway's URL and a
//! per-launch token, never the key), and writes what the gateway saw — each
//! response's usage and quota windows — to the ledger.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::Engine;
use crate::Error;
use crate::agents::{Injection, Manifest};
use crate::alerts::AlertKind;
use crate::calendar::Calendar;
use crate::events::Event;
use crate::gateway::{
    Admission, Binding, FellBack, Gateway, LaunchInfo, LeaseHandle, Metered, Observation,
    QuotaSeen, QuotaWindow, Report, Resolved, Upstream,
};
use crate::presets::{Preset, PresetName, ProviderKind};
use crate::settings::GatewayMode;
use crate::store::{QuotaRow, UsageRow};

/// The quota thresholds that raise an alert, in percent.
const QUOTA_THRESHOLDS: [f64; 3] = [75.0, 90.0, 100.0];

/// How long a command about to exit waits for the last responses to be recorded.
const SETTLE: Duration = Duration::from_secs(5);

impl Engine {
    /// The gateway of this process, started on first use; `None` when launches go
    /// direct (`gateway = "direct"`). Failing to start it is an error: a launch
    /// never falls back to handing the CLI the key silently.
    pub fn gateway(&self) -> Result<Option<Arc<Gateway>>, Error> {
        if self.settings.gateway == GatewayMode::Direct {
            return Ok(None);
        }
        if let Some(gateway) = self.gateway.get() {
            return Ok(Some(gateway.clone()));
        }
        let listen = self.settings.gateway_address()?;
        let (sink, reports) = mpsc::unbounded_channel();
        let body_log = self.settings.gateway_log_bodies.then(|| {
            let dir = self.paths.data_dir.join("gateway-bodies");
            tracing::warn!(
                dir = %dir.display(),
                "the gateway writes every request and response body here (0600): they hold prompts and code; turn --log-bodies off when done"
            );
            dir
        });
        let gateway = Arc::new(Gateway::start(
            listen,
            sink,
            Some(self.admission()),
            body_log,
        )?);
        match self.gateway.set(gateway.clone()) {
            Ok(()) => {
                let engine = self.clone();
                std::thread::Builder::new()
                    .name("aiswitch-meter".into())
                    .spawn(move || engine.record_reports(reports))
                    .map_err(crate::gateway::GatewayError::Thread)?;
                tracing::info!(url = %gateway.url(), "provider gateway listening");
                Ok(Some(gateway))
            }
            // Another thread started one first; this one stops when dropped.
            Err(_) => Ok(self.gateway.get().cloned()),
        }
    }

    /// This engine with the gateway writing request and response bodies to files,
    /// for debugging (`aiswitch daemon --log-bodies`).
    pub fn with_body_log(mut self) -> Self {
        self.settings.gateway_log_bodies = true;
        self
    }

    /// Waits until every response the gateway served for `task` (`None`: for any
    /// launch) has been recorded: a task or command calls this before it reports
    /// usage.
    pub fn settle_gateway(&self, task: Option<&str>) {
        if let Some(gateway) = self.gateway.get()
            && !gateway.settle(task, SETTLE)
        {
            tracing::warn!("the gateway still had responses in flight when the command ended");
        }
    }

    /// The injection of preset `name` into `manifest`'s agent for one launch: through
    /// the gateway when the preset has a key and an API the gateway speaks (the CLI
    /// gets the gateway's URL and a per-launch token; its files go in a directory of
    /// the launch's own), else as the preset says.
    pub(crate) fn launch_injection(
        &self,
        manifest: &Manifest,
        name: &PresetName,
        binding: Binding,
    ) -> Result<Injection, Error> {
        let preset = self.preset(name)?;
        let Some(upstream) = self.upstream_of(&preset) else {
            return self.injection(manifest, name);
        };
        let Some(kind) = self.client_kind(manifest, &preset) else {
            return self.injection(manifest, name);
        };
        let Some(gateway) = self.gateway()? else {
            return self.injection(manifest, name);
        };
        let info = LaunchInfo {
            agent: manifest.id.to_string(),
            ..LaunchInfo::default()
        };
        let mut lease = gateway.lease(info, binding, upstream)?;
        let route = Route {
            url: gateway.url(),
            token: lease.token().to_owned(),
            id: lease.short_id().to_owned(),
        };
        let (mut injection, dir) = self.routed_injection(manifest, &preset, kind, &route)?;
        lease.remove_on_end(dir);
        injection.lease = Some(LeaseHandle(Arc::new(lease)));
        Ok(injection)
    }

    /// What `preset` injects into `manifest`'s agent when its requests go through
    /// the gateway at `route`: the gateway's URL and the launch's token in place of
    /// the preset's, files in a directory of the launch's own (returned).
    pub fn routed_injection(
        &self,
        manifest: &Manifest,
        preset: &Preset,
        kind: ProviderKind,
        route: &Route,
    ) -> Result<(Injection, PathBuf), Error> {
        let mut routed = preset.clone();
        routed.kind = kind;
        if preset.api_key.is_some() {
            routed.base_url = Some(route.url.clone());
            routed.api_key = Some(crate::presets::Secret::new(route.token.clone()));
        } else {
            // The CLI's own login: the token rides in the path, its auth passes.
            routed.base_url = Some(format!(
                "{}{}{}",
                route.url,
                crate::gateway::PATH_PREFIX,
                route.token
            ));
        }
        let dir = crate::agents::launch::files_dir(
            &self.paths.data_dir,
            manifest.id.as_str(),
            preset.name.as_str(),
        )
        .join(&route.id);
        let injection = manifest.injection(&routed, &dir).map_err(|_| {
            crate::agents::AgentError::wrong_kind(manifest, preset.name.as_str(), preset.kind)
        })?;
        Ok((injection, dir))
    }

    /// Registers a launch of `agent` with `preset` that process `pid` is about to
    /// exec (`run`, `apply -- CLI`): the engine host's gateway holds the lease until
    /// that process exits. `None` when the preset does not go through the gateway.
    pub fn lease_for_process(
        &self,
        agent: &str,
        preset: &PresetName,
        pid: u32,
    ) -> Result<Option<Route>, Error> {
        let manifest = self.agent_registry().get(agent)?;
        let preset = self.preset(preset)?;
        let Some(upstream) = self
            .upstream_of(&preset)
            .filter(|_| self.client_kind(&manifest, &preset).is_some())
        else {
            return Ok(None);
        };
        let Some(gateway) = self.gateway()? else {
            return Ok(None);
        };
        let info = LaunchInfo {
            agent: manifest.id.to_string(),
            // Where the user started `run`: the process's working directory.
            project: std::fs::read_link(format!("/proc/{pid}/cwd"))
                .ok()
                .map(|dir| dir.display().to_string()),
            ..LaunchInfo::default()
        };
        let (token, id) = gateway.lease_for_process(pid, info, Binding::Pinned, upstream)?;
        let dir = crate::agents::launch::files_dir(
            &self.paths.data_dir,
            manifest.id.as_str(),
            preset.name.as_str(),
        )
        .join(&id);
        gateway.remove_on_end(&token, dir);
        Ok(Some(Route {
            url: gateway.url(),
            token,
            id,
        }))
    }

    /// Points the running launches of `agent` that follow its environment at
    /// `preset` (after `env switch`); returns how many, or `None` when the switch
    /// cannot be made live (no gateway, or the preset is not routable).
    pub fn switch_gateway(&self, agent: &str, preset: &PresetName) -> Result<Option<usize>, Error> {
        let Some(gateway) = self.gateway.get() else {
            return Ok(None);
        };
        let preset = self.preset(preset)?;
        Ok(self
            .upstream_of(&preset)
            .map(|upstream| gateway.switch(agent, &upstream)))
    }

    /// True when a running launch with preset `from` can be moved onto `to` by the
    /// gateway alone: both go through it and speak the same API (the gateway sends
    /// `to`'s model in place of the one the CLI started with).
    pub fn live_switchable(&self, from: Option<&str>, to: &str) -> bool {
        let preset = |name: &str| {
            PresetName::parse(name)
                .ok()
                .and_then(|p| self.preset(&p).ok())
                .filter(|p| routable(p).is_some())
        };
        let (Some(from), Some(to)) = (from.and_then(preset), preset(to)) else {
            return false;
        };
        // The gateway puts the new preset's model into the CLI's requests.
        self.settings.gateway == GatewayMode::On && from.kind == to.kind
    }

    /// The API kind `manifest`'s agent is given a preset of `kind` in: its own when
    /// it speaks it, else the other of Anthropic and OpenAI when the agent speaks that
    /// and the gateway carries the preset (it translates between them); `None` when
    /// the agent cannot use it.
    pub fn client_kind(&self, manifest: &Manifest, preset: &Preset) -> Option<ProviderKind> {
        if manifest.accepts(preset.kind) {
            return Some(preset.kind);
        }
        if self.settings.gateway != GatewayMode::On
            || preset.api_key.is_none()
            || routable(preset).is_none()
        {
            return None;
        }
        // Anthropic Messages ⇄ Chat Completions (Codex's Responses by way of Chat).
        let to = match preset.kind {
            ProviderKind::Openai => ProviderKind::Anthropic,
            ProviderKind::Anthropic => ProviderKind::Openai,
            ProviderKind::Gemini | ProviderKind::Custom => return None,
        };
        manifest.accepts(to).then_some(to)
    }

    /// True when a launch with `preset` goes through the gateway, which then meters
    /// its usage (so the agent's own count is not added to the ledger again).
    pub fn gateway_routes(&self, preset: Option<&str>) -> bool {
        self.settings.gateway == GatewayMode::On
            && preset
                .and_then(|p| PresetName::parse(p).ok())
                .and_then(|p| self.preset(&p).ok())
                .is_some_and(|p| routable(&p).is_some())
    }

    /// The quota windows the gateway has seen, with their pace at `now_ms`.
    pub fn limits(&self, now_ms: i64) -> Result<Vec<QuotaView>, Error> {
        if !self.paths.database().exists() {
            return Ok(Vec::new());
        }
        let rows = self.open_store()?.quota_windows()?;
        Ok(rows
            .into_iter()
            .map(|row| QuotaView::at(row, now_ms))
            .collect())
    }

    /// The recorder thread: writes reports in batches until the gateway is gone.
    fn record_reports(&self, mut reports: mpsc::UnboundedReceiver<Report>) {
        while let Some(first) = reports.blocking_recv() {
            let mut batch = vec![first];
            while let Ok(next) = reports.try_recv() {
                batch.push(next);
            }
            let mut rows = Vec::new();
            let mut reservations = Vec::new();
            for report in &batch {
                match &report.observation {
                    Observation::Usage(metered) => {
                        reservations.extend(metered.reservation);
                        if metered.metered {
                            rows.push(self.gateway_row(metered));
                        }
                    }
                    Observation::Quota(seen) => {
                        if let Err(e) = self.record_quota(seen) {
                            tracing::warn!(error = %e, "cannot record quota windows");
                        }
                    }
                    Observation::FellBack(moved, window) => {
                        if let Err(e) = self.record_fall_back(moved, window) {
                            tracing::warn!(error = %e, "cannot record a fall-back");
                        }
                    }
                }
            }
            if let Err(e) = self.record_usage(&rows) {
                tracing::warn!(error = %e, rows = rows.len(), "cannot record the gateway's usage");
            }
            // Recorded: what the requests really cost replaces what was reserved.
            if !reservations.is_empty()
                && let Err(e) = self.release(&reservations, None)
            {
                tracing::warn!(error = %e, "cannot release budget reservations");
            }
            // The batch is recorded: dropping the reports lets `settle` return.
            drop(batch);
        }
    }

    /// The gateway's budget check: each request that spends reserves its estimate
    /// under every hard-stop budget covering the launch, or is refused before it
    /// leaves the machine. Whether any hard stop exists is one read on a
    /// connection kept open, so requests without budgets pay next to nothing and a
    /// budget set a moment ago (by any process) already counts.
    fn admission(&self) -> Admission {
        let engine = self.clone();
        let store: Mutex<Option<crate::store::Store>> = Mutex::new(None);
        Arc::new(move |launch: &Resolved| {
            let hard_stops = {
                let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
                if store.is_none() && engine.paths.database().exists() {
                    *store = engine.open_store().ok();
                }
                store
                    .as_ref()
                    .is_some_and(|s| s.any_hard_stop().unwrap_or(false))
            };
            if !hard_stops {
                return Ok(None);
            }
            engine
                .reserve_run(
                    &launch.info.agent,
                    Some(&launch.upstream.preset),
                    launch.info.task_id.as_deref(),
                )
                .map_err(|e| format!("aiswitch: {e}"))
        })
    }

    fn gateway_row(&self, metered: &Metered) -> UsageRow {
        let mut row = self.usage_row(
            &metered.info.agent,
            Some(&metered.preset),
            metered.model.as_deref(),
            metered.tokens,
            None,
            metered.info.task_id.as_deref(),
        );
        row.at_ms = metered.at_ms;
        row.provider = Some(metered.provider.clone());
        row.count_source = "gateway";
        row.instance.clone_from(&metered.info.instance);
        row.project.clone_from(&metered.info.project);
        row.launch = Some(metered.launch.clone());
        row
    }

    /// Says that a launch moved to its preset's fallback: an alert (a desktop
    /// notification in the app) naming the window, the fallback and when it comes
    /// back.
    fn record_fall_back(&self, moved: &FellBack, window: &QuotaWindow) -> Result<(), Error> {
        let back = match moved.back_at_ms {
            Some(ms) => format!(
                "; back to {} at {} {}",
                moved.from,
                self.calendar.day_key(ms),
                self.calendar.clock(ms)
            ),
            None => format!(
                "; `aiswitch env switch {} {}` goes back",
                moved.info.agent, moved.from
            ),
        };
        let message = format!(
            "{}: the {} window of preset {} ran out; its requests go to {} now{back}",
            moved.info.agent, window.window, moved.from, moved.to
        );
        let subject = format!("{}:{}", moved.info.agent, moved.from);
        let period = window.resets_at_ms.unwrap_or(0).to_string();
        self.raise_alert(AlertKind::QuotaFallback, &subject, &period, &message)?;
        Ok(())
    }

    /// Keeps the windows and raises an alert when one crosses a threshold.
    fn record_quota(&self, seen: &QuotaSeen) -> Result<(), Error> {
        let before = self.open_store()?.record_quota(
            &seen.preset,
            &seen.provider,
            &seen.windows,
            seen.at_ms,
        )?;
        let resets: Vec<Event> = seen
            .windows
            .iter()
            .zip(&before)
            .filter(|(window, old)| {
                old.as_ref().is_some_and(|o| {
                    o.resets_at_ms.is_some_and(|r| r <= seen.at_ms)
                        && o.resets_at_ms != window.resets_at_ms
                })
            })
            .map(|(window, _)| Event::QuotaWindowReset {
                preset: seen.preset.clone(),
                window: window.window.clone(),
                used_percent: window.used_percent,
            })
            .collect();
        self.record(&resets)?;
        for (window, old) in seen.windows.iter().zip(before) {
            if let Some(threshold) = crossed(old.as_ref(), window) {
                let subject = format!("{}:{}", seen.preset, window.window);
                let period = format!("{}:{threshold}", window.resets_at_ms.unwrap_or(0));
                let message = quota_message(&seen.preset, window, threshold, self.calendar());
                self.raise_alert(AlertKind::QuotaThreshold, &subject, &period, &message)?;
            }
        }
        Ok(())
    }
}

/// Where a launch in another process sends its requests: the engine host's gateway
/// and the launch's token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Route {
    /// The gateway's URL.
    pub url: String,
    /// The launch's token (it stands in for the API key).
    pub token: String,
    /// A short name of the launch (its files' directory).
    pub id: String,
}

/// A quota window with its pace, as `aiswitch limits` and the dashboard show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QuotaView {
    /// The window as last seen.
    #[serde(flatten)]
    pub row: QuotaRow,
    /// How much of the window's time has passed, 0–100, when its length and reset
    /// are known.
    pub elapsed_percent: Option<f64>,
    /// Where use ends at the reset if it goes on at this pace.
    pub projected_percent: Option<f64>,
    /// When it runs out at this pace, if before the reset (ms since the epoch).
    pub runs_out_at_ms: Option<i64>,
    /// True when the reset has passed since it was last seen (it is fresh again).
    pub reset_passed: bool,
}

impl QuotaView {
    fn at(row: QuotaRow, now_ms: i64) -> Self {
        let w = &row.window;
        let reset_passed = w.resets_at_ms.is_some_and(|r| r <= now_ms);
        let elapsed = match (w.resets_at_ms, w.window_minutes) {
            (Some(reset), Some(minutes)) if minutes > 0 && !reset_passed => {
                let length = minutes as f64 * 60_000.0;
                Some(((length - (reset - now_ms) as f64) / length * 100.0).clamp(0.0, 100.0))
            }
            _ => None,
        };
        let projected = elapsed
            .filter(|e| *e > 0.0)
            .map(|e| w.used_percent / e * 100.0);
        let runs_out_at_ms = match (elapsed, projected, w.resets_at_ms, w.window_minutes) {
            (Some(e), Some(p), Some(reset), Some(minutes))
                if p > 100.0 && w.used_percent < 100.0 =>
            {
                let length = minutes as f64 * 60_000.0;
                let start = reset as f64 - length;
                let rate = w.used_percent / (e / 100.0 * length);
                Some((start + e / 100.0 * length + (100.0 - w.used_percent) / rate) as i64)
            }
            _ => None,
        };
        Self {
            row,
            elapsed_percent: elapsed,
            projected_percent: projected,
            runs_out_at_ms,
            reset_passed,
        }
    }
}

/// The upstream of `preset` when the gateway can carry it: an API family the
/// gateway speaks, with a key of its own, or (Anthropic) the CLI's own login,
/// whose auth headers pass through untouched.
fn routable(preset: &Preset) -> Option<Upstream> {
    let key = preset.api_key.as_ref().map(|k| k.expose());
    // Without a key the CLI's own login passes through: Claude's follows the base URL,
    // Codex's ChatGPT sign-in and Gemini CLI's Google sign-in (Code Assist) do when the
    // preset names one (their manifests' `login` injections); a local server without
    // auth (Ollama) too.
    let fits = match preset.kind {
        ProviderKind::Anthropic => true,
        ProviderKind::Openai | ProviderKind::Gemini => key.is_some() || preset.base_url.is_some(),
        ProviderKind::Custom => false,
    };
    fits.then(|| {
        let mut upstream = Upstream::new(
            preset.name.as_str(),
            preset.kind,
            preset.base_url.as_deref(),
            key,
        );
        upstream.alternates = preset
            .upstreams
            .iter()
            .map(|u| u.trim_end_matches('/').to_owned())
            .collect();
        upstream.model.clone_from(&preset.model);
        upstream
    })
}

impl Engine {
    /// The upstream of `preset` with its fallback (one level: a fallback's own
    /// fallback is not followed), when the gateway can carry it.
    fn upstream_of(&self, preset: &Preset) -> Option<Upstream> {
        let mut upstream = routable(preset)?;
        upstream.fallback = preset
            .fallback
            .as_ref()
            .and_then(|name| self.preset(name).ok())
            .filter(|f| f.kind == preset.kind)
            .and_then(|f| routable(&f))
            .map(Box::new);
        upstream.switch_back = preset.switch_back;
        Some(upstream)
    }
}

/// The highest threshold `window` is at or above that it was not at before (a
/// window that reset starts again).
fn crossed(old: Option<&QuotaWindow>, window: &QuotaWindow) -> Option<u32> {
    let was = old
        .filter(|o| o.resets_at_ms == window.resets_at_ms)
        .map_or(0.0, |o| o.used_percent);
    QUOTA_THRESHOLDS
        .iter()
        .rev()
        .find(|t| window.used_percent >= **t && was < **t)
        .map(|t| *t as u32)
}

/// The alert's line; the reset time is in the user's zone (the `timezone` setting).
fn quota_message(
    preset: &str,
    window: &QuotaWindow,
    threshold: u32,
    calendar: &Calendar,
) -> String {
    let resets = window
        .resets_at_ms
        .map(|ms| format!(", resets {} {}", calendar.day_key(ms), calendar.clock(ms)))
        .unwrap_or_default();
    format!(
        "{preset}: the {} window is {:.0} % used (crossed {threshold} %){resets}",
        window.window, window.used_percent
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(used: f64, resets: i64) -> QuotaWindow {
        QuotaWindow {
            window: "5h".into(),
            used_percent: used,
            resets_at_ms: Some(resets),
            window_minutes: Some(300),
            status: None,
        }
    }

    #[test]
    fn a_quota_alert_says_the_reset_on_the_users_clock() {
        let shanghai = Calendar::new("Asia/Shanghai", "monday").expect("zone");
        let w = window(80.0, 1_795_570_200_000); // 2026-11-25T01:30:00Z
        assert_eq!(
            quota_message("claude-max", &w, 75, &shanghai),
            "claude-max: the 5h window is 80 % used (crossed 75 %), resets 2026-11-25 09:30"
        );
    }

    #[test]
    fn pace_projects_to_the_reset_and_says_when_it_runs_out() {
        // A 5 h window, 60 % used after 2.5 h: 120 % by the reset, out at 4 h10.
        let hour = 3_600_000;
        let row = |used: f64| QuotaRow {
            preset: "claude".into(),
            provider: "api.anthropic.com".into(),
            window: window(used, 5 * hour),
            seen_at_ms: 0,
        };
        let view = QuotaView::at(row(60.0), 5 * hour / 2);
        assert_eq!(view.elapsed_percent, Some(50.0));
        assert_eq!(view.projected_percent, Some(120.0));
        let out = view.runs_out_at_ms.expect("runs out");
        assert!((out - (4 * hour + hour / 6)).abs() < 1_000, "{out}");
        let calm = QuotaView::at(row(20.0), 5 * hour / 2);
        assert_eq!(calm.runs_out_at_ms, None);
        assert!(QuotaView::at(row(20.0), 6 * hour).reset_passed);
    }

    #[test]
    fn thresholds_fire_once_each_and_again_after_a_reset() {
        assert_eq!(crossed(None, &window(50.0, 1)), None);
        assert_eq!(crossed(None, &window(80.0, 1)), Some(75));
        assert_eq!(crossed(Some(&window(80.0, 1)), &window(85.0, 1)), None);
        assert_eq!(
            crossed(Some(&window(85.0, 1)), &window(100.0, 1)),
            Some(100)
        );
        assert_eq!(
            crossed(Some(&window(100.0, 1)), &window(76.0, 2)),
            Some(75),
            "a new window"
        );
    }
}
