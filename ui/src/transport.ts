// The one seam between the UI and the engine. In the desktop app it is Tauri's
// `invoke`; a later issue adds the browser transport (WebSocket to the daemon).
import { invoke } from "@tauri-apps/api/core";

/** A preset as the engine lists it: secrets are already redacted. */
export interface PresetSummary {
  name: string;
  kind: string;
  base_url: string | null;
  model: string | null;
  description: string | null;
  tags: string[];
  current: boolean;
}

/** What the desktop app reports about the engine. */
export interface Status {
  version: string;
  presets: PresetSummary[];
  current: string | null;
  problems: string[];
}

export function inTauri(): boolean {
  return "__TAURI_INTERNALS__" in window;
}

export async function fetchStatus(): Promise<Status> {
  return invoke<Status>("status");
}

/** Tells the app the dashboard rendered (the app's smoke test waits for this). */
export async function reportReady(presets: number): Promise<void> {
  await invoke("ui_ready", { presets });
}
