// Runs every test file under test/ with node:test and tsx, failing on any unhandled rejection and on any
// process warning a test did not expect (test/setup.ts). Node 20's --test does not expand globs or pick up
// .ts files by itself, hence this list. `--repeat N` runs the suite N times in a row (flake control).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : find(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const argv = process.argv.slice(2);
const at = argv.indexOf('--repeat');
const repeat = at >= 0 ? Number(argv.splice(at, 2)[1]) : 1;
const files = argv.length > 0 ? argv : find('test').sort();
const args = ['--import', 'tsx', '--import', './test/setup.ts', '--unhandled-rejections=strict', '--test', ...files];
for (let round = 1; round <= repeat; round++) {
  if (repeat > 1) console.log(`# round ${round} of ${repeat}`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
