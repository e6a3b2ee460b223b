// Loaded before every test file (scripts/test.mjs): a process warning that no test expected fails the run.
// Tests that expect warnings collect them with captureWarnings() from helpers.ts, which marks them expected.
const unexpected: string[] = [];
const state = globalThis as { litepoolExpectWarnings?: number };

process.on('warning', (w: Error) => {
  if ((state.litepoolExpectWarnings ?? 0) > 0) return;
  unexpected.push(`${w.name}: ${w.message}`);
});

process.on('exit', () => {
  if (unexpected.length === 0) return;
  process.stderr.write(`\nunexpected process warnings:\n${unexpected.map((w) => `  ${w}`).join('\n')}\n`);
  process.exitCode = 1;
});
