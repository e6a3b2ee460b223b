/**
 * Connection errors are reported once per kind, not once per reconnect attempt: an outage of a minute would
 * otherwise print hundreds of warnings.
 * @module
 */

/** Returns a reporter that emits a `LitePoolWarning` (code `LITEPOOL_REDIS`) for each new message. */
export function connectionWarnings(who: string): (err: Error) => void {
  const seen = new Set<string>();
  return (err: Error) => {
    const key = `${err.name}: ${err.message}`;
    if (seen.has(key)) return;
    if (seen.size > 100) seen.clear();
    seen.add(key);
    process.emitWarning(`litepool: ${who}: Redis error: ${key}`, { type: 'LitePoolWarning', code: 'LITEPOOL_REDIS' });
  };
}
