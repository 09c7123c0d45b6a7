import { useEffect, useMemo, useRef, useState } from "react";
import type { LogLevel } from "../api";
import { FilteredLog, type LogList } from "./logList";

const ROW = 20;
const LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];

/** A log that stays smooth with 100 000 lines: only the visible rows are in the DOM. */
export function LogView({ lines }: { lines: LogList }) {
  const [minLevel, setMinLevel] = useState<LogLevel>("info");
  const [query, setQuery] = useState("");
  const [follow, setFollow] = useState(true);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(360);
  const box = useRef<HTMLDivElement>(null);
  const q = query.trim().toLowerCase();
  // Filtered chunk by chunk and cached: an append filters only the tail again.
  const [filter] = useState(() => new FilteredLog());
  const shown = useMemo(() => filter.view(lines, { minLevel, query: q }), [filter, lines, minLevel, q]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [shown.length, follow]);

  const first = Math.max(0, Math.floor(scrollTop / ROW) - 10);
  const last = Math.min(shown.length, Math.ceil((scrollTop + height) / ROW) + 10);
  const copy = () => void navigator.clipboard?.writeText(shown.all().map((l) => `${l.at} ${l.level.toUpperCase()} [${l.source}] ${l.line}`).join("\n"));

  return (
    <section className="logview" aria-labelledby="log-title">
      <header className="toolbar">
        <h2 id="log-title">Log</h2>
        <label>
          Level{" "}
          <select value={minLevel} onChange={(e) => setMinLevel(e.target.value as LogLevel)}>
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {l} and above
              </option>
            ))}
          </select>
        </label>
        <label htmlFor="log-search" className="visually-hidden">
          Search the log
        </label>
        <input id="log-search" type="search" placeholder="Search the log" value={query} onChange={(e) => setQuery(e.target.value)} />
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
        <button type="button" className="secondary small" onClick={copy}>
          Copy
        </button>
        <span className="hint" data-testid="log-count">
          {shown.length} of {lines.length} lines
        </span>
      </header>
      <div
        ref={box}
        className="log-box"
        role="log"
        aria-live="off"
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          setScrollTop(el.scrollTop);
          const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < ROW * 2;
          if (follow !== atEnd) setFollow(atEnd);
        }}
      >
        {/* React sets styles through the CSSOM, which the strict CSP allows (no style attributes are parsed). */}
        <div className="log-spacer" style={{ height: shown.length * ROW }}>
          {shown.slice(first, last).map((l, i) => (
            // Keyed by slot, not by line: while following, React reuses the rows' elements instead of making new ones per batch.
            <div key={(first + i) % (last - first)} className={`log-line ${l.level}`} style={{ top: (first + i) * ROW }}>
              <span className="log-src">{l.source}</span> {l.line}
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}
