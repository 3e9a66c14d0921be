// The engine's state as the pages show it, kept live from the event stream: each
// event refreshes what it changes (one control call), and task progress is kept per
// task and agent as it streams.
import firstCalls from "./first-calls.json";
import { append, streamed, text as streamedText, type Streamed } from "./output";
import { inTauri, transport, type Connection, type EngineEvent } from "./transport";

export interface Tokens { input: number; output: number; cache_read: number; cache_write: number; reasoning: number }
export interface AgentInfo { id: string; name: string; driver: string; lifetime: string; path: string | null; version: string | null; probing: boolean; accepts: string[] }
export interface AgentStatus { agent: string; state: string; pid: number | null; cpu_percent: number | null; memory_bytes: number | null; preset: string | null; restarts: number }
export interface Preset { name: string; kind: string; base_url: string | null; model: string | null; api_key: string | null; current?: boolean }
export interface TaskRow { id: string; prompt: string; status: string; agents: string; coordination: string; order: string; started_ms: number; ended_ms: number | null }
export interface Budget { id: number; scope: string; period: string; limit: { usd?: number; tokens?: number }; thresholds: number[]; spent: number; percent: number; hard_stop: boolean }
/** A provider's quota window as the gateway last read it (`limits.list`). */
export interface QuotaWindow { preset: string; provider: string; window: string; used_percent: number; resets_at_ms: number | null; window_minutes: number | null; runs_out_at_ms: number | null; projected_percent: number | null; reset_passed: boolean }
export interface Alert { id: number; kind: string; subject: string; message: string; at_ms?: number }
/** What an agent did besides answering: its reasoning and the tools it called. */
export interface Activity { kind: "thought" | "tool"; text: string }
/** `output` is the whole output once the run's result is loaded; until then `live` holds its newest lines. */
export interface Run { agent: string; status: string; output: string; live?: Streamed; activity?: Activity[]; tokens: Tokens | null; started_ms: number; ended_ms: number | null; duration_ms?: number; error?: string | null; diff?: string | null; cost_usd?: number | null }
export interface TaskLive { id: string; title: string; agents: string[]; status: string; reason?: string; runs: Record<string, Run>; tokens?: Tokens; cost_usd?: number | null }

export const engine = $state({
  connection: "connecting" as Connection,
  connectionWhy: "" as string,
  agents: [] as AgentInfo[],
  running: [] as AgentStatus[],
  presets: [] as Preset[],
  current: null as string | null,
  agentPresets: {} as Record<string, string | null>,
  tasks: [] as TaskRow[],
  budgets: [] as Budget[],
  windows: [] as QuotaWindow[],
  alerts: [] as Alert[],
  today: { tokens: 0, cost: 0 },
  live: {} as Record<string, TaskLive>,
  history: {} as Record<string, number[]>,
});

/** The overview's calls, one per part it shows. `aiswitch dashboard` answers the same
 *  list before the page loads (src/dashboard/first_page.rs), so they live in one file;
 *  a parameter `"today"` is this day's local midnight in milliseconds. */
function first<T>(part: keyof typeof firstCalls): Promise<T> {
  const call: { method: string; params?: Record<string, unknown> } = firstCalls[part];
  if (!call.params) return transport.call<T>(call.method);
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  const params = Object.fromEntries(
    Object.entries(call.params).map(([k, v]) => [k, v === "today" ? midnight.getTime() : v]),
  );
  return transport.call<T>(call.method, params);
}

