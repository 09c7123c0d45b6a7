import { describe, expect, it } from "vitest";
import { appendLines, CHUNK, emptyLog, FilteredLog, toArray, type LogLine } from "./logList";

const LV: LogLine["level"][] = ["debug", "info", "warn", "error"];
const line = (seq: number): LogLine => ({
  seq,
  at: `2026-11-23T05:00:${String(seq % 60).padStart(2, "0")}.${seq}Z`,
  level: LV[seq % 4] as LogLine["level"],
  source: seq % 5 === 0 ? "flux" : `src-${seq % 3}`,
  line: seq % 7 === 0 ? `Ünïcode ✓ line ${seq}` : `Line ${seq}${seq % 11 === 0 ? "" : " text"}`,
});
const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => line(from + i));

describe("LogList", () => {
  it("packs full chunks and gives every line back exactly, old versions unchanged", () => {
    const a = appendLines(emptyLog, lines(1, CHUNK + 10));
    const b = appendLines(a, lines(CHUNK + 11, 2 * CHUNK));
    expect(b.length).toBe(3 * CHUNK + 10);
    expect(toArray(b)).toEqual(lines(1, 3 * CHUNK + 10));
    expect(b.chunks[0]).toBe(a.chunks[0]); // shared, not copied
    expect(b.chunks).toHaveLength(3);
    expect(toArray(a)).toEqual(lines(1, CHUNK + 10));
    expect(appendLines(b, [])).toBe(b);
    // An empty line and an empty source survive packing.
    const odd = { seq: 1, at: "", level: "warn" as const, source: "", line: "" };
    expect(toArray(appendLines(emptyLog, Array(CHUNK).fill(odd)))[CHUNK - 1]).toEqual(odd);
  });

  it("a filtered view slices like the flat filtered array", () => {
    const f = new FilteredLog();
    const list = appendLines(emptyLog, lines(1, 2500));
    for (const filter of [
      { minLevel: "info" as const, query: "" },
      { minLevel: "debug" as const, query: "ünïcode" },
      { minLevel: "warn" as const, query: "flux" },
      { minLevel: "error" as const, query: "nothing matches" },
    ]) {
      const flat = toArray(list).filter(
        (l) => LV.indexOf(l.level) >= LV.indexOf(filter.minLevel) && (!filter.query || l.line.toLowerCase().includes(filter.query) || l.source.includes(filter.query)),
      );
      const v = f.view(list, filter);
      expect(v.length).toBe(flat.length);
      expect(v.all()).toEqual(flat);
      for (const [from, to] of [
        [0, 5],
        [300, 700],
        [flat.length - 3, flat.length + 10],
        [-5, 2],
      ] as const)
        expect(v.slice(from, to)).toEqual(flat.slice(Math.max(0, from), Math.max(0, to)));
    }
  });

  it("after an append only the tail is filtered again", () => {
    const f = new FilteredLog();
    const list = appendLines(emptyLog, lines(1, 2 * CHUNK + 5));
    const first = f.view(list, { minLevel: "info", query: "line" });
    const more = appendLines(list, lines(2 * CHUNK + 6, 3));
    const calls: number[] = [];
    const spy = more.chunks.map((c) => {
      const get = c.get.bind(c);
      return Object.assign(c, { get: (i: number) => (calls.push(i), get(i)) });
    });
    expect(spy).toHaveLength(2);
    const second = f.view(more, { minLevel: "info", query: "line" });
    expect(calls).toHaveLength(0); // packed chunks came from the cache
    expect(second.length).toBe(first.length + f.view(appendLines(emptyLog, lines(2 * CHUNK + 6, 3)), { minLevel: "info", query: "line" }).length);
  });
});
