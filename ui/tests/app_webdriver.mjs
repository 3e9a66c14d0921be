// The dashboard inside the desktop app (WebKitGTK), driven over WebDriver as a person
// uses it: tauri-driver (with Debian's WebKitWebDriver) starts the real app, which
// attaches to the engine host; the page launches a task on the reference agent and
// its output arrives live. Run under Xvfb with a D-Bus session:
//   node ui/tests/app_webdriver.mjs TAURI_DRIVER APP WORKDIR SCREENSHOT
// Prints one line per step; exits 1 on the first failure with the page's text.
import { writeFileSync } from "node:fs";
import { labelled, openApp, until } from "./webdriver.mjs";

const [driverBin, app, workdir, screenshot] = process.argv.slice(2);
const step = (what) => console.log(`app: ${what}`);

let failed = false;
let page;
try {
  page = await openApp(driverBin, app, ["--window"]);
  step("the app started under WebDriver");
  await until("the overview lists the reference agent", async () => (await page.body()).includes("aiswitch-agent"));
  step("the dashboard in the app lists the installed reference agent");
  await page.click("//nav//a[normalize-space(.)='Launch']");
  await until("the launcher", () => page.el(labelled("Prompt", "textarea")));
  await page.fill(labelled("Prompt", "textarea"), "hello from the app");
  await page.click(labelled("aiswitch-agent", "input[@type='checkbox']"));
  await page.click(labelled("Loose", "input[@type='radio']"));
  await page.fill(labelled("Working directory", "input"), workdir);
  await page.click("//button[normalize-space(.)='Launch task']");
  await until("the agent's output", async () => (await page.body()).includes("echo: hello from the app"));
  await until("the task succeeded", async () => (await page.text("//*[@aria-label='Status']")) === "succeeded");
  step("a task launched in the app streams its output and succeeds");
  writeFileSync(screenshot, await page.screenshot());
} catch (e) {
  failed = true;
  console.error(`app: FAILED: ${e.message}`);
  if (page) console.error((await page.body().catch(() => "")).slice(0, 2000));
} finally {
  await page?.close();
}
process.exit(failed ? 1 : 0);
