import { describe, expect, it } from "vitest";
import { minMax } from "./extent";

describe("minMax", () => {
  it("is null for no values", () => {
    expect(minMax([])).toBeNull();
  });
  it("finds both ends", () => {
    expect(minMax([3, -1, 7, 2])).toEqual([-1, 7]);
  });
  it("takes a polygon of a million points, where Math.min(...xs) throws", () => {
    const xs = Array.from({ length: 1_000_000 }, (_, i) => (i * 7919) % 1_000_003);
    expect(() => Math.min(...xs)).toThrow(RangeError);
    const hi = xs.reduce((a, b) => (b > a ? b : a));
    expect(minMax(xs)).toEqual([0, hi]);
    expect(hi).toBeGreaterThan(999_000);
  });
});
