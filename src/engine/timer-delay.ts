/**
 * A delay `setTimeout` accepts: at least 1 ms, whole, and at most 2^31 − 1 ms (about 24.8 days), beyond
 * which Node fires it after 1 ms with a warning; a longer wait is re-checked when the timer fires.
 */
export function timerDelay(ms: number): number {
  return Math.min(0x7fffffff, Math.max(1, Math.ceil(ms)));
}
