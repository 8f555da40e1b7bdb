/** The smallest and largest of `xs`, or null when empty. A loop, not `Math.min(...xs)`: spreading
 * passes every value as an argument, and past about 10⁵ of them the engine throws RangeError. */
export function minMax(xs: readonly number[]): [number, number] | null {
  if (xs.length === 0) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}
