// Builds dist/esm (ESM) and dist/cjs (CommonJS) from src with tsc; each folder carries a package.json
// that tells Node which module system its .js files use.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
for (const [config, type] of [['tsconfig.build.json', 'module'], ['tsconfig.cjs.json', 'commonjs']]) {
  execFileSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' });
  const dir = type === 'module' ? 'dist/esm' : 'dist/cjs';
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/package.json`, `${JSON.stringify({ type }, null, 2)}\n`);
}
