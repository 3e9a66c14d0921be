// The dashboard inside the desktop app (WebKitGTK), driven over WebDriver as a person
// uses it: tauri-driver (with Debian's WebKitWebDriver) starts the real app, which
// attaches to the engine host; the page launches a task on the reference agent and
// its output arrives live. Run under Xvfb with a D-Bus session:
//   node ui/tests/app_webdriver.mjs TAURI_DRIVER APP WORKDIR SCREENSHOT
// Prints one line per step; exits 1 on the first failure with the page's text.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";

const [driverBin, app, workdir, screenshot] = process.argv.slice(2);
const port = 4444 + (process.pid % 1000);
const driver = spawn(driverBin, ["--port", String(port), "--native-port", String(port + 1000)], { stdio: ["ignore", "inherit", "inherit"] });
const base = `http://127.0.0.1:${port}`;
const step = (what) => console.log(`app: ${what}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function wd(method, path, body) {
  const res = await fetch(base + path, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value ?? json)}`);
  return json.value;
}

/** Polls `check` until it returns a value, or fails after `ms`. */
async function until(what, check, ms = 20000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(100);
  }
  throw new Error(`${what} did not happen within ${ms} ms${last ? `: ${last.message}` : ""}`);
}

let session;
const el = (xpath) => wd("POST", `/session/${session}/element`, { using: "xpath", value: xpath }).then((e) => Object.values(e)[0]);
const text = async (xpath) => wd("GET", `/session/${session}/element/${await el(xpath)}/text`);
const click = async (xpath) => wd("POST", `/session/${session}/element/${await el(xpath)}/click`, {});
const type = async (xpath, value) => wd("POST", `/session/${session}/element/${await el(xpath)}/value`, { text: value });
const body = () => text("//body");
const labelled = (label, control) => `//label[contains(normalize-space(.), '${label}')]//${control}`;

let failed = false;
try {
  await until("tauri-driver listening", () => fetch(`${base}/status`).then((r) => r.ok));
  session = (await wd("POST", "/session", { capabilities: { alwaysMatch: { "tauri:options": { application: app, args: ["--window"] } } } })).sessionId;
  step("the app started under WebDriver");
  await until("the overview lists the reference agent", async () => (await body()).includes("aiswitch-agent"));
  step("the dashboard in the app lists the installed reference agent");
  await click("//nav//a[normalize-space(.)='Launch']");
  await until("the launcher", () => el(labelled("Prompt", "textarea")));
  await type(labelled("Prompt", "textarea"), "hello from the app");
  await click(labelled("aiswitch-agent", "input[@type='checkbox']"));
  await click(labelled("Loose", "input[@type='radio']"));
  await type(labelled("Working directory", "input"), workdir);
  await click("//button[normalize-space(.)='Launch task']");
  await until("the agent's output", async () => (await body()).includes("echo: hello from the app"));
  await until("the task succeeded", async () => (await text("//*[@aria-label='Status']")) === "succeeded");
  step("a task launched in the app streams its output and succeeds");
  const png = await wd("GET", `/session/${session}/screenshot`);
  writeFileSync(screenshot, Buffer.from(png, "base64"));
} catch (e) {
  failed = true;
  console.error(`app: FAILED: ${e.message}`);
  if (session) console.error((await body().catch(() => "")).slice(0, 2000));
} finally {
  if (session) await wd("DELETE", `/session/${session}`).catch(() => {});
  driver.kill();
}
process.exit(failed ? 1 : 0);
