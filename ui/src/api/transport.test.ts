import { describe, expect, it, vi } from "vitest";
import { BridgeTransport, bridgeToken, toApiError } from "./transport";

/** Stands in for the browser WebSocket: records what is sent, lets the test answer. */
class FakeSocket {
  static last: FakeSocket | null = null;
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.last = this;
  }
  send(t: string) {
    this.sent.push(t);
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  reply(obj: unknown) {
    this.onmessage?.({ data: JSON.stringify(obj) });
  }
  close() {
    this.readyState = 3;
    this.onclose?.();
  }
}

const make = () => new BridgeTransport("ws://127.0.0.1:1/ws?token=ab", (u) => new FakeSocket(u) as unknown as WebSocket);

describe("BridgeTransport", () => {
  it("queues calls until the socket opens, then matches replies by id", async () => {
    const t = make();
    const p1 = t.call("app_info", undefined);
    const p2 = t.call("wizard_validate", { step: "organisation", answers: {} });
    const s = FakeSocket.last!;
    expect(s.url).toBe("ws://127.0.0.1:1/ws?token=ab");
    expect(s.sent).toHaveLength(0);
    s.open();
    const reqs = s.sent.map((x) => JSON.parse(x));
    expect(reqs[0]).toEqual({ id: 1, call: { cmd: "app_info" } });
    expect(reqs[1].call.args.step).toBe("organisation");
    s.reply({ type: "reply", id: 2, result: [], error: null });
    s.reply({ type: "reply", id: 1, result: { mode: "demo" }, error: null });
    await expect(p1).resolves.toEqual({ mode: "demo" });
    await expect(p2).resolves.toEqual([]);
  });

  it("rejects with the engine's error and on a lost connection", async () => {
    const t = make();
    const p = t.call("draft_load", undefined);
    const s = FakeSocket.last!;
    s.open();
    s.reply({ type: "reply", id: 1, result: null, error: { code: "draft_unreadable", message: "bad draft", field: null } });
    await expect(p).rejects.toMatchObject({ code: "draft_unreadable", message: "bad draft" });
    const lost = t.call("app_info", undefined);
    s.close();
    await expect(lost).rejects.toMatchObject({ code: "bridge_closed" });
  });

  it("delivers events to listeners until they unsubscribe", () => {
    const t = make();
    const seen: number[] = [];
    const off = t.listen("provision", (e) => seen.push(Number(e.seq)));
    const s = FakeSocket.last!;
    s.open();
    const ev = (seq: number) => ({ type: "event", name: "provision", payload: { deployment_id: "d", seq, at: "", phase: "preflight", kind: { type: "phase_started" } } });
    s.reply(ev(1));
    s.reply(ev(2));
    off();
    s.reply(ev(3));
    expect(seen).toEqual([1, 2]);
  });

  it("ignores frames it cannot read", () => {
    const t = make();
    const handler = vi.fn();
    t.listen("provision", handler);
    FakeSocket.last!.open();
    FakeSocket.last!.onmessage?.({ data: "not json" });
    expect(handler).not.toHaveBeenCalled();
  });
});

describe("bridgeToken", () => {
  it("reads the token from the fragment and keeps it for reloads", () => {
    const mem = () => {
      const store = new Map<string, string>();
      return { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) } as Storage;
    };
    const storage = mem();
    expect(bridgeToken({ hash: "#token=0a1b2c" } as Location, storage)).toBe("0a1b2c");
    expect(bridgeToken({ hash: "" } as Location, storage)).toBe("0a1b2c");
    expect(bridgeToken({ hash: "#token=<script>" } as Location, mem())).toBe("");
  });
});

describe("toApiError", () => {
  it("keeps engine errors and wraps anything else", () => {
    expect(toApiError({ code: "x", message: "y", field: "f" })).toEqual({ code: "x", message: "y", field: "f" });
    expect(toApiError(new Error("boom"))).toEqual({ code: "transport", message: "boom", field: null });
    expect(toApiError("plain")).toMatchObject({ message: "plain" });
  });
});
