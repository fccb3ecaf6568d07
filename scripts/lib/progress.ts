/**
 * A progress bar on stderr for long-running scripts: on a terminal one line redrawn in place
 * (`[########------------]  40%  240/600  co-ops: members of Bread & Roses  0:42`); elsewhere (CI
 * logs, pipes) a plain line at each tenth of the way and at each new phase, so logs stay short.
 */
export interface ProgressOptions {
  /** Where to draw; default process.stderr. */
  stream?: NodeJS.WriteStream;
  /** Draw nothing (the caller prints its own summary). */
  quiet?: boolean;
  /** Width of the bar in characters; default 28. */
  width?: number;
}

export class ProgressBar {
  #done = 0;
  #total: number;
  #label = '';
  #phase = '';
  #lastDecile = -1;
  #lastDraw = 0;
  readonly #started = Date.now();
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #quiet: boolean;
  readonly #width: number;

  constructor(total: number, options: ProgressOptions = {}) {
    this.#total = Math.max(1, total);
    this.#stream = options.stream ?? process.stderr;
    this.#tty = this.#stream.isTTY === true;
    this.#quiet = options.quiet === true;
    this.#width = options.width ?? 28;
  }

  get done(): number {
    return this.#done;
  }

  /** More work than planned (e.g. found while running). */
  grow(by: number): void {
    this.#total += by;
  }

  /** A new phase: its name heads the label, and a plain log gets a line. */
  phase(name: string): void {
    this.#phase = name;
    this.#label = '';
    if (!this.#tty && !this.#quiet) this.#stream.write(`${this.#line()}\n`);
    else this.#draw(true);
  }

  /** `steps` more done; `label` says what is being done now. */
  tick(label = '', steps = 1): void {
    this.#done = Math.min(this.#total, this.#done + steps);
    this.#label = label;
    this.#draw(false);
  }

  /** Ends the bar (a final line with the elapsed time). */
  finish(message = 'done'): void {
    this.#done = this.#total;
    this.#phase = message;
    this.#label = '';
    if (this.#quiet) return;
    if (this.#tty) this.#stream.write(`\r\x1b[2K${this.#line()}\n`);
    else this.#stream.write(`${this.#line()}\n`);
  }

  #line(): string {
    const ratio = this.#done / this.#total;
    const filled = Math.round(ratio * this.#width);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(this.#width - filled)}]`;
    const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
    const what = [this.#phase, this.#label].filter(Boolean).join(': ');
    const seconds = Math.round((Date.now() - this.#started) / 1000);
    const clock = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
    const columns = this.#tty ? (this.#stream.columns ?? 100) : 200;
    const line = `${bar} ${percent}  ${this.#done}/${this.#total}  ${clock}  ${what}`;
    return line.length > columns - 1 ? `${line.slice(0, columns - 2)}…` : line;
  }

  #draw(force: boolean): void {
    if (this.#quiet) return;
    if (this.#tty) {
      const now = Date.now();
      // At most 20 redraws a second: drawing costs more than the work between some ticks.
      if (!force && now - this.#lastDraw < 50) return;
      this.#lastDraw = now;
      this.#stream.write(`\r\x1b[2K${this.#line()}`);
      return;
    }
    const decile = Math.floor((this.#done / this.#total) * 10);
    if (decile !== this.#lastDecile) {
      this.#lastDecile = decile;
      this.#stream.write(`${this.#line()}\n`);
    }
  }
}
