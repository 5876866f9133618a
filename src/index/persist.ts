/**
 * Index file format: one versioned file, written atomically (temp file, fsync, rename, fsync of the directory) and
 * loaded with a single read into typed-array views (no parsing of the bulk data).
 *
 *   "REALMIDX" | u32 version | u32 header bytes | header JSON (kind, scalar fields, array directory) | pad to 8
 *   | each array's bytes, 8-aligned | u32 CRC-32 of everything before | "IDXE"
 *
 * A truncated file, a bad magic/version/kind, an inconsistent directory or a checksum mismatch raise
 * IndexFileError naming the file.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { IndexFileError } from './types.js';

const MAGIC = 'REALMIDX';
const TAIL = 'IDXE';
/** Current file format version. */
export const FORMAT_VERSION = 1;

type Typed = Float32Array | Int32Array | Uint32Array | Uint8Array;
const CTORS = { f32: Float32Array, i32: Int32Array, u32: Uint32Array, u8: Uint8Array } as const;
type TypeTag = keyof typeof CTORS;

function tagOf(a: Typed): TypeTag {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof Uint32Array) return 'u32';
  return 'u8';
}

const pad8 = (n: number): number => (n + 7) & ~7;

/** Writes `kind`, JSON-able `fields` and named arrays to path atomically. */
export function writeIndexFile(path: string, kind: string, fields: Record<string, unknown>, arrays: Record<string, Typed>): void {
  const dir = arrays ? Object.entries(arrays).map(([name, a]) => ({ name, type: tagOf(a), length: a.length })) : [];
  const header = Buffer.from(JSON.stringify({ kind, fields, arrays: dir }), 'utf8');
  const pre = Buffer.alloc(16);
  pre.write(MAGIC, 0, 'latin1');
  pre.writeUInt32LE(FORMAT_VERSION, 8);
  pre.writeUInt32LE(header.length, 12);
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  const fd = openSync(tmp, 'w');
  let crc = 0;
  const put = (b: Uint8Array): void => {
    let off = 0;
    while (off < b.length) off += writeSync(fd, b, off, b.length - off);
    crc = crc32(b, crc);
  };
  const zeros = new Uint8Array(8);
  try {
    put(pre);
    put(header);
    put(zeros.subarray(0, pad8(16 + header.length) - 16 - header.length));
    for (const { name } of dir) {
      const a = arrays[name]!;
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      put(bytes);
      put(zeros.subarray(0, pad8(bytes.length) - bytes.length));
    }
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(crc >>> 0, 0);
    tail.write(TAIL, 4, 'latin1');
    let off = 0;
    while (off < 8) off += writeSync(fd, tail, off, 8 - off);
    fsyncSync(fd);
    closeSync(fd);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw e;
  }
  renameSync(tmp, path);
  try {
    const dfd = openSync(dirname(path), 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    /* directory fsync is best effort (not supported everywhere) */
  }
}

/** A loaded index file: its kind, fields and typed-array views. */
export interface IndexFile {
  kind: string;
  fields: Record<string, unknown>;
  arrays: Record<string, Typed>;
}

/** Reads and verifies an index file written by writeIndexFile; `kind` must match. */
export function readIndexFile(path: string, kind: string): IndexFile {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new IndexFileError(path, `cannot read index file (${e instanceof Error ? e.message : String(e)})`);
  }
  if (buf.length < 24 || buf.toString('latin1', 0, 8) !== MAGIC) throw new IndexFileError(path, 'not a realm-lm index file (bad magic)');
  const version = buf.readUInt32LE(8);
  if (version !== FORMAT_VERSION) throw new IndexFileError(path, `unsupported index format version ${version} (this build reads ${FORMAT_VERSION})`);
  if (buf.toString('latin1', buf.length - 4) !== TAIL) throw new IndexFileError(path, 'truncated index file (missing trailer)');
  const want = buf.readUInt32LE(buf.length - 8);
  const got = crc32(buf.subarray(0, buf.length - 8)) >>> 0;
  if (want !== got) throw new IndexFileError(path, `checksum mismatch (stored ${want.toString(16)}, computed ${got.toString(16)}): file is corrupt`);
  const hlen = buf.readUInt32LE(12);
  if (16 + hlen > buf.length - 8) throw new IndexFileError(path, 'truncated index file (header)');
  let header: { kind: string; fields: Record<string, unknown>; arrays: { name: string; type: TypeTag; length: number }[] };
  try {
    header = JSON.parse(buf.toString('utf8', 16, 16 + hlen));
  } catch {
    throw new IndexFileError(path, 'corrupt header');
  }
  if (header.kind !== kind) throw new IndexFileError(path, `holds a ${header.kind} index, not a ${kind} index`);
  const arrays: Record<string, Typed> = {};
  let off = pad8(16 + hlen);
  for (const { name, type, length } of header.arrays) {
    const Ctor = CTORS[type];
    if (!Ctor || !Number.isInteger(length) || length < 0) throw new IndexFileError(path, `corrupt array directory entry '${name}'`);
    const bytes = length * Ctor.BYTES_PER_ELEMENT;
    if (off + bytes > buf.length - 8) throw new IndexFileError(path, `truncated index file (array '${name}')`);
    const abs = buf.byteOffset + off;
    const ab = buf.buffer as ArrayBuffer;
    arrays[name] = abs % 8 === 0 ? new Ctor(ab, abs, length) : new Ctor(ab.slice(abs, abs + bytes));
    off += pad8(bytes);
  }
  if (off !== buf.length - 8) throw new IndexFileError(path, 'file size does not match its array directory');
  return { kind: header.kind, fields: header.fields, arrays };
}
