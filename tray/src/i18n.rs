//! The words the tray and the notifications show, in English and Simplified Chinese.
//! The `language` setting chooses (`auto`: the system locale).

use aiswitch::settings::Language;

/// A language the app speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

/// Every text the app shows outside the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Provider,
    AllAgents,
    NoAgentInstalled,
    NoUsablePreset,
    Alerts,
    AcknowledgeAll,
    OpenDashboard,
    LaunchTask,
    Quit,
    PauseNotifications,
    PauseHour,
    PauseTomorrow,
    Resume,
    NotificationsPaused,
    NoPreset,
    Busy,
    Idle,
    Today,
    Tokens,
    Budget,
    ThisDay,
    ThisWeek,
    ThisMonth,
    AgentCrashed,
    RestartLimit,
    QuotaThreshold,
    Resets,
    QuotaFallback,
    TaskFailed,
    TaskTimedOut,
    TaskFinished,
    BudgetThreshold,
    BudgetUnpriced,
    BudgetHardStop,
    EnvSwitchFailed,
    ErrorRate,
    Agents,
    Stop,
    Restart,
    RecentTasks,
    InstallCli,
    StartAtLogin,
}

impl Lang {
    /// The language `setting` asks for; `auto` reads the locale from `env`.
    pub fn choose(setting: Language, env: impl Fn(&str) -> Option<String>) -> Self {
        match setting {
            Language::En => Self::En,
            Language::Zh => Self::Zh,
            Language::Auto => {
                let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
                    .into_iter()
                    .filter_map(env)
                    .find(|v| !v.is_empty())
                    .unwrap_or_default();
                if locale.starts_with("zh") {
                    Self::Zh
                } else {
                    Self::En
                }
            }
        }
    }

    /// `text` in this language.
    pub fn text(self, text: Text) -> &'static str {
        let (en, zh) = match text {
            Text::Provider => ("Provider", "供应商"),
            Text::AllAgents => ("All agents", "所有代理"),
            Text::NoAgentInstalled => ("no agent installed", "未安装代理"),
            Text::NoUsablePreset => ("no preset of a kind it takes", "没有它能用的预设"),
            Text::Alerts => ("Alerts", "警报"),
            Text::AcknowledgeAll => ("Acknowledge all", "全部确认"),
            Text::OpenDashboard => ("Open dashboard", "打开仪表盘"),
            Text::LaunchTask => ("Launch task…", "启动任务…"),
            Text::Quit => ("Quit", "退出"),
            Text::PauseNotifications => ("Pause notifications", "暂停通知"),
            Text::PauseHour => ("For 1 hour", "1 小时"),
            Text::PauseTomorrow => ("Until tomorrow", "直到明天"),
            Text::Resume => ("Resume", "恢复"),
            Text::NotificationsPaused => ("notifications paused", "通知已暂停"),
            Text::NoPreset => ("no preset", "无预设"),
            Text::Busy => ("busy", "忙碌"),
            Text::Idle => ("idle", "空闲"),
            Text::Today => ("today", "今天"),
            Text::Tokens => ("tokens", "令牌"),
            Text::Budget => ("Budget", "预算"),
            Text::ThisDay => ("today", "今天"),
            Text::ThisWeek => ("this week", "本周"),
            Text::ThisMonth => ("this month", "本月"),
            Text::AgentCrashed => ("Agent crashed", "代理崩溃"),
            Text::RestartLimit => ("Agent stopped restarting", "代理已停止重启"),
            Text::QuotaThreshold => ("Quota window", "配额窗口"),
            Text::Resets => ("resets", "重置于"),
            Text::QuotaFallback => ("Switched to the fallback provider", "已切换到备用服务商"),
            Text::TaskFailed => ("Task failed", "任务失败"),
            Text::TaskTimedOut => ("Task timed out", "任务超时"),
            Text::TaskFinished => ("Task finished", "任务完成"),
            Text::BudgetThreshold => ("Budget alert", "预算提醒"),
            Text::BudgetUnpriced => ("Runs without a price", "存在未定价的运行"),
            Text::BudgetHardStop => (
                "Budget limit reached: run refused",
                "预算已达上限：运行被拒绝",
            ),
            Text::EnvSwitchFailed => ("Provider switch failed", "切换供应商失败"),
            Text::ErrorRate => ("Agent errors rising", "代理错误率上升"),
            Text::Agents => ("Agents", "代理"),
            Text::Stop => ("Stop", "停止"),
            Text::Restart => ("Restart", "重启"),
            Text::RecentTasks => ("Recent tasks", "最近的任务"),
            Text::InstallCli => ("Install command-line tool", "安装命令行工具"),
            Text::StartAtLogin => ("Start at login", "登录时启动"),
        };
        match self {
            Self::En => en,
            Self::Zh => zh,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_wins_and_auto_follows_the_locale() {
        let env = |lang: &'static str| move |name: &str| (name == "LANG").then(|| lang.to_owned());
        assert_eq!(Lang::choose(Language::Auto, env("zh_CN.UTF-8")), Lang::Zh);
        assert_eq!(Lang::choose(Language::Auto, env("en_GB.UTF-8")), Lang::En);
        assert_eq!(Lang::choose(Language::Auto, |_| None), Lang::En);
        assert_eq!(Lang::choose(Language::En, env("zh_CN.UTF-8")), Lang::En);
        assert_eq!(Lang::choose(Language::Zh, env("C")), Lang::Zh);
    }
}