const refreshers = {
  agents: async () => {
    const list = await first<{ agents: AgentInfo[] }>("agents");
    engine.agents = list.agents;
  },
  running: async () => {
    const status = await first<{ agents: AgentStatus[] }>("running");
    engine.running = status.agents;
    for (const a of status.agents) {
      const h = (engine.history[a.agent] ??= []);
      h.push(a.cpu_percent ?? 0);
      if (h.length > 30) h.shift();
    }
  },
  presets: async () => {
    const list = await first<{ presets: Preset[]; current: string | null }>("presets");
    engine.presets = list.presets;
    engine.current = list.current;
    const shown = await Promise.all(
      engine.agents
        .filter((a) => a.path)
        .map(async (a) => {
          try {
            const env = await transport.call<{ preset: string | null }>("env.show", { agent: a.id });
            return [a.id, env.preset] as const;
          } catch {
            return [a.id, null] as const;
          }
        }),
    );
    engine.agentPresets = Object.fromEntries(shown);
  },
  tasks: async () => {
    const list = await first<{ tasks: TaskRow[] }>("tasks");
    engine.tasks = list.tasks;
  },
  usage: async () => {
    const summary = await first<{ total: { tokens: Tokens; cost_usd: number | null } }>("usage");
    const t = summary.total.tokens;
    engine.today = { tokens: t.input + t.output + t.cache_read + t.cache_write, cost: summary.total.cost_usd ?? 0 };
  },
  budgets: async () => {
    const list = await first<{ budgets: Budget[] }>("budgets");
    engine.budgets = list.budgets;
  },
  alerts: async () => {
    const list = await first<{ alerts: Alert[] }>("alerts");
    engine.alerts = list.alerts;
  },
  windows: async () => {
    const list = await first<{ windows: QuotaWindow[] }>("windows");
    engine.windows = list.windows;
  },
};
type Part = keyof typeof refreshers;

async function refresh(...parts: Part[]) {
  await Promise.all(parts.map((p) => refreshers[p]().catch(() => {})));
}

/** What each event kind changes. */
function affected(kind: string): Part[] {
  if (kind.startsWith("preset_") || kind.startsWith("env_")) return ["presets"];
  if (kind === "agent_registered" || kind === "agent_probed") return ["agents"];
  if (kind.startsWith("agent_")) return ["running"];
  if (kind === "task_started" || kind === "task_finished") return ["tasks", "usage", "budgets"];
  if (kind === "usage_recorded") return ["usage", "budgets", "windows"];
  if (kind.startsWith("budget_")) return ["budgets", "alerts"];
  if (kind.startsWith("alert")) return ["alerts", "windows"];
  if (kind.startsWith("quota_")) return ["windows"];
  if (kind === "daemon_started") return Object.keys(refreshers) as Part[];
  return [];
}

function run(task: TaskLive, agent: string): Run {
  return (task.runs[agent] ??= { agent, status: "waiting", output: "", tokens: null, started_ms: 0, ended_ms: null });
}

/** The most output kept per run while it streams (laying out more text every frame
 *  is what slows a page down); older lines are dropped from the top, and the whole
 *  output is loaded from the result when the task ends. */
const KEEP_OUTPUT = 16 * 1024;
/** The most activity entries kept per run (the newest), and of one thought's text. */
const KEEP_ACTIVITY = 50;
const KEEP_THOUGHT = 2000;

/** Adds a thought (joined to the thought before it) or a tool call to a run. */
function addActivity(r: Run, kind: Activity["kind"], text: string) {
  const list = (r.activity ??= []);
  const last = list[list.length - 1];
  if (kind === "thought" && last?.kind === "thought") {
    last.text = (last.text + text).slice(-KEEP_THOUGHT);
  } else {
    list.push({ kind, text: text.slice(-KEEP_THOUGHT) });
    if (list.length > KEEP_ACTIVITY) list.splice(0, list.length - KEEP_ACTIVITY);
  }
}

/** Output arrived since the last frame, per task and agent: the page updates once a
 *  frame however fast agents write. */
const pendingOutput = new Map<string, Map<string, string>>();
let flushQueued = false;

function queueOutput(task: string, agent: string, text: string) {
  const byAgent = pendingOutput.get(task) ?? new Map<string, string>();
  byAgent.set(agent, (byAgent.get(agent) ?? "") + text);
  pendingOutput.set(task, byAgent);
  if (!flushQueued) {
    flushQueued = true;
    requestAnimationFrame(flushOutput);
  }
}

function flushOutput() {
  flushQueued = false;
  for (const [task, byAgent] of pendingOutput) {
    const live = engine.live[task];
    if (!live) continue;
    for (const [agent, text] of byAgent) {
      const r = run(live, agent);
      r.live ??= streamed();
      append(r.live, text, KEEP_OUTPUT); // through the state proxy: the page updates
    }
  }
  pendingOutput.clear();
}

let subscriptions = 0;

