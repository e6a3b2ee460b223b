/** A one-line progress display for the examples: redrawn in place on a terminal, every 10 % elsewhere. */
export class Progress {
  private readonly started = performance.now();
  private lastDecile = -1;
  private readonly tty = process.stdout.isTTY === true;
  /** More to show after the line on a terminal (bars of the items in flight). */
  extra: (() => string) | undefined = undefined;
  private last: [number, number, number] = [0, 0, 0];

  constructor(private readonly total: number) {}

  /** Draws the line again with fresh `extra` (a terminal only). */
  redraw(): void {
    if (this.tty) process.stdout.write(`\r\x1b[K${this.line(...this.last)}${this.extra?.() ?? ''}`);
  }

  update(done: number, failed: number, retried: number): void {
    this.last = [done, failed, retried];
    const decile = Math.floor((10 * (done + failed)) / this.total);
    if (!this.tty && decile === this.lastDecile) return;
    this.lastDecile = decile;
    const line = this.line(done, failed, retried);
    if (this.tty) process.stdout.write(`\r\x1b[K${line}${this.extra?.() ?? ''}`);
    else console.log(line);
  }

  finish(done: number, failed: number, retried: number): void {
    if (this.tty) process.stdout.write(`\r\x1b[K${this.line(done, failed, retried)}\n`);
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

/**
 * A bar per item in flight, from their progress reports (`onProgress`), shown after the progress line on a
 * terminal (`progress.extra = () => bars.text()`).
 */
export class FileBars {
  private readonly items = new Map<string, number>();

  /** Item `label` is `done` (a fraction) of the way. */
  set(label: string, done: number): void {
    this.items.set(label, done);
  }

  remove(label: string): void {
    this.items.delete(label);
  }

  /** The bars of up to four items in flight. */
  text(): string {
    const width = 10;
    return [...this.items]
      .slice(0, 4)
      .map(([label, done]) => {
        const full = Math.round(done * width);
        return `   ${label} ${'█'.repeat(full)}${'░'.repeat(width - full)}`;
      })
      .join('');
  }
}
