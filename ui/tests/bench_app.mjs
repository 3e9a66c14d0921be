// The live part of the dashboard's benchmark inside the desktop app's window
// (WebKitGTK, over WebDriver): a task on three agents streaming 1,000 lines/s each,
// the age of each column's newest line sampled on every animation frame, as
// ui/tests/bench.mjs does in Chromium. scripts/bench-dashboard.sh runs it with
// WHERE=app under Xvfb:
//   node ui/tests/bench_app.mjs TAURI_DRIVER APP WORKDIR
// Prints one JSON object.
import { quantile, startSampling, takeSamples } from "./sampler.mjs";
import { labelled, openApp, sleep, until } from "./webdriver.mjs";

const [driverBin, app, workdir] = process.argv.slice(2);
const lastLine = `line ${20000 - 1} at`;
const inPage = (fn) => `return (${fn})(...arguments);`;

const page = await openApp(driverBin, app, ["--window"]);
try {
  await until("the overview lists the agents", async () => (await page.body()).includes("s3"), 30000);
  await page.click("//nav//a[normalize-space(.)='Launch']");
  await until("the launcher", () => page.el(labelled("Prompt", "textarea")));
  await page.fill(labelled("Prompt", "textarea"), "stream");
  for (const agent of ["s1", "s2", "s3"]) await page.click(`//label[normalize-space(.)='${agent}']//input`);
  await page.click(labelled("Loose", "input[@type='radio']"));
  await page.fill(labelled("Working directory", "input"), workdir);
  await page.click("//button[normalize-space(.)='Launch task']");
  await until("the task page", async () => (await page.run("return location.hash")).startsWith("#/task/"));
  await page.run(inPage(startSampling), [lastLine]);
  const started = Date.now();
  const ages = [];
  let finished = 0;
  while (finished < 3 && Date.now() < started + 120000) {
    await sleep(500); // the sampling period, not a synchronisation
    const s = await page.run(inPage(takeSamples));
    ages.push(...s.ages);
    finished = s.finished;
  }
  console.log(
    JSON.stringify({
      live_in_app: {
        agents_finished: finished,
        seconds: (Date.now() - started) / 1000,
        samples: ages.length,
        age_ms: { p50: quantile(ages, 0.5), p99: quantile(ages, 0.99), max: ages.reduce((a, b) => Math.max(a, b), 0) },
      },
    }),
  );
} catch (e) {
  console.error((await page.body().catch(() => "")).slice(0, 2000));
  throw e;
} finally {
  await page.close();
}
