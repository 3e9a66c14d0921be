// The dashboard's words in English and Chinese. The language follows the browser
// (zh-* → Chinese) until the user picks one; the choice is kept in localStorage.
export type Lang = "en" | "zh";

const words = {
  overview: ["Overview", "概览"],
  launch: ["Launch", "启动任务"],
  providers: ["Providers", "服务商"],
  tasks: ["Tasks", "任务"],
  agents: ["Agents", "代理"],
  agent: ["Agent", "代理"],
  state: ["State", "状态"],
  preset: ["Preset", "预设"],
  cpu: ["CPU", "CPU"],
  memory: ["Memory", "内存"],
  installed: ["Installed", "已安装"],
  version: ["Version", "版本"],
  notInstalled: ["not installed", "未安装"],
  probing: ["probing…", "检测中…"],
  tasksRunning: ["Tasks running", "运行中的任务"],
  agentsRunning: ["Agents running", "运行中的代理"],
  global: ["global", "全局"],
  today: ["Today", "今日"],
  tokens: ["Tokens", "Token"],
  cost: ["Cost", "费用"],
  budgets: ["Budgets", "预算"],
  noBudgets: ["No budgets: set one on the Usage page.", "未设置预算：在“用量”页设置。"],
  quotaWindows: ["Quota windows", "配额窗口"],
  noQuotaWindows: [
    "No quota windows seen yet: they appear after the first request through the gateway to a provider that reports them.",
    "还没有配额窗口：经网关向会报告配额的服务商发出第一个请求后即会显示。",
  ],
  resets: ["resets", "重置于"],
  runsOut: ["runs out at this pace at", "按当前速度用完于"],
  day: ["day", "日"],
  week: ["week", "周"],
  month: ["month", "月"],
  alerts: ["Alerts", "告警"],
  noAlerts: ["No alerts.", "没有告警。"],
  acknowledgeAll: ["Acknowledge all", "全部确认"],
  recentTasks: ["Recent tasks", "最近任务"],
  noTasks: ["No tasks yet.", "还没有任务。"],
  prompt: ["Prompt", "提示词"],
  fromFile: ["From a file", "从文件读取"],
  order: ["Order", "顺序"],
  parallel: ["Parallel", "并行"],
  sequential: ["Sequential", "顺序执行"],
  chain: ["Chain", "链式"],
  coordination: ["Coordination", "协调方式"],
  strict: ["Strict", "严格"],
  loose: ["Loose", "宽松"],
  isolated: ["Isolated", "隔离"],
  timeout: ["Timeout (seconds)", "超时（秒）"],
  workdir: ["Working directory", "工作目录"],
  defaultPreset: ["default", "默认"],
  launchTask: ["Launch task", "启动任务"],
  pickAgent: ["Pick at least one agent.", "请至少选择一个代理。"],
  writePrompt: ["Write a prompt.", "请填写提示词。"],
  task: ["Task", "任务"],
  cancel: ["Cancel", "取消"],
  cancelTask: ["Cancel task", "取消任务"],
  edit: ["Edit", "编辑"],
  save: ["Save", "保存"],
  importLogs: ["Import the agents' logs", "导入各代理的日志"],
  importHint: ["Claude Code, Codex, Gemini CLI and Qwen Code keep their own usage logs; new entries are added once.", "Claude Code、Codex、Gemini CLI 和 Qwen Code 各自保存用量日志；新记录只导入一次。"],
  importing: ["Importing…", "正在导入…"],
  noLogs: ["No logs found in this user's home.", "在本用户主目录下没有找到日志。"],
  newEntries: ["new entries", "条新记录"],
  files: ["files", "个文件"],
  alreadyImported: ["already imported", "条已导入"],
  doctor: ["Doctor", "诊断"],
  doctorIntro: ["What competes with aiswitch's presets on this machine, and aiswitch's own directories.", "本机上与 aiswitch 预设冲突的设置，以及 aiswitch 自己的目录。"],
  setting: ["Setting", "设置"],
  file: ["File", "文件"],
  beaten: ["aiswitch wins", "aiswitch 优先"],
  notBeaten: ["needs a fix", "需要修复"],
  noOverrides: ["No user settings compete with a preset.", "没有与预设冲突的用户设置。"],
  directory: ["Directory", "目录"],
  ok: ["ok", "正常"],
  checking: ["Checking…", "正在检查…"],
  probeOnSwitch: ["When switching, also send a test prompt through the new provider (one request)", "切换时通过新服务商发送一条测试提示（一次请求）"],
  activity: ["Thoughts and tool calls", "思考与工具调用"],
  thinking: ["Thinking", "思考"],
  output: ["Output", "输出"],
  status: ["Status", "状态"],
  started: ["Started", "开始时间"],
  duration: ["Duration", "耗时"],
  waiting: ["waiting", "等待中"],
  result: ["Result", "结果"],
  diff: ["Changes", "改动"],
  presets: ["Presets", "预设"],
  kind: ["Kind", "类型"],
  model: ["Model", "模型"],
  baseUrl: ["Base URL", "接口地址"],
  apiKey: ["API key", "API 密钥"],
  switchTo: ["Switch to", "切换到"],
  switched: ["switched", "已切换"],
  current: ["current", "当前"],
  noPresets: ["No presets yet. Add one with `aiswitch add NAME --kind anthropic --api-key -`.", "还没有预设。用 `aiswitch add NAME --kind anthropic --api-key -` 添加。"],
  connecting: ["Connecting to aiswitch…", "正在连接 aiswitch…"],
  disconnected: ["Not connected to aiswitch; retrying.", "未连接到 aiswitch，正在重试。"],
  language: ["中文", "English"],
  none: ["none", "无"],
  unpriced: ["unpriced", "未计价"],
  search: ["Search", "搜索"],
  searchHint: ["prompt text or task id", "提示词或任务 ID"],
  all: ["all", "全部"],
  noMatch: ["No task matches these filters.", "没有符合条件的任务。"],
  previous: ["Previous", "上一页"],
  next: ["Next", "下一页"],
  showAcknowledged: ["Show acknowledged", "显示已确认"],
  when: ["When", "时间"],
  message: ["Message", "内容"],
  acknowledge: ["Acknowledge", "确认"],
  usage: ["Usage", "用量"],
  period: ["Period", "时间范围"],
  days: ["days", "天"],
  total: ["Total", "合计"],
  runs: ["Runs", "运行次数"],
  noUsage: ["No usage in this period. Run a task, or import your agents' logs with `aiswitch usage import`.", "此期间没有用量。运行一个任务，或用 `aiswitch usage import` 导入代理日志。"],
  tokensByDay: ["Tokens by day", "每日 Token"],
  keep: ["Keep this one", "采用这个"],
  kept: ["Kept in", "已应用到"],
  addPreset: ["Add a preset", "添加预设"],
  name: ["Name", "名称"],
  add: ["Add", "添加"],
  remove: ["Remove", "删除"],
  removed: ["removed", "已删除"],
  added: ["added", "已添加"],
  anyAgents: ["Or any N installed agents", "或任选 N 个已安装代理"],
  loading: ["Loading…", "加载中…"],
  noBudgetsYet: ["No budgets yet: set one below.", "还没有预算：在下面设置。"],
  scope: ["Scope", "范围"],
  spent: ["Spent", "已用"],
  budget: ["budget", "预算"],
  hardStop: ["hard stop", "超出即停止"],
  setBudget: ["Set budget", "设置预算"],
  limitUsd: ["Limit (USD)", "上限（美元）"],
  thresholds: ["Alert at (%)", "提醒阈值（%）"],
  rollBack: ["Roll back to", "回滚到"],
  rolledBack: ["rolled back to", "已回滚到"],
  noSnapshots: ["no snapshots", "没有快照"],
  corrupt: ["corrupt, cannot roll back", "已损坏，无法回滚"],
  before: ["before the switch of", "切换前"],
  refreshAgents: ["Find versions again", "重新检测版本"],
  trimmed: ["Showing the latest output; all of it once the run ends.", "仅显示最新输出；运行结束后显示全部。"],
} as const;

