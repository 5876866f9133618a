// TexMex fvecs / ivecs files (each row: int32 dimension d, then d float32 or int32 values), the format of the
// ANN benchmark sets (ann-benchmarks, ../shared/bench/ann). Chunked reads straight into the result array (no
// whole-file Buffer, so RSS after loading is honest) and atomic writes (temp file, fsync, rename).
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, writeSync, rmSync } from 'node:fs';

/** A dense row-major matrix read from a vecs file. */
export interface Vecs<T extends Float32Array | Int32Array> {
  /** number of rows */
  n: number;
  /** row length */
  d: number;
  /** [n, d] row-major values */
  data: T;
}

/** Malformed vecs file (wrong size, inconsistent dimension). */
export class VecsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VecsFormatError';
  }
}

type VecsCtor<T> = { new (len: number): T; new (buf: ArrayBuffer, off: number, len: number): T };

function readVecs<T extends Float32Array | Int32Array>(path: string, Ctor: VecsCtor<T>, limit: number): Vecs<T> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(4);
    if (size < 4 || readSync(fd, head, 0, 4, 0) !== 4) throw new VecsFormatError(`${path}: empty or truncated vecs file`);
    const d = head.readInt32LE(0);
    const rowBytes = 4 * (d + 1);
    if (d <= 0 || d > 1 << 20 || size % rowBytes !== 0) {
      throw new VecsFormatError(`${path}: size ${size} is not a whole number of rows of dimension ${d}`);
    }
    const n = Math.min(limit, size / rowBytes);
    const out = new Ctor(n * d);
    const rowsPer = Math.max(1, Math.floor((4 << 20) / rowBytes));
    const chunkBuf = new ArrayBuffer(rowsPer * rowBytes);
    const chunk = Buffer.from(chunkBuf);
    const words = new Ctor(chunkBuf, 0, rowsPer * (d + 1));
    for (let r0 = 0; r0 < n; r0 += rowsPer) {
      const rows = Math.min(rowsPer, n - r0);
      readSync(fd, chunk, 0, rows * rowBytes, r0 * rowBytes);
      for (let i = 0; i < rows; i++) {
        const off = i * rowBytes;
        if (chunk.readInt32LE(off) !== d) throw new VecsFormatError(`${path}: row ${r0 + i} has dimension ${chunk.readInt32LE(off)} != ${d}`);
        out.set(words.subarray(i * (d + 1) + 1, (i + 1) * (d + 1)) as never, (r0 + i) * d);
      }
    }
    return { n, d, data: out };
  } finally {
    closeSync(fd);
  }
}

/** Reads an .fvecs file (optionally only its first `limit` rows). */
export function readFvecs(path: string, limit = Infinity): Vecs<Float32Array> {
  return readVecs(path, Float32Array as VecsCtor<Float32Array>, limit);
}

/** Reads an .ivecs file (optionally only its first `limit` rows). */
export function readIvecs(path: string, limit = Infinity): Vecs<Int32Array> {
  return readVecs(path, Int32Array as VecsCtor<Int32Array>, limit);
}

/** Writes rows [n, d] of float32 or int32 values as a vecs file, atomically. */
export function writeVecs(path: string, data: Float32Array | Int32Array, n: number, d: number): void {
  if (data.length !== n * d) throw new VecsFormatError(`writeVecs ${path}: data length ${data.length} != ${n} x ${d}`);
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const rowBytes = 4 * (d + 1);
    const rowsPer = Math.max(1, Math.floor((4 << 20) / rowBytes));
    const buf = Buffer.alloc(rowsPer * rowBytes);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (let r0 = 0; r0 < n; r0 += rowsPer) {
      const rows = Math.min(rowsPer, n - r0);
      for (let i = 0; i < rows; i++) {
        buf.writeInt32LE(d, i * rowBytes);
        buf.set(bytes.subarray((r0 + i) * d * 4, (r0 + i + 1) * d * 4), i * rowBytes + 4);
      }
      writeSync(fd, buf, 0, rows * rowBytes);
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}
