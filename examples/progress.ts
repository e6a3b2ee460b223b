/** A one-line progress display for the examples: redrawn in place on a terminal, every 10 % elsewhere. */
export class Progress {
  private readonly started = performance.now();
  private lastDecile = -1;
  private readonly tty = process.stdout.isTTY === true;

  constructor(private readonly total: number) {}

  update(done: number, failed: number, retried: number): void {
    const decile = Math.floor((10 * (done + failed)) / this.total);
    if (!this.tty && decile === this.lastDecile) return;
    this.lastDecile = decile;
    const line = this.line(done, failed, retried);
    if (this.tty) process.stdout.write(`\r${line}`);
    else console.log(line);
  }

  finish(done: number, failed: number, retried: number): void {
    if (this.tty) process.stdout.write(`\r${this.line(done, failed, retried)}\n`);
    else if (this.lastDecile !== 10) console.log(this.line(done, failed, retried));
  }

  private line(done: number, failed: number, retried: number): string {
    const secs = (performance.now() - this.started) / 1000;
    const finished = done + failed;
    const pct = ((100 * finished) / this.total).toFixed(0).padStart(3);
    const rate = secs > 0 ? (finished / secs).toFixed(0) : '-';
    return `${pct}%  done ${String(done).padStart(5)}  failed ${String(failed).padStart(4)}  retried ${String(retried).padStart(4)}  ${rate.padStart(6)} tasks/s  ${secs.toFixed(1)} s`;
  }
}
