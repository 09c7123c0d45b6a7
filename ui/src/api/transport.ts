// Two transports behind one interface: Tauri IPC inside the window, the
// loopback websocket bridge in a browser (`catalyst-provisioner --serve`).
import { Channel, invoke } from "@tauri-apps/api/core";
import type { ApiError, BridgeRequest, ErrorCode, JsonValue, ProvisionEvent, ServerMessage } from "./bindings";

export type EventName = "provision";
export type EventHandler = (event: ProvisionEvent) => void;

export interface Transport {
  readonly kind: "tauri" | "bridge";
  call(cmd: string, args: JsonValue | undefined): Promise<unknown>;
  listen(name: EventName, handler: EventHandler): () => void;
}

/** Turns anything thrown by a transport into the engine's error shape. */
export function toApiError(e: unknown): ApiError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    const o = e as { code: unknown; message: unknown; field?: unknown };
    return {
      // The engine only sends codes of its closed set (ErrorCode).
      code: String(o.code) as ErrorCode,
      message: String(o.message),
      field: typeof o.field === "string" ? o.field : null,
    };
  }
  return { code: "transport", message: e instanceof Error ? e.message : String(e), field: null };
}

export function insideTauri(w: Window = window): boolean {
  return "__TAURI_INTERNALS__" in w;
}

export class TauriTransport implements Transport {
  readonly kind = "tauri" as const;

  async call(cmd: string, args: JsonValue | undefined): Promise<unknown> {
    try {
      return await invoke("api", { call: args === undefined ? { cmd } : { cmd, args } });
    } catch (e) {
      throw toApiError(e);
    }
  }

  private handlers = new Set<EventHandler>();
  private subscribed: Promise<void> | null = null;

  // Engine events come through one IPC channel per page (`events_subscribe`),
  // in batches: cheaper for the web process than one Tauri event per line.
  listen(_name: EventName, handler: EventHandler): () => void {
    this.handlers.add(handler);
    if (!this.subscribed) {
      const channel = new Channel<ProvisionEvent[]>();
      channel.onmessage = (batch) => {
        for (const ev of batch) for (const h of this.handlers) h(ev);
      };
      // A refused subscription is tried again by the next listener; the page
      // still catches up from the event log (it fills gaps in seq).
      this.subscribed = invoke<void>("events_subscribe", { channel }).catch(() => {
        this.subscribed = null;
      });
    }
    return () => {
      this.handlers.delete(handler);
    };
  }
}

/** Reads the per-launch token from `#token=…` (kept for reloads in sessionStorage). */
export function bridgeToken(loc: Location = window.location, store: Storage = window.sessionStorage): string {
  const m = /(?:^#|&)token=([0-9a-f]+)/.exec(loc.hash);
  if (m?.[1]) {
    store.setItem("catalyst.bridgeToken", m[1]);
    return m[1];
  }
  return store.getItem("catalyst.bridgeToken") ?? "";
}

type Pending = { resolve: (v: unknown) => void; reject: (e: ApiError) => void };

export class BridgeTransport implements Transport {
  readonly kind = "bridge" as const;
  private ws: WebSocket | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private queue: string[] = [];
  private handlers = new Map<EventName, Set<EventHandler>>();
  private retryMs = 250;

  constructor(
    private readonly url: string,
    private readonly makeSocket: (url: string) => WebSocket = (u) => new WebSocket(u),
  ) {}

  private connect(): WebSocket {
    if (this.ws && this.ws.readyState <= 1) return this.ws;
    const ws = this.makeSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 250;
      for (const m of this.queue.splice(0)) ws.send(m);
    };
    ws.onmessage = (ev) => this.onMessage(String(ev.data));
    ws.onclose = () => {
      // Calls in flight cannot be answered any more; say so instead of hanging.
      for (const [, p] of this.pending) {
        p.reject({ code: "bridge_closed", message: "The connection to the app was lost. Retrying…", field: null });
      }
      this.pending.clear();
      if (this.handlers.size > 0 || this.queue.length > 0) {
        setTimeout(() => this.connect(), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 5000);
      }
    };
    return ws;
  }

  private onMessage(text: string) {
    let msg: ServerMessage;
    try {
      msg = JSON.parse(text) as ServerMessage;
    } catch {
      return;
    }
    if (msg.type === "reply") {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(msg.error);
      else p.resolve(msg.result);
    } else if (msg.type === "event") {
      for (const h of this.handlers.get(msg.name as EventName) ?? []) h(msg.payload);
    }
  }

  call(cmd: string, args: JsonValue | undefined): Promise<unknown> {
    const id = this.nextId++;
    const req: BridgeRequest = { id, call: args === undefined ? { cmd: cmd as never } : { cmd: cmd as never, args } };
    const text = JSON.stringify(req);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const ws = this.connect();
      if (ws.readyState === 1) ws.send(text);
      else this.queue.push(text);
    });
  }

  listen(name: EventName, handler: EventHandler): () => void {
    const set = this.handlers.get(name) ?? new Set();
    set.add(handler);
    this.handlers.set(name, set);
    this.connect();
    return () => {
      set.delete(handler);
      if (set.size === 0) this.handlers.delete(name);
    };
  }
}

export function defaultTransport(): Transport {
  if (insideTauri()) return new TauriTransport();
  const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
  return new BridgeTransport(`${proto}//${window.location.host}/ws?token=${bridgeToken()}`);
}
