// The dashboard's benchmark (scripts/bench-dashboard.sh sets up the engine):
//   node ui/tests/bench.mjs URL WORKDIR
// 1. Page load to interactive, 10 times: from navigation to the overview showing its
//    recent tasks and today's tokens, and to the usage page's chart.
// 2. Live output: a task on three agents streaming 1,000 lines/s each (every line
//    stamped with the time the agent wrote it); on every animation frame the page's
//    last line per agent is read and its age taken. Prints one JSON object.
import { chromium } from "playwright-core";

const [url, workdir] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--disable-dev-shm-usage", "--enable-precise-memory-info"],
});
const ms = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.round(q * (xs.length - 1)))];

const overview = [];
const reload = [];
const usage = [];
const interactive = async (page) => {
  await page.locator('table[aria-label="Recent tasks"] tbody tr').first().waitFor({ timeout: 30000 });
  await page.locator(".totals strong").first().filter({ hasNotText: /^0$/ }).waitFor({ timeout: 30000 });
};
for (let i = 0; i < 10; i++) {
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
await page.goto(url.split("?")[0] === url ? url : url);
await page.getByRole("navigation").getByRole("link", { name: "Launch" }).click();
await page.getByLabel("Prompt").fill("stream");
for (const agent of ["s1", "s2", "s3"]) await page.getByRole("checkbox", { name: agent, exact: true }).check();
await page.getByRole("radio", { name: "Loose" }).check();
await page.getByLabel("Working directory").fill(workdir);
await page.getByRole("button", { name: "Launch task" }).click();
await page.waitForURL(/#\/task\//);
const live = await page.evaluate(
  () =>
    new Promise((resolve) => {
      const ages = [];
      const started = Date.now();
      const tick = () => {
        const columns = [...document.querySelectorAll("section.card")];
        let finished = 0;
        for (const column of columns) {
          const text = column.querySelector("pre.output")?.textContent ?? "";
          const last = text.trimEnd().split("\n").pop() ?? "";
          const m = /^line (\d+) at (\d+)$/.exec(last);
          if (m) ages.push(Date.now() - Number(m[2]));
          if (text.includes("line 19999 at")) finished++;
        }
        if (finished === 3 || Date.now() - started > 120000) {
          resolve({ ages, seconds: (Date.now() - started) / 1000, finished, heap: performance.memory?.usedJSHeapSize ?? null });
        } else {
          requestAnimationFrame(tick);
        }
      };
      requestAnimationFrame(tick);
    }),
);
await browser.close();
console.log(
  JSON.stringify({
    first_load_ms: { p50: ms(overview, 0.5), max: Math.max(...overview) },
    reload_ms: { p50: ms(reload, 0.5), max: Math.max(...reload) },
    usage_ms: { p50: ms(usage, 0.5), max: Math.max(...usage) },
    live: {
      agents_finished: live.finished,
      seconds: live.seconds,
      samples: live.ages.length,
      age_ms: { p50: ms(live.ages, 0.5), p99: ms(live.ages, 0.99), max: Math.max(...live.ages) },
      page_heap_mib: live.heap && +(live.heap / 1048576).toFixed(1),
    },
  }),
);
