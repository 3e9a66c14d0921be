// The one seam between the UI and the engine: the control API (JSON-RPC methods, the
// same ones the CLI and the tray use, docs/control-api.md) and its event stream.
// In the desktop app it goes through Tauri commands and events; in a browser through
// the WebSocket `aiswitch dashboard` serves.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";

/** An engine event as the control API sends it (`event` plus its fields). */
export interface EngineEvent {
  id?: number;
  at_ms: number;
  event: string;
  [field: string]: unknown;
}

/** A control-API error: its code and the one line to show. */
export class EngineError extends Error {
  constructor(
    public code: number,
    message: string,
  ) {
    super(message);
  }
}

export type Connection = "connecting" | "connected" | "disconnected";

export interface Transport {
  call<T = any>(method: string, params?: unknown): Promise<T>;
  /** Every event from now on (after a reconnect, the missed stored ones first). */
  onEvent(handler: (event: EngineEvent) => void): void;
  onConnection(handler: (state: Connection, why?: string) => void): void;
}

export function inTauri(): boolean {
  return "__TAURI_INTERNALS__" in window;
}

class TauriTransport implements Transport {
  async call<T>(method: string, params?: unknown): Promise<T> {
    try {
      return await invoke<T>("control", { method, params: params ?? null });
    } catch (e) {
      const err = e as { code?: number; message?: string };
      throw new EngineError(err.code ?? -1, err.message ?? String(e));
    }
  }
  onEvent(handler: (event: EngineEvent) => void): void {
    // Gathered by the app for a few milliseconds (src-tauri/src/events.rs), in order.
    void listen<EngineEvent[]>("engine-events", (e) => {
      for (const event of e.payload) handler(event);
    });
  }
  onConnection(handler: (state: Connection) => void): void {
    handler("connected");
  }
}

interface FirstAnswer {
  method: string;
  params: unknown;
  result: unknown;
}

/** The answers to the overview's first calls that `aiswitch dashboard` puts in the
 *  page (src/dashboard/first_page.rs), current at event `after`: the page draws from
 *  them before its WebSocket is open, each used once for the same call. */
function firstAnswers(): { after: number; answers: FirstAnswer[] } | null {
  const block = document.getElementById("first-answers");
  if (!block?.textContent) return null;
  try {
    return JSON.parse(block.textContent);
  } catch {
    return null;
  }
}

class SocketTransport implements Transport {
  private socket: WebSocket | null = null;
  private nextId = 1;
  private waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private eventHandlers: ((event: EngineEvent) => void)[] = [];
  private connectionHandlers: ((state: Connection, why?: string) => void)[] = [];
  private lastEventId: number | null = null;
  private ready: Promise<void> | null = null;
  private retryMs = 250;
  /** Answers the server sent with the page (see `firstAnswers`), until connected. */
  private first: FirstAnswer[] = [];

  constructor() {
    const served = firstAnswers();
    if (served) {
      this.first = served.answers;
      this.lastEventId = served.after; // the events since they were taken come first
    }
  }

  private url(): string {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws`;
  }

  private connect(): Promise<void> {
    if (this.ready) return this.ready;
    this.setConnection("connecting");
    this.ready = new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url());
      this.socket = socket;
      socket.onopen = async () => {
        this.retryMs = 250;
        try {
          const since = this.lastEventId;
          await this.send("event.subscribe", since === null ? undefined : { since });
          this.first = []; // from here on, the events keep the page current
          this.setConnection("connected");
          resolve();
        } catch (e) {
          reject(e as Error);
        }
      };
      socket.onmessage = (message) => this.receive(String(message.data));
      socket.onclose = (closed) => {
        this.socket = null;
        this.ready = null;
        for (const { reject: fail } of this.waiting.values()) {
          fail(new EngineError(-1, closed.reason || "the connection to aiswitch closed"));
        }
        this.waiting.clear();
        reject(new EngineError(-1, closed.reason || "cannot reach aiswitch"));
        this.setConnection("disconnected", closed.reason);
        setTimeout(() => void this.connect().catch(() => {}), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 5000);
      };
    });
    return this.ready;
  }

  private setConnection(state: Connection, why?: string) {
    for (const h of this.connectionHandlers) h(state, why);
  }

  private receive(text: string) {
    let message: any;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    // Events come gathered as a JSON-RPC batch while they stream.
    for (const one of Array.isArray(message) ? message : [message]) this.handle(one);
  }

  private handle(message: any) {
    if (!message) return;
    if (message.method === "event" && message.params) {
      const event = message.params as EngineEvent;
      if (typeof event.id === "number") {
        if (this.lastEventId !== null && event.id <= this.lastEventId) return; // a repeat
        this.lastEventId = event.id;
      }
      if (event.event === "subscribed") {
        const after = (event as { after?: number }).after;
        if (typeof after === "number" && this.lastEventId === null) this.lastEventId = after;
      }
      for (const h of this.eventHandlers) h(event);
      return;
    }
    const waiter = this.waiting.get(message.id);
    if (!waiter) return;
    this.waiting.delete(message.id);
    if (message.error) waiter.reject(new EngineError(message.error.code, message.error.message));
    else waiter.resolve(message.result);
  }

  private send<T>(method: string, params?: unknown): Promise<T> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new EngineError(-1, "not connected to aiswitch"));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      socket.send(JSON.stringify({ jsonrpc: "2.0", id, method, params: params ?? null }));
    });
  }

  async call<T>(method: string, params?: unknown): Promise<T> {
    const asked = JSON.stringify(params ?? null);
    const served = this.first.findIndex((a) => a.method === method && JSON.stringify(a.params) === asked);
    if (served >= 0) return this.first.splice(served, 1)[0].result as T;
    await this.connect();
    return this.send<T>(method, params);
  }

  onEvent(handler: (event: EngineEvent) => void): void {
    this.eventHandlers.push(handler);
    void this.connect().catch(() => {});
  }

  onConnection(handler: (state: Connection, why?: string) => void): void {
    this.connectionHandlers.push(handler);
  }
}

export const transport: Transport = inTauri() ? new TauriTransport() : new SocketTransport();
