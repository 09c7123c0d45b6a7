import { describe, expect, it } from "vitest";
import { age } from "./DeploymentsPage";

describe("age", () => {
  const t0 = Date.parse("2026-11-23T00:00:00Z");
  it("reads in minutes, hours, then days", () => {
    expect(age("2026-11-23T00:00:00Z", t0 + 59_000)).toBe("0 min");
    expect(age("2026-11-23T00:00:00Z", t0 + 24 * 60_000)).toBe("24 min");
    expect(age("2026-11-23T00:00:00Z", t0 + 125 * 60_000)).toBe("2 h 5 min");
    expect(age("2026-11-23T00:00:00Z", t0 + 49 * 3_600_000)).toBe("2 d 1 h");
  });
  it("never shows a negative or a broken age", () => {
    expect(age("2026-11-23T00:00:00Z", t0 - 60_000)).toBe("0 min");
    expect(age("not a time", t0)).toBe("—");
  });
});
