// Drives the dashboard as a person does, in real Chromium, against a real engine:
//   node ui/tests/dashboard.mjs URL WORKDIR SCREENSHOT_DIR AISWITCH
// URL is what `aiswitch dashboard` printed; AISWITCH is the CLI, used to change
// the engine from outside while the page is open (the page must follow by itself).
// Called by tests/dashboard.rs; prints one line per step, exits 1 on the first
// failure with what the page showed.
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";

const [url, workdir, shots, cli] = process.argv.slice(2);
const deadline = { timeout: 20000 };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--disable-dev-shm-usage"],
});
const page = await browser.newPage({ viewport: { width: 1200, height: 800 }, locale: "en-US" });
const step = (what) => console.log(`dashboard: ${what}`);
try {
  await page.goto(url);
  if (page.url().includes("token=")) throw new Error(`the token stayed in the address bar: ${page.url()}`);
  const agents = page.getByRole("table", { name: "Agents" });
  await agents.getByRole("cell", { name: "aiswitch-agent", exact: true }).waitFor(deadline);
  step("overview lists the installed reference agent");

  await page.getByRole("link", { name: "Launch" }).click();
  await page.getByRole("button", { name: "Launch task" }).click();
  await page.getByRole("alert").filter({ hasText: "Write a prompt." }).waitFor(deadline);
  step("launching without a prompt says what is missing");
  await page.getByLabel("Prompt").fill("say hello to the dashboard");
  await page.getByRole("checkbox", { name: "aiswitch-agent" }).check();
  await page.getByRole("radio", { name: "Loose" }).check();
  await page.getByLabel("Working directory").fill(workdir);
  await page.screenshot({ path: `${shots}/dashboard-launch.png` });
  await page.getByRole("button", { name: "Launch task" }).click();
  await page.waitForURL(/#\/task\//, deadline);
  const column = page.getByRole("region", { name: "aiswitch-agent" });
  await column.getByText("echo: say hello to the dashboard").waitFor(deadline);
  await page.getByLabel("Status").filter({ hasText: "succeeded" }).waitFor(deadline);
  step("the task page streams the agent's output and shows it succeeded");
  await page.screenshot({ path: `${shots}/dashboard-task.png` });

  await page.getByRole("link", { name: "Overview" }).click();
  await page.getByRole("table", { name: "Recent tasks" }).getByRole("cell", { name: "succeeded" }).first().waitFor(deadline);
  step("the overview lists the task");
  await page.screenshot({ path: `${shots}/dashboard-overview.png` });

  await page.getByRole("link", { name: "Providers" }).click();
  execFileSync(cli, ["add", "added-from-a-terminal", "--kind", "anthropic", "--base-url", "https://api.example.com/anthropic", "--api-key", "-"], { input: "sk-ant-terminal-secret-0123456789" });
  const presets = page.getByRole("table", { name: "Presets" });
  await presets.getByRole("cell", { name: "added-from-a-terminal" }).waitFor(deadline);
  const shown = await presets.innerText();
  if (shown.includes("sk-ant-terminal-secret-0123456789")) throw new Error("the page shows an API key");
  step("a preset added in a terminal appears without a reload, its key redacted");
  await page.getByLabel("Switch to aiswitch-agent").selectOption("added-from-a-terminal");
  await page.getByRole("status").filter({ hasText: "aiswitch-agent: switched → added-from-a-terminal" }).waitFor(deadline);
  await page.getByRole("table", { name: "Providers" }).getByRole("row", { name: /aiswitch-agent added-from-a-terminal/ }).waitFor(deadline);
  step("switching a provider from the page switches it (verified)");
  await page.screenshot({ path: `${shots}/dashboard-providers.png` });

  await page.getByRole("button", { name: "中文" }).click();
  await page.getByRole("link", { name: "概览" }).click();
  await page.getByRole("table", { name: "代理" }).waitFor(deadline);
  step("the page speaks Chinese");
  await page.screenshot({ path: `${shots}/dashboard-zh.png` });
} catch (e) {
  console.error(`dashboard: FAILED: ${e.message}`);
  console.error((await page.locator("body").innerText().catch(() => "")).slice(0, 2000));
  await page.screenshot({ path: `${shots}/dashboard-failure.png` }).catch(() => {});
  await browser.close();
  process.exit(1);
}
await browser.close();