function follow(e: EngineEvent) {
  // In a browser the first subscription comes with the first load; after a
  // reconnect, what changed meanwhile is read again. In the app the host subscribes
  // on its own (and again after the daemon restarts), maybe after the page loaded.
  if (e.event === "subscribed" && (subscriptions++ > 0 || inTauri())) void refresh(...(Object.keys(refreshers) as Part[]));
  const id = e.task as string | undefined;
  if (e.event === "task_started" && id) {
    engine.live[id] = { id, title: String(e.title ?? ""), agents: e.agents as string[], status: "running", runs: {} };
    for (const a of e.agents as string[]) run(engine.live[id], a);
  } else if (id && engine.live[id]) {
    const task = engine.live[id];
    const agent = e.agent as string | undefined;
    if (e.event === "run_started" && agent) Object.assign(run(task, agent), { status: "running", started_ms: e.at_ms });
    if (e.event === "run_output" && agent) queueOutput(id, agent, String(e.text ?? ""));
    if (e.event === "run_usage" && agent) run(task, agent).tokens = e.tokens as Tokens;
    if (e.event === "run_thought" && agent) addActivity(run(task, agent), "thought", String(e.text ?? ""));
    if (e.event === "run_tool_call" && agent) addActivity(run(task, agent), "tool", String(e.name ?? ""));
    if (e.event === "run_finished" && agent) flushOutput();
    if (e.event === "run_finished" && agent) Object.assign(run(task, agent), { status: String(e.status), ended_ms: e.at_ms });
    if (e.event === "task_finished") {
      Object.assign(task, { status: String(e.status), reason: e.reason as string | undefined, tokens: e.tokens as Tokens, cost_usd: e.cost_usd as number | null });
    }
  }
  void refresh(...affected(e.event));
}

let loading: Promise<void> | null = null;

/** Connects, loads everything and follows the events (once); resolves once loaded. */
export function start(): Promise<void> {
  return (loading ??= begin());
}

function begin(): Promise<void> {
  transport.onConnection((state, why) => {
    engine.connection = state;
    engine.connectionWhy = why ?? "";
  });
  transport.onEvent(follow);
  // Everything at once; only the presets wait for the agents (they read each one's env).
  const rest = (Object.keys(refreshers) as Part[]).filter((p) => p !== "agents" && p !== "presets");
  const loaded = Promise.all([refresh(...rest), refresh("agents").then(() => refresh("presets"))]).then(() => {});
  // CPU and memory are sampled by the host; the sparklines read them every 2 s.
  setInterval(() => {
    if (engine.connection === "connected" && engine.running.length > 0) void refresh("running");
  }, 2000);
  return loaded;
}

/** A finished task's stored result into the live view (opened after it ran). */
export async function loadTask(id: string) {
  const result = await transport.call<any>("task.result", { task: id });
  const status = await transport.call<any>("task.status", { task: id }).catch(() => null);
  if (!result && !status) return;
  const task: TaskLive = engine.live[id] ?? {
    id,
    title: status?.prompt ?? result?.prompt ?? "",
    agents: [],
    status: status?.status ?? "running",
    runs: {},
  };
  if (result) {
    task.status = result.status;
    task.tokens = result.tokens;
    task.cost_usd = result.cost_usd;
    for (const r of result.runs ?? []) {
      const live = run(task, r.agent);
      Object.assign(live, { status: r.status, output: r.output || (live.live ? streamedText(live.live) : ""), live: undefined, tokens: r.tokens, duration_ms: r.duration_ms, error: r.error, diff: r.diff, cost_usd: r.cost_usd });
      if (!task.agents.includes(r.agent)) task.agents.push(r.agent);
    }
    const stored = await transport
      .call<{ transcripts: { agent: string; events: { type: string; text?: string; name?: string }[] }[] }>("task.transcript", { task: id })
      .catch(() => null);
    for (const { agent, events } of stored?.transcripts ?? []) {
      const r = run(task, agent);
      r.activity = [];
      for (const ev of events) {
        if (ev.type === "thought") addActivity(r, "thought", ev.text ?? "");
        if (ev.type === "tool_call") addActivity(r, "tool", ev.name ?? "");
      }
    }
  }
  engine.live[id] = task;
}

export function totalTokens(t: Tokens | null | undefined): number {
  return t ? t.input + t.output + t.cache_read + t.cache_write : 0;
}

export function usd(value: number | null | undefined): string {
  if (value == null) return "—";
  return `$${value.toFixed(value > 0 && value < 0.1 ? 4 : 2)}`;
}

export function mib(bytes: number | null | undefined): string {
  return bytes == null ? "—" : `${(bytes / 1048576).toFixed(1)} MiB`;
}
