/**
 * Training metrics as JSON Lines (one object per step: step, loss, lr, grad norm, step time, task metrics such as
 * REALM's p(z|x) of the top document and index staleness). On resume the file is cut back to the checkpoint's step
 * (rewritten atomically) so a killed-and-resumed run leaves exactly one record per step, like an uninterrupted one.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.js';

/** One JSONL record. */
export type MetricsRecord = { step: number } & Record<string, number | string | boolean | null>;

/** Appends records to a JSONL file. */
export class MetricsLog {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  /** Drops records with step > `step` (resume) and any torn last line; keeps the rest. */
  truncateAfter(step: number): void {
    if (!existsSync(this.path)) return;
    const kept: string[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line) as { step?: unknown };
        if (typeof r.step === 'number' && r.step <= step) kept.push(line);
      } catch {
        // a line torn by a kill: drop it
      }
    }
    writeFileAtomicSync(this.path, kept.length ? `${kept.join('\n')}\n` : '');
  }

  /** Appends one record. */
  append(rec: MetricsRecord): void {
    appendFileSync(this.path, `${JSON.stringify(rec)}\n`);
  }

  /** All records (for tests and reports). */
  static read(path: string): MetricsRecord[] {
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as MetricsRecord);
  }
}
