// The dashboard's benchmark (scripts/bench-dashboard.sh sets up the engine):
//   node ui/tests/bench.mjs URL WORKDIR
// 1. Page load to interactive, 10 times: from navigation to the overview showing its
//    recent tasks and today's tokens, and to the usage page's chart.
// 2. Live output: a task on three agents streaming 1,000 lines/s each (every line
//    stamped with the time the agent wrote it); on every animation frame the page's
//    last line per agent is read and its age taken. Prints one JSON object.
// With SOAK_SECS the stream lasts that long and memory is sampled every minute; LOADS=0
// skips the page loads (the live part alone).
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { quantile, startSampling, takeSamples } from "./sampler.mjs";

const [url, workdir] = process.argv.slice(2);
const soak = Number(process.env.SOAK_SECS ?? 0);
const lastLine = `line ${(soak > 0 ? soak * 1000 : 20000) - 1} at`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--disable-dev-shm-usage", "--enable-precise-memory-info", "--js-flags=--expose-gc"],
});

const overview = [];
const reload = [];
const usage = [];
const interactive = async (page) => {
  await page.locator('table[aria-label="Recent tasks"] tbody tr').first().waitFor({ timeout: 30000 });
  await page.locator(".totals strong").first().filter({ hasNotText: /^0$/ }).waitFor({ timeout: 30000 });
};
const loads = soak > 0 ? 0 : Number(process.env.LOADS ?? 10);
for (let i = 0; i < loads; i++) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 820 } });
  const page = await context.newPage();
  let start = Date.now();
  await page.goto(url);
  await interactive(page);
  overview.push(Date.now() - start);
  start = Date.now();
  await page.reload();
  await interactive(page);
  reload.push(Date.now() - start);
  start = Date.now();
  await page.goto(url.split("?")[0] + "#/usage");
  await page.locator("svg.chart rect").first().waitFor({ timeout: 30000 });
  usage.push(Date.now() - start);
  await context.close();
}

const page = await browser.newPage({ viewport: { width: 1200, height: 820 } });
await page.goto(url);
await page.getByRole("navigation").getByRole("link", { name: "Launch" }).click();
await page.getByLabel("Prompt").fill("stream");
for (const agent of ["s1", "s2", "s3"]) await page.getByRole("checkbox", { name: agent, exact: true }).check();
await page.getByRole("radio", { name: "Loose" }).check();
await page.getByLabel("Working directory").fill(workdir);
if (soak > 0) await page.getByLabel(/Timeout/).fill(String(soak + 600));
await page.getByRole("button", { name: "Launch task" }).click();
await page.waitForURL(/#\/task\//);
await page.evaluate(startSampling, lastLine);
const rssMib = (pid) => {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1];
    return +(kb / 1024).toFixed(1);
  } catch {
    return null;
  }
};
const take = () => page.evaluate(takeSamples);
// Where the page's main thread goes while it streams (Chrome's own counters).
const cdp = await page.context().newCDPSession(page);
await cdp.send("Performance.enable");
const counters = async () =>
  Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
const before = await counters();
const started = Date.now();
const ages = [];
const samples = [];
let finished = 0;
let heap = null;
const deadline = started + (soak > 0 ? soak + 120 : 120) * 1000;
while (finished < 3 && Date.now() < deadline) {
  await page.waitForTimeout(soak > 0 ? 60000 : 500); // the sampling period, not a synchronisation
  const s = await take();
  ages.push(...s.ages);
  finished = s.finished;
  heap = s.heap;
  if (soak > 0) {
    const sample = {
      minute: Math.round((Date.now() - started) / 60000),
      page_heap_mib: heap && +(heap / 1048576).toFixed(1),
      dashboard_rss_mib: rssMib(process.env.DASHBOARD_PID),
      daemon_rss_mib: rssMib(process.env.DAEMON_PID),
      age_p50_ms: quantile(s.ages, 0.5),
      age_p99_ms: quantile(s.ages, 0.99),
    };
    samples.push(sample);
    console.error(JSON.stringify(sample));
  }
}
const after = await counters();
const perSecond = (name) => +(((after[name] - before[name]) * 1000) / ((Date.now() - started) / 1000)).toFixed(1);
const mainThread = {
  task: perSecond("TaskDuration"),
  script: perSecond("ScriptDuration"),
  layout: perSecond("LayoutDuration"),
  style: perSecond("RecalcStyleDuration"),
};
await browser.close();
console.log(
  JSON.stringify({
    ...(soak > 0
      ? { soak_samples: samples }
      : {
          first_load_ms: { p50: quantile(overview, 0.5), max: Math.max(...overview) },
          reload_ms: { p50: quantile(reload, 0.5), max: Math.max(...reload) },
          usage_ms: { p50: quantile(usage, 0.5), max: Math.max(...usage) },
        }),
    live: {
      agents_finished: finished,
      seconds: (Date.now() - started) / 1000,
      samples: ages.length,
      age_ms: { p50: quantile(ages, 0.5), p99: quantile(ages, 0.99), max: ages.reduce((a, b) => Math.max(a, b), 0) },
      page_heap_mib: heap && +(heap / 1048576).toFixed(1),
      main_thread_ms_per_s: mainThread,
    },
  }),
);
