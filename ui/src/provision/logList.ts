// The live page's log. Lines arrive as objects; every CHUNK of them is then
// packed into a few strings and typed arrays (about 80 bytes a line instead
// of ~700 as objects in WebKit), and only the rows on screen become objects
// again. Appending never copies the log: full chunks are shared between
// versions, so the fold stays pure. Measured with a 100 000-line run
// (bench/run.sh): keeping lines as objects cost the web process ~110 MB.
import type { LogLevel } from "../api";

export type LogLine = { seq: number; at: string; level: LogLevel; source: string; line: string };

export const CHUNK = 1024;

const LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];

/** Strings packed into one, read back by index. */
class Strings {
  private readonly text: string;
  private readonly ends: Uint32Array;

  constructor(values: string[]) {
    this.text = values.join("");
    this.ends = new Uint32Array(values.length);
    let end = 0;
    values.forEach((v, i) => (this.ends[i] = end += v.length));
  }

  get(i: number): string {
    return this.text.slice(i === 0 ? 0 : this.ends[i - 1], this.ends[i]);
  }
}

/** CHUNK lines, packed. Immutable. */
export class PackedChunk {
  readonly length: number;
  private readonly seq: Float64Array;
  private readonly levels: Uint8Array;
  private readonly sourceIds: Uint8Array;
  private readonly sourceNames: string[] = [];
  private readonly ats: Strings;
  private readonly lines: Strings;

  constructor(lines: readonly LogLine[]) {
    this.length = lines.length;
    this.seq = Float64Array.from(lines, (l) => l.seq);
    this.levels = Uint8Array.from(lines, (l) => Math.max(0, LEVELS.indexOf(l.level)));
    const ids = new Map<string, number>();
    this.sourceIds = Uint8Array.from(lines, (l) => {
      let id = ids.get(l.source);
      if (id === undefined) {
        // More than 256 sources in 1024 lines does not happen; the last id is shared then.
        id = Math.min(255, this.sourceNames.length);
        if (id === this.sourceNames.length) this.sourceNames.push(l.source);
        ids.set(l.source, id);
      }
      return id;
    });
    this.ats = new Strings(lines.map((l) => l.at));
    this.lines = new Strings(lines.map((l) => l.line));
  }

  level(i: number): LogLevel {
    return LEVELS[this.levels[i] as number] as LogLevel;
  }

  get(i: number): LogLine {
    return { seq: this.seq[i] as number, at: this.ats.get(i), level: this.level(i), source: this.sourceNames[this.sourceIds[i] as number] as string, line: this.lines.get(i) };
  }
}

/** Immutable: packed full chunks, then the open tail as objects. */
export type LogList = { readonly chunks: readonly PackedChunk[]; readonly tail: readonly LogLine[]; readonly length: number };

export const emptyLog: LogList = { chunks: [], tail: [], length: 0 };

export function appendLines(list: LogList, lines: readonly LogLine[]): LogList {
  if (lines.length === 0) return list;
  let chunks: PackedChunk[] | null = null;
  let tail = list.tail.slice();
  for (const l of lines) {
    tail.push(l);
    if (tail.length === CHUNK) {
      (chunks ??= list.chunks.slice()).push(new PackedChunk(tail));
      tail = [];
    }
  }
  return { chunks: chunks ?? list.chunks, tail, length: list.length + lines.length };
}

export function toArray(list: LogList): LogLine[] {
  const out: LogLine[] = [];
  for (const c of list.chunks) for (let i = 0; i < c.length; i++) out.push(c.get(i));
  return out.concat(list.tail);
}

/** Which lines a filter keeps: by level, then by a lower-case search text. */
export type LogFilter = { minLevel: LogLevel; query: string };

function keeps(f: LogFilter, level: LogLevel, get: () => LogLine): boolean {
  if (LEVELS.indexOf(level) < LEVELS.indexOf(f.minLevel)) return false;
  if (!f.query) return true;
  const l = get();
  return l.line.toLowerCase().includes(f.query) || l.source.toLowerCase().includes(f.query);
}

type Part = { get(i: number): LogLine; picked: ArrayLike<number> };

/**
 * A filtered view over a LogList. What a packed chunk keeps is cached by the
 * chunk, so after an append only the tail is filtered again.
 */
export class FilteredLog {
  private cache = new WeakMap<PackedChunk, Uint32Array>();
  private key = "";

  view(list: LogList, f: LogFilter): LinesView {
    const key = `${f.minLevel}\n${f.query}`;
    if (key !== this.key) {
      this.cache = new WeakMap();
      this.key = key;
    }
    const parts: Part[] = [];
    for (const c of list.chunks) {
      let picked = this.cache.get(c);
      if (!picked) {
        const keep: number[] = [];
        for (let i = 0; i < c.length; i++) if (keeps(f, c.level(i), () => c.get(i))) keep.push(i);
        picked = Uint32Array.from(keep);
        this.cache.set(c, picked);
      }
      if (picked.length > 0) parts.push({ get: (i) => c.get(i), picked });
    }
    const tail = list.tail;
    const picked: number[] = [];
    tail.forEach((l, i) => keeps(f, l.level, () => l) && picked.push(i));
    if (picked.length > 0) parts.push({ get: (i) => tail[i] as LogLine, picked });
    return new LinesView(parts);
  }
}

/** Random access over the filtered parts without flattening them. */
export class LinesView {
  readonly length: number;
  private readonly starts: number[] = [];

  constructor(private readonly parts: Part[]) {
    let n = 0;
    for (const p of parts) {
      this.starts.push(n);
      n += p.picked.length;
    }
    this.length = n;
  }

  /** Lines [from, to) in order. */
  slice(from: number, to: number): LogLine[] {
    const out: LogLine[] = [];
    from = Math.max(0, from);
    to = Math.min(this.length, to);
    if (from >= to) return out;
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= from) lo = mid;
      else hi = mid - 1;
    }
    for (let p = lo; p < this.parts.length && out.length < to - from; p++) {
      const part = this.parts[p] as Part;
      const start = this.starts[p] as number;
      for (let i = Math.max(0, from - start); i < part.picked.length && start + i < to; i++) out.push(part.get(part.picked[i] as number));
    }
    return out;
  }

  all(): LogLine[] {
    return this.slice(0, this.length);
  }
}
