// Task functions for the thread benchmark, shared by every subject.
export function noop(x) {
  return x;
}

/** Burns `ms` milliseconds of CPU. */
export function spin(ms) {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) n++;
  return n;
}

/** Piscina and tinypool call the default export with the task's input. */
export default function run({ op, arg }) {
  return op === 'spin' ? spin(arg) : noop(arg);
}
