// Drives the dashboard as a person does, in real Chromium, against a real engine:
//   node ui/tests/dashboard.mjs URL WORKDIR SCREENSHOT_DIR AISWITCH
// URL is what `aiswitch dashboard` printed; AISWITCH is the CLI, used to change the
// engine from outside while the page is open (the page must follow by itself) and
// to check that what the page shows is what the engine says. The engine has the
// reference agents aiswitch-agent, ref-b, ref-c, slow (20 s per reply) and crashy
// (exits on its first prompt). Called by tests/dashboard.rs; prints one line per
// step, exits 1 on the first failure with what the page showed.
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

const [url, workdir, shots, cli] = process.argv.slice(2);
const deadline = { timeout: 20000 };
const aiswitch = (args, input) => JSON.parse(execFileSync(cli, [...args, "--json"], { input }).toString());
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--disable-dev-shm-usage"],
});
const page = await browser.newPage({ viewport: { width: 1200, height: 820 }, locale: "en-US" });
const step = (what) => console.log(`dashboard: ${what}`);
const shot = (name) => page.screenshot({ path: `${shots}/${name}.png` });
const nav = (name) => page.getByRole("navigation").getByRole("link", { name, exact: false });

async function launch({ prompt, agents, coordination }) {
  await nav("Launch").click();
  await page.getByLabel("Prompt").fill(prompt);
  for (const agent of agents) await page.getByRole("checkbox", { name: agent, exact: true }).check();
  await page.getByRole("radio", { name: coordination }).check();
  await page.getByLabel("Working directory").fill(workdir);
  await page.getByRole("button", { name: "Launch task" }).click();
  await page.waitForURL(/#\/task\//, deadline);
  return decodeURIComponent(page.url().split("#/task/")[1]);
}

try {
  await page.goto(url);
  if (page.url().includes("token=")) throw new Error(`the token stayed in the address bar: ${page.url()}`);
  await page.getByRole("table", { name: "Agents" }).getByRole("cell", { name: "aiswitch-agent", exact: true }).waitFor(deadline);
  step("overview lists the installed reference agents");
  await page.getByRole("progressbar", { name: "claude-max 5h" }).waitFor(deadline);
  await page.getByText(/62 %, resets/).waitFor(deadline);
  step("the overview shows the quota window the gateway read");

  // Providers: add a preset from the page, its key in a password field.
  await nav("Providers").click();
  const form = page.getByRole("form", { name: "Add a preset" });
  await form.getByLabel("Name").fill("deepseek");
  await form.getByLabel("Base URL").fill("https://api.deepseek.com/anthropic");
  await form.getByLabel("API key").fill("sk-ds-page-secret-0123456789abcdef");
  if ((await form.getByLabel("API key").getAttribute("type")) !== "password") throw new Error("the key field shows the key");
  await form.getByRole("button", { name: "Add" }).click();
  const presets = page.getByRole("table", { name: "Presets" });
  await presets.getByRole("cell", { name: "deepseek", exact: true }).waitFor(deadline);
  if ((await page.locator("body").innerText()).includes("sk-ds-page-secret-0123456789abcdef")) throw new Error("the page shows an API key");
  if (aiswitch(["show", "deepseek"]).name !== "deepseek") throw new Error("the engine has no preset deepseek");
  step("a preset added on the page is the engine's, its key never shown");

  execFileSync(cli, ["add", "added-from-a-terminal", "--kind", "anthropic", "--base-url", "https://api.example.com/anthropic", "--api-key", "-"], { input: "sk-ant-terminal-secret-0123456789" });
  await presets.getByRole("cell", { name: "added-from-a-terminal", exact: true }).waitFor(deadline);
  step("a preset added in a terminal appears without a reload");

  await page.getByRole("checkbox", { name: /send a test prompt/ }).check();
  await page.getByLabel("Switch to aiswitch-agent").selectOption("deepseek");
  await page.getByRole("status").filter({ hasText: "aiswitch-agent: switched → deepseek" }).waitFor(deadline);
  if (aiswitch(["env", "show", "aiswitch-agent"]).preset !== "deepseek") throw new Error("env show does not agree");
  step("switching a provider from the page switches it (verified; env show agrees)");
  await page.getByRole("checkbox", { name: /send a test prompt/ }).uncheck();
  await page.getByLabel("Switch to aiswitch-agent").selectOption("added-from-a-terminal");
  await page.getByRole("status").filter({ hasText: "switched → added-from-a-terminal" }).waitFor(deadline);
  const rollBack = page.getByLabel("Roll back to aiswitch-agent");
  // Newest first (after the "—" placeholder), each naming the preset it puts back.
  const newestSnapshot = rollBack.locator("option").nth(1);
  await newestSnapshot.filter({ hasText: /^before the switch of .* · deepseek$/ }).waitFor({ state: "attached", ...deadline });
  const snapshot = await newestSnapshot.getAttribute("value");
  await rollBack.selectOption(snapshot);
  await page.getByRole("status").filter({ hasText: /rolled back to before the switch of .* → deepseek/ }).waitFor(deadline);
  await page.getByRole("table", { name: "Providers" }).getByRole("row", { name: /^aiswitch-agent deepseek/ }).waitFor(deadline);
  if (aiswitch(["env", "show", "aiswitch-agent"]).preset !== "deepseek") throw new Error("the rollback did not reach the engine");
  step("a switch rolled back from its snapshot");
  const doctor = page.getByRole("table", { name: "Doctor" });
  await doctor.getByText("env.ANTHROPIC_BASE_URL").waitFor(deadline);
  await doctor.getByText(".claude/settings.json").waitFor(deadline);
  step("the doctor's findings are on the providers page");
  await shot("dashboard-providers");

  // An isolated parallel task on three agents, watched live, one agent's changes kept.
  await nav("Launch").click();
  await page.getByRole("button", { name: "Launch task" }).click();
  await page.getByRole("alert").filter({ hasText: "Write a prompt." }).waitFor(deadline);
  step("launching without a prompt says what is missing");
  await page.getByLabel("Prompt").fill("write notes/{name}.md by {name}");
  for (const agent of ["aiswitch-agent", "ref-b", "ref-c"]) await page.getByRole("checkbox", { name: agent, exact: true }).check();
  await page.getByRole("radio", { name: "Isolated" }).check();
  await page.getByLabel("Working directory").fill(workdir);
  await shot("dashboard-launch");
  await page.getByRole("button", { name: "Launch task" }).click();
  await page.waitForURL(/#\/task\//, deadline);
  for (const agent of ["aiswitch-agent", "ref-b", "ref-c"]) {
    const column = page.getByRole("region", { name: agent, exact: true });
    await column.getByText("succeeded").waitFor(deadline);
    await column.getByText(`+by ${agent}`).waitFor(deadline);
  }
  await page.getByLabel("Status").filter({ hasText: "succeeded" }).waitFor(deadline);
  step("an isolated task on three agents shows each agent's run and diff");
  const activity = (agent) => page.getByRole("list", { name: `Thoughts and tool calls: ${agent}` });
  await activity("ref-b").getByText("→ Write notes/ref-b.md").waitFor(deadline);
  await activity("ref-c").getByText("Where do notes go?").waitFor(deadline);
  step("each column shows the agent's reasoning and tool calls");
  await page.getByRole("button", { name: "Keep this one: ref-b" }).click();
  await page.getByRole("status").filter({ hasText: "ref-b: Kept in" }).waitFor(deadline);
  if (readFileSync(`${workdir}/notes/ref-b.md`, "utf8") !== "by ref-b") throw new Error("the kept file is not in the workdir");
  if (existsSync(`${workdir}/notes/ref-c.md`)) throw new Error("another agent's change reached the workdir");
  step("keep this one: that agent's file is in the working directory, no other");
  await shot("dashboard-task");
  const finishedTask = page.url();

  // One agent of a running task cancelled from its column; the other goes on.
  await launch({ prompt: "one of you may stop", agents: ["slow", "ref-c"], coordination: "Loose" });
  const slowColumn = page.getByRole("region", { name: "slow", exact: true });
  await slowColumn.getByText("running").waitFor(deadline);
  await page.getByRole("button", { name: "Cancel slow", exact: true }).click();
  await slowColumn.getByText("cancelled by the user").waitFor(deadline);
  await page.getByRole("region", { name: "ref-c", exact: true }).getByText("succeeded").waitFor(deadline);
  await page.getByLabel("Status").filter({ hasText: "succeeded" }).waitFor(deadline);
  step("one agent of a running task is cancelled from its column, the other finishes");

  // A long task, cancelled as a whole from its page.
  await launch({ prompt: "take your time", agents: ["slow"], coordination: "Loose" });
  await page.getByRole("region", { name: "slow", exact: true }).getByText("running").waitFor(deadline);
  await page.getByRole("button", { name: "Cancel task", exact: true }).click();
  await page.getByLabel("Status").filter({ hasText: "cancelled" }).waitFor(deadline);
  step("a running task is cancelled from its page");

  // A crashing agent fails its task and raises an alert, acknowledged on the page.
  await launch({ prompt: "crash please", agents: ["crashy"], coordination: "Loose" });
  await page.getByLabel("Status").filter({ hasText: "failed" }).waitFor(deadline);
  await nav("Alerts").click();
  const alerts = page.getByRole("table", { name: "Alerts" });
  await alerts.getByText("crashy").first().waitFor(deadline);
  await shot("dashboard-alerts");
  await page.getByRole("button", { name: "Acknowledge all" }).click();
  await page.getByText("No alerts.").waitFor(deadline);
  if (aiswitch(["alerts", "list"]).alerts.length !== 0) throw new Error("the engine still has unacknowledged alerts");
  step("an alert from a crashing agent is acknowledged on the page");

  // History: search on the server.
  await nav("Tasks").click();
  await page.getByLabel("Search").fill("take your time");
  const history = page.getByRole("table", { name: "Tasks" });
  await history.getByRole("cell", { name: "cancelled" }).waitFor(deadline);
  await page.getByText("1–1 / 1").waitFor(deadline);
  step("the task history searches on the server");
  await page.getByLabel("Search").fill("");
  await page.getByText("1–4 / 4").waitFor(deadline);
  await shot("dashboard-tasks");

  // Usage: the page's totals are the ledger's.
  await nav("Usage").click();
  const summary = aiswitch(["tokens", "summary"]);
  const t = summary.total.tokens;
  const expected = (t.input + t.output + t.cache_read + t.cache_write).toLocaleString("en-US");
  await page.getByTestId("total-tokens").filter({ hasText: expected }).waitFor(deadline);
  step(`usage totals equal tokens summary (${expected} tokens)`);
  const budgetForm = page.getByRole("form", { name: "Set budget" });
  await budgetForm.getByLabel("Period").selectOption("day");
  await budgetForm.getByLabel("Limit (USD)").fill("5");
  await budgetForm.getByRole("checkbox", { name: "hard stop" }).check();
  await budgetForm.getByRole("button", { name: "Set budget" }).click();
  const budgets = page.getByRole("table", { name: "Budgets" });
  await budgets.getByRole("cell", { name: "global · hard stop" }).waitFor(deadline);
  const set = aiswitch(["budget", "list"]).budgets;
  if (set.length !== 1 || set[0].period !== "day" || set[0].limit.usd !== 5 || !set[0].hard_stop) throw new Error(`budget list: ${JSON.stringify(set)}`);
  await budgets.getByRole("button", { name: /Edit budget/ }).click();
  const editForm = page.getByRole("form", { name: /Edit budget/ });
  await editForm.getByLabel("Limit (USD)").fill("7.5");
  await editForm.getByRole("button", { name: "Save" }).click();
  await budgets.getByRole("cell", { name: /\$7\.50/ }).waitFor(deadline);
  const changed = aiswitch(["budget", "list"]).budgets;
  if (changed.length !== 1 || changed[0].id !== set[0].id || changed[0].limit.usd !== 7.5) throw new Error(`budget list after the edit: ${JSON.stringify(changed)}`);
  await page.getByRole("button", { name: "Import the agents' logs" }).click();
  await page.getByRole("status").filter({ hasText: "claude: 2 new entries" }).waitFor(deadline);
  const byAgent = aiswitch(["tokens", "summary", "--all", "--by", "agent"]).groups;
  const claude = byAgent.find((g) => g.key === "claude");
  if (!claude || claude.tokens.input !== 20) throw new Error(`the ledger after the import: ${JSON.stringify(byAgent)}`);
  step("claude logs imported from the page enter the ledger");
  await shot("dashboard-usage");
  await budgets.getByRole("button", { name: /Remove budget/ }).click();
  await page.getByText("No budgets yet").waitFor(deadline);
  if (aiswitch(["budget", "list"]).budgets.length !== 0) throw new Error("the budget is still there");
  step("a budget set, changed and removed on the page is the engine's");

  await nav("Overview").click();
  await page.getByRole("table", { name: "Recent tasks" }).getByRole("cell", { name: "succeeded" }).first().waitFor(deadline);
  await shot("dashboard-overview");

  // A new browser whose WebSocket never answers still sees the overview: the page
  // comes with the answers to its first calls, as current as the engine.
  const newest = aiswitch(["tasks", "list"]).tasks[0].id;
  const held = await browser.newPage({ viewport: { width: 1200, height: 820 }, locale: "en-US" });
  await held.routeWebSocket(/\/ws$/, () => {}); // opened, never answered
  await held.goto(url);
  await held.getByRole("table", { name: "Recent tasks" }).getByRole("link", { name: newest }).waitFor(deadline);
  await held.getByRole("table", { name: "Agents" }).getByRole("cell", { name: "aiswitch-agent", exact: true }).waitFor(deadline);
  await held.getByRole("status").filter({ hasText: "Connecting" }).waitFor(deadline);
  await held.close();
  step("the overview draws from the page's own first answers before its WebSocket answers");

  // Every page in dark, then in Chinese (screenshots for the README).
  const ready = { tasks: "table tbody tr", usage: "[data-testid=total-tokens]", alerts: "h2", overview: "table tbody tr", launch: "textarea", providers: "[data-testid=doctor-directories] tbody tr" };
  const pages = [
    ["overview", "Overview", "概览"],
    ["launch", "Launch", "启动任务"],
    ["tasks", "Tasks", "任务"],
    ["providers", "Providers", "服务商"],
    ["usage", "Usage", "用量"],
    ["alerts", "Alerts", "告警"],
  ];
  await page.emulateMedia({ colorScheme: "dark" });
  for (const [name, en] of pages) {
    await nav(en).click();
    await page.locator(ready[name]).first().waitFor(deadline);
    await shot(`dashboard-${name}-dark`);
  }
  // The finished isolated task (no link in the navigation: it is opened by address).
  const taskPage = async () => {
    await page.goto(finishedTask);
    await page.locator("pre.diff").first().waitFor(deadline);
  };
  await taskPage();
  await shot("dashboard-task-dark");
  await page.emulateMedia({ colorScheme: "light" });
  await page.getByRole("button", { name: "中文" }).click();
  await page.getByRole("link", { name: "概览" }).click();
  await page.getByRole("table", { name: "代理" }).waitFor(deadline);
  for (const [name, , zh] of pages) {
    await page.getByRole("navigation").getByRole("link", { name: zh, exact: true }).click();
    await page.locator(ready[name]).first().waitFor(deadline);
    await shot(`dashboard-${name}-zh`);
  }
  await taskPage();
  await shot("dashboard-task-zh");
  await page.getByRole("link", { name: "启动任务" }).click();
  await page.getByLabel("提示词").waitFor(deadline);
  step("the page speaks Chinese");
} catch (e) {
  console.error(`dashboard: FAILED: ${e.message}`);
  console.error((await page.locator("body").innerText().catch(() => "")).slice(0, 3000));
  await page.screenshot({ path: `${shots}/dashboard-failure.png` }).catch(() => {});
  await browser.close();
  process.exit(1);
}
await browser.close();
