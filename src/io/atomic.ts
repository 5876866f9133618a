/**
 * Atomic file writes, used project-wide for anything that must survive a crash (checkpoints, configs, indexes).
 *
 * Protocol: write to a temp file in the SAME directory (so rename never crosses a file system), fsync the file,
 * rename it over the target (atomic on POSIX), then fsync the directory so the rename itself is durable. A reader
 * therefore sees either the old file or the complete new one, never a prefix. On any error the temp file is removed.
 * Temp names are `.<base>.tmp-<pid>-<random>` so a leftover from a killed process can be recognised and cleaned
 * (`removeStaleTemps`).
 */

import {
  closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, unlinkSync, writeSync,
} from 'node:fs';
import { open as openAsync, rename as renameAsync, unlink as unlinkAsync } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Data accepted by the whole-file writers: a string (UTF-8), bytes, or a sequence of byte chunks. */
export type AtomicData = string | Uint8Array | Iterable<Uint8Array>;

const TEMP_RE = /^\.(.+)\.tmp-(\d+)-[0-9a-f]+$/;

/** A fresh temp path next to `path` (same directory, hidden, tagged with this process id). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** fsync a directory so that renames/creations inside it are durable (no-op where directories cannot be opened). */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return; // e.g. platforms without directory fds; the rename is still atomic
  }
  try {
    fsyncSync(fd);
  } catch {
    // some file systems reject fsync on directories (EINVAL); atomicity does not depend on it
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
}

function toChunks(data: AtomicData): Iterable<Uint8Array> {
  if (typeof data === 'string') return [Buffer.from(data, 'utf8')];
  if (data instanceof Uint8Array) return [data];
  return data;
}

/** Streaming atomic writer for large files: write chunks, then `commit()` (or `abort()` to discard). */
export interface AtomicWriter {
  /** Final path the file will have after commit. */
  readonly path: string;
  /** Temp path being written. */
  readonly tempPath: string;
  /** Bytes written so far. */
  readonly bytesWritten: number;
  /** Append bytes (any typed-array view is written as its raw bytes). */
  write(chunk: Uint8Array | ArrayBufferView | string): void;
  /** fsync, close, rename over `path`, fsync the directory. */
  commit(): void;
  /** Close and delete the temp file (safe to call after a failed write; no-op after commit). */
  abort(): void;
}

/** Open a streaming atomic writer for `path` (temp file created now with `mode`, default 0o644). */
export function openAtomicWriter(path: string, mode = 0o644): AtomicWriter {
  const tempPath = tempPathFor(path);
  const fd = openSync(tempPath, 'wx', mode);
  let open = true;
  let done = false;
  let written = 0;
  const abort = (): void => {
    if (done) return;
    done = true;
    if (open) {
      open = false;
      try { closeSync(fd); } catch { /* already failing */ }
    }
    try { unlinkSync(tempPath); } catch { /* already gone */ }
  };
  return {
    path,
    tempPath,
    get bytesWritten() { return written; },
    write(chunk) {
      if (done) throw new Error(`atomic write of ${path}: write after commit/abort`);
      const bytes = typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      try {
        writeAll(fd, bytes);
      } catch (e) {
        abort();
        throw e;
      }
      written += bytes.byteLength;
    },
    commit() {
      if (done) throw new Error(`atomic write of ${path}: commit after commit/abort`);
      try {
        fsyncSync(fd);
        open = false;
        closeSync(fd);
        renameSync(tempPath, path);
      } catch (e) {
        abort();
        throw e;
      }
      done = true;
      fsyncDir(dirname(path));
    },
    abort,
  };
}

/** Write `data` to `path` atomically (synchronous). */
export function writeFileAtomicSync(path: string, data: AtomicData, mode = 0o644): void {
  const w = openAtomicWriter(path, mode);
  try {
    for (const chunk of toChunks(data)) w.write(chunk);
  } catch (e) {
    w.abort();
    throw e;
  }
  w.commit();
}

/** Write `data` (or an async stream of chunks) to `path` atomically without blocking the event loop. */
export async function writeFileAtomic(
  path: string,
  data: AtomicData | AsyncIterable<Uint8Array>,
  mode = 0o644,
): Promise<void> {
  const tempPath = tempPathFor(path);
  const fh = await openAsync(tempPath, 'wx', mode);
  let closed = false;
  try {
    const chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array> =
      typeof data === 'string' || data instanceof Uint8Array ? toChunks(data) : data;
    for await (const chunk of chunks) {
      let off = 0;
      while (off < chunk.byteLength) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
        off += bytesWritten;
      }
    }
    await fh.sync();
    closed = true;
    await fh.close();
    await renameAsync(tempPath, path);
  } catch (e) {
    if (!closed) await fh.close().catch(() => undefined);
    await unlinkAsync(tempPath).catch(() => undefined);
    throw e;
  }
  fsyncDir(dirname(path));
}

/** True if a process with this id is running (signal 0 probe; EPERM means it exists but is not ours). */
export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Delete temp files/dirs left in `dir` by writers that died (names from `tempPathFor`, owner pid not running, or
 * this process when `includeOwn`). Returns the names removed.
 */
export function removeStaleTemps(dir: string, includeOwn = false): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (!m) continue;
    const pid = Number(m[2]);
    if (pid === process.pid ? !includeOwn : isProcessAlive(pid)) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
