/**
 * Training progress display: one line with step, steps/s, loss, p(z|x) of the top retrieved document (REALM §3:
 * how much the model leans on retrieval), learning rate and ETA. On a TTY the line is rewritten in place on stderr
 * (at most every `minIntervalMs`); otherwise (logs, CI) a full line is printed every `every` steps. No dependency:
 * a single status line is all we need, and it must not interleave with the JSONL metrics file.
 */

/** One progress update. */
export interface ProgressInfo {
  /** Steps completed. */
  step: number;
  /** Total steps of the run. */
  total: number;
  /** Loss of the latest step (or a running mean). */
  loss: number;
  /** Steps per second (smoothed). */
  stepsPerSec: number;
  /** Learning rate of the latest step. */
  lr: number;
  /** Mean p(z|x) of the top retrieved document (REALM only). */
  topDocProb?: number;
  /** Steps since the snapshot the index was built from (REALM only). */
  staleness?: number | null;
}

/** Where progress goes. */
export interface ProgressOptions {
  /** Output stream (default process.stderr). */
  stream?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  /** Non-TTY: print every this many steps (default 10). */
  every?: number;
  /** TTY: minimum milliseconds between redraws (default 200). */
  minIntervalMs?: number;
  /** Silence everything. */
  quiet?: boolean;
}

/** Seconds as "42s", "3m05s" or "2h07m" ("?" when not finite). */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const r = Math.round(s);
  if (r >= 3600) return `${Math.floor(r / 3600)}h${String(Math.floor((r % 3600) / 60)).padStart(2, '0')}m`;
  if (r >= 60) return `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s`;
  return `${r}s`;
}

/** The progress line for `p` (no newline). */
export function formatProgress(p: ProgressInfo): string {
  const eta = p.stepsPerSec > 0 ? (p.total - p.step) / p.stepsPerSec : NaN;
  const parts = [
    `step ${p.step}/${p.total}`,
    `${p.stepsPerSec >= 10 ? p.stepsPerSec.toFixed(1) : p.stepsPerSec.toFixed(2)} step/s`,
    `loss ${p.loss.toFixed(4)}`,
  ];
  if (p.topDocProb !== undefined) parts.push(`p(z|x) top ${p.topDocProb.toFixed(3)}`);
  if (p.staleness !== undefined && p.staleness !== null) parts.push(`index age ${p.staleness}`);
  parts.push(`lr ${p.lr.toExponential(2)}`, `ETA ${formatDuration(eta)}`);
  return parts.join(' | ');
}

/** Writes progress lines (in place on a TTY). */
export class ProgressLine {
  private readonly stream: { write(s: string): unknown; isTTY?: boolean };
  private readonly every: number;
  private readonly minInterval: number;
  private readonly quiet: boolean;
  private lastDraw = 0;
  private drawn = false;

  constructor(opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.every = Math.max(1, opts.every ?? 10);
    this.minInterval = opts.minIntervalMs ?? 200;
    this.quiet = opts.quiet ?? false;
  }

  /** True when the line is redrawn in place. */
  get tty(): boolean {
    return this.stream.isTTY === true;
  }

  /** Shows `p` (rate-limited on a TTY, every `every` steps or at the end otherwise). */
  update(p: ProgressInfo): void {
    if (this.quiet) return;
    const last = p.step >= p.total;
    if (this.tty) {
      const now = Date.now();
      if (!last && now - this.lastDraw < this.minInterval) return;
      this.lastDraw = now;
      this.stream.write(`\r\x1b[2K${formatProgress(p)}`);
      this.drawn = true;
    } else if (last || p.step % this.every === 0) {
      this.stream.write(`${formatProgress(p)}\n`);
    }
  }

  /** Prints a message on its own line (keeping the status line intact on a TTY). */
  message(line: string): void {
    if (this.quiet) return;
    if (this.tty && this.drawn) {
      this.stream.write(`\r\x1b[2K${line}\n`);
      this.lastDraw = 0;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the in-place line with a newline. */
  done(): void {
    if (!this.quiet && this.tty && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
