// One workload of bench/instructions.ts, run under callgrind: `node --predictable bench/instructions-case.mjs
// <dist dir> <case>`. Plain JavaScript on a built dist/, so that nothing but the pool runs.
const [dist, name] = process.argv.slice(2);
const { LitePool, limit } = await import(`${dist}/esm/index.js`);
const noop = async () => {};
const TASKS = 100_000;
const ITEMS = 200_000;
function* items(n) {
  for (let i = 0; i < n; i++) yield i;
}
const all = (n, make) => {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = make();
  return Promise.all(out);
};
const cases = {
  'run-16': () => all(TASKS, ((lp) => () => lp.run(noop))(new LitePool({ workers: 16 }))),
  'run-1024': () => all(TASKS, ((lp) => () => lp.run(noop))(new LitePool({ workers: 1024 }))),
  'addTask-16': async () => {
    const lp = new LitePool({ workers: 16 });
    const tg = lp.newTaskGroup(TASKS);
    await all(TASKS, () => lp.addTask(tg.newTaskOptions().setTask(noop).setAutoDone()));
    await tg.wait();
  },
  'limit-16': () => all(TASKS, ((l) => () => l(noop))(limit(16))),
  map: () => new LitePool({ workers: 16, queueSize: 16 }).map(items(ITEMS), noop),
  mapIterable: async () => {
    for await (const _ of new LitePool({ workers: 16, queueSize: 16 }).mapIterable(items(ITEMS), noop, { ordered: false })) void _;
  },
};
if (!(name in cases)) throw new Error(`unknown case ${name}; one of ${Object.keys(cases).join(', ')}`);
await cases[name]();