export type Word = keyof typeof words;

/** States as the engine names them (tasks, runs, agents). */
const states: Record<string, string> = {
  running: "运行中",
  succeeded: "成功",
  failed: "失败",
  cancelled: "已取消",
  interrupted: "已中断",
  timed_out: "超时",
  waiting: "等待中",
  idle: "空闲",
  busy: "忙碌",
  starting: "启动中",
  crashed: "已崩溃",
  gave_up: "已放弃",
  stopped: "已停止",
};

/** A state in the page's language. */
export function stateWord(state: string): string {
  return i18n.lang === "zh" ? (states[state] ?? state) : state.replace("_", " ");
}

/** A moment in the user's time zone, `2026-12-02 14:05`, read the same in both
 *  languages. Built from the date's own fields rather than `toLocaleString`: a new
 *  page's first `Intl` formatting loads locale data, tens of milliseconds of its
 *  first load on a small machine. */
export function when(ms: number): string {
  const at = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}`;
}

/** A time in the user's zone: `14:05` today, with the date on other days. */
export function clock(ms: number): string {
  const full = when(ms);
  return full.slice(0, 10) === when(Date.now()).slice(0, 10) ? full.slice(11) : full;
}

/** A count with thousands grouped, `1,234,567` (the same in English and Chinese);
 *  for the same reason as `when`, without `Intl`. */
export function count(n: number): string {
  const digits = String(Math.round(Math.abs(n)));
  const grouped = digits.replace(/\B(?=(\d{3})+$)/g, ",");
  return n < 0 ? `-${grouped}` : grouped;
}

/** An order or coordination mode as the table shows it ("parallel · isolated"). */
export function modeWord(mode: string): string {
  return mode in words ? t(mode as Word).toLowerCase() : mode;
}

function initial(): Lang {
  const saved = localStorage.getItem("aiswitch.lang");
  if (saved === "en" || saved === "zh") return saved;
  return navigator.language.toLowerCase().startsWith("zh") ? "zh" : "en";
}

export const i18n = $state({ lang: initial() });

export function t(word: Word): string {
  return words[word][i18n.lang === "zh" ? 1 : 0];
}

export function toggleLang() {
  i18n.lang = i18n.lang === "zh" ? "en" : "zh";
  localStorage.setItem("aiswitch.lang", i18n.lang);
  document.documentElement.lang = i18n.lang === "zh" ? "zh-CN" : "en";
}
