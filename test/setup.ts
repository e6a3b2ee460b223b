// Loaded before every test file (scripts/test.mjs): a process warning that no test expected fails the run.
// Tests that expect warnings collect them with captureWarnings() from helpers.ts, which marks them expected.
// scripts/test.mjs runs with --no-warnings so that expected warnings stay off the output; Node then prints
// none, so this prints every unexpected one itself, with its stack, as it happens and again at exit.
const unexpected: string[] = [];
const state = globalThis as { litepoolExpectWarnings?: number };
const nodePrintsWarnings =
  !process.execArgv.includes('--no-warnings') &&
  !(process.env.NODE_OPTIONS ?? '').split(/\s+/).includes('--no-warnings') &&
  process.env.NODE_NO_WARNINGS !== '1';

process.on('warning', (w: Error & { code?: string }) => {
  if ((state.litepoolExpectWarnings ?? 0) > 0) return;
  unexpected.push(`${w.name}: ${w.message}`);
  if (!nodePrintsWarnings) {
    const code = w.code === undefined ? '' : `[${w.code}] `;
    process.stderr.write(`unexpected process warning (node:${process.pid}) ${code}${w.stack ?? `${w.name}: ${w.message}`}\n`);
  }
});

process.on('exit', () => {
  if (unexpected.length === 0) return;
  process.stderr.write(`\nunexpected process warnings:\n${unexpected.map((w) => `  ${w}`).join('\n')}\n`);
  process.exitCode = 1;
});
