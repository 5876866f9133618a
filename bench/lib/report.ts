// Output side of the benchmarks: markdown tables, atomic JSON result files, machine description, and the
// BENCHMARKS.md updater that rewrites only the section between `<!-- NAME:start -->` and `<!-- NAME:end -->`
// (appending the section, or creating the file, when missing) so each benchmark owns its own part of the file.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { cpus, totalmem, loadavg } from 'node:os';
import { dirname } from 'node:path';

/** Writes text to path atomically (temp file, fsync, rename), creating the directory. */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Writes a JSON result file (2-space indent) atomically. */
export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Replaces (or appends) the `name` section of a markdown file; creates the file with `title` when missing. */
export function updateMarkdownSection(path: string, name: string, body: string, title = '# Benchmarks\n'): void {
  const start = `<!-- ${name}:start -->`, end = `<!-- ${name}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const text = existsSync(path) ? readFileSync(path, 'utf8') : `${title}\n`;
  const i = text.indexOf(start), j = text.indexOf(end);
  let out: string;
  if (i >= 0 && j > i) out = text.slice(0, i) + block + text.slice(j + end.length);
  else if (i >= 0 || j >= 0) throw new Error(`${path}: unbalanced markers for section ${name} (fix by hand)`);
  else out = text.replace(/\n*$/, '\n\n') + block + '\n';
  writeFileAtomic(path, out);
}

/** A markdown table from a header row and rows of cells. */
export function markdownTable(header: string[], rows: (string | number | null | undefined)[][]): string {
  const cell = (v: string | number | null | undefined): string => (v == null || v === '' ? '–' : String(v));
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** The median of xs (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/** A share as a percentage with one decimal ('–' when absent). */
export function pct(x: number | null | undefined): string {
  return x == null ? '–' : `${(100 * x).toFixed(1)}%`;
}

/** Thousands-separated integer, or '–'. */
export function fmtQps(x: number | null | undefined): string {
  return x == null ? '–' : Math.round(x).toLocaleString('en-US');
}

/** What the numbers were measured on. */
export interface MachineInfo {
  /** CPU model */
  cpu: string;
  /** logical CPUs */
  cpus: number;
  /** RAM GiB */
  mem_gib: number;
  /** node version */
  node: string;
  /** 1-minute load average at the start of the run */
  loadavg_1m: number;
  /** ISO date of the run */
  date: string;
}

/** Describes this machine now. */
export function machineInfo(): MachineInfo {
  return {
    cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length, mem_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version, loadavg_1m: Math.round(loadavg()[0] * 100) / 100, date: new Date().toISOString(),
  };
}
