// A small WebDriver client for the desktop app's webview: tauri-driver (with Debian's
// WebKitWebDriver) starts the real app and answers the W3C WebDriver protocol. Plain
// WebDriver has no role locators, so controls are found by their label's text (XPath).
import { spawn } from "node:child_process";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value, or fails after `ms`. */
export async function until(what, check, ms = 20000) {
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

/** XPath of the `control` inside the label that reads `label`. */
export const labelled = (label, control) => `//label[contains(normalize-space(.), '${label}')]//${control}`;

/** Starts tauri-driver and a session running `app` with `args`; `close()` ends both. */
export async function openApp(driverBin, app, args) {
  const port = 4444 + (process.pid % 1000);
  const driver = spawn(driverBin, ["--port", String(port), "--native-port", String(port + 1000)], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  const wd = async (method, path, body) => {
    const res = await fetch(base + path, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value ?? json)}`);
    return json.value;
  };
  let session;
  try {
    await until("tauri-driver listening", () => fetch(`${base}/status`).then((r) => r.ok));
    const capabilities = { alwaysMatch: { "tauri:options": { application: app, args } } };
    session = (await wd("POST", "/session", { capabilities })).sessionId;
  } catch (e) {
    driver.kill();
    throw e;
  }
  const s = `/session/${session}`;
  const el = (xpath) => wd("POST", `${s}/element`, { using: "xpath", value: xpath }).then((e) => Object.values(e)[0]);
  const text = async (xpath) => wd("GET", `${s}/element/${await el(xpath)}/text`);
  return {
    el,
    text,
    click: async (xpath) => wd("POST", `${s}/element/${await el(xpath)}/click`, {}),
    /** Replaces the control's value with `value` (a remembered one is cleared first). */
    fill: async (xpath, value) => {
      const id = await el(xpath);
      await wd("POST", `${s}/element/${id}/clear`, {});
      await wd("POST", `${s}/element/${id}/value`, { text: value });
    },
    body: () => text("//body"),
    /** Runs `script` (a function body) in the page with `args`; returns its value. */
    run: (script, args = []) => wd("POST", `${s}/execute/sync`, { script, args }),
    screenshot: async () => Buffer.from(await wd("GET", `${s}/screenshot`), "base64"),
    close: async () => {
      await wd("DELETE", s).catch(() => {});
      driver.kill();
    },
  };
}
