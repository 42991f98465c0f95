/**
 * A one-line progress display for commands that process many files: files done of all, MB/s
 * and the time left, redrawn in place on a terminal. Anywhere else (a pipe, a file, a test)
 * it writes nothing at all, so that redirected output carries no control codes.
 */

/** Where the line is drawn: standard error, which is a terminal or not. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export class ProgressLine {
  private done = 0;
  private bytes = 0;
  private shown = false;
  private readonly started: number;

  constructor(
    private readonly stream: ProgressStream,
    private readonly totalFiles: number,
    private readonly totalBytes: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  get active(): boolean {
    return this.stream.isTTY === true;
  }

  /** One more file finished, of `bytes` raw bytes. */
  advance(bytes: number): void {
    this.done++;
    this.bytes += bytes;
    this.draw();
  }

  /** Clears the line before other output goes to the same terminal; the next draw restores it. */
  clear(): void {
    if (this.active && this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }

  draw(): void {
    if (!this.active) return;
    const seconds = (this.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.bytes / 1e6 / seconds : 0;
    const left = rate > 0 ? (this.totalBytes - this.bytes) / 1e6 / rate : undefined;
    const text = `${this.done}/${this.totalFiles} files, ${rate.toFixed(0)} MB/s, ${left === undefined ? '?' : formatSeconds(left)} left`;
    this.stream.write(`\r\x1b[K${text.slice(0, Math.max(10, (this.stream.columns || 80) - 1))}`);
    this.shown = true;
  }

  end(): void {
    this.clear();
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  return `${Math.floor(s / 60)} min ${String(Math.ceil(s % 60)).padStart(2, '0')} s`;
}
