/**
 * The safetensors format (HF's checkpoint format), read and written without depending on the Tensor class.
 *
 * Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * `{"__metadata__": {str: str}?, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...}` padded with spaces so
 * the data section starts 8-byte aligned, then the data section; offsets are relative to it and must tile it exactly
 * (contiguous, no overlap, no trailing bytes) — the same checks the reference (Rust) loader applies. The writer matches
 * the reference writer byte for byte: tensors ordered by dtype (F32, I32, F16) then name, JSON without spaces.
 *
 * Tied weights: the format cannot store one buffer twice, so (like HF's `save_model`) a Float32Array passed under
 * several names is written once under the lexicographically first name and each other name is recorded in the
 * metadata as `alias → kept`; `resolveAliases` (aliases.ts) restores them on load.
 */

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { openAtomicWriter } from './atomic.js';
import { CheckpointError } from './errors.js';
import {
  bf16ToF32, DTYPE_BITS, f16ToF32, f32ToF16, HOST_IS_LE, i64ToI32, READABLE_DTYPES, type ReadableDtype, type WritableDtype,
} from './dtypes.js';

/** A tensor as stored/loaded: its stored dtype, shape and data (float dtypes → Float32Array, int → Int32Array). */
export interface NamedArray {
  /** dtype in the file (F16/BF16 were converted to F32 data, I64 to Int32 data). */
  dtype: ReadableDtype;
  /** Shape, row-major. */
  shape: number[];
  /** Elements, length = product(shape). */
  data: Float32Array | Int32Array;
}
export type NamedArrays = Map<string, NamedArray>;

/** A tensor to write: Float32Array is written as F32 (or F16 with `dtype: 'F16'`), Int32Array as I32. */
export interface ArrayToSave {
  shape: readonly number[];
  data: Float32Array | Int32Array;
  /** Stored dtype of float data: 'F32' (default) or 'F16' (rounded to nearest even; halves the file). */
  dtype?: 'F32' | 'F16';
}

/** One header entry of an opened file. */
export interface TensorInfo {
  name: string;
  /** dtype string as in the file (may be one we cannot convert; `get` then throws). */
  dtype: string;
  shape: number[];
  /** Byte range inside the data section. */
  begin: number;
  end: number;
}

/** Largest header accepted (the reference loader's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function isNonNegInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/**
 * Parse and validate a header. `dataBytes` is the size of the data section (file size − 8 − N).
 * Returns entries sorted by offset and the metadata map (null when absent).
 */
export function parseHeader(
  file: string, headerBytes: Uint8Array, dataBytes: number,
): { tensors: TensorInfo[]; metadata: Record<string, string> | null } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new CheckpointError(file, 'header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new CheckpointError(file, 'header JSON is not an object');
  }
  let metadata: Record<string, string> | null = null;
  const tensors: TensorInfo[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (raw === null) continue;
      if (typeof raw !== 'object' || Array.isArray(raw)) {
        throw new CheckpointError(file, '__metadata__ must be an object of strings');
      }
      metadata = Object.create(null) as Record<string, string>;
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new CheckpointError(file, `__metadata__["${k}"] is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new CheckpointError(file, 'header entry is not an object', name);
    }
    const { dtype, shape, data_offsets: offs } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BITS)) {
      throw new CheckpointError(file, `unknown dtype ${JSON.stringify(dtype)}`, name);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) {
      throw new CheckpointError(file, `invalid shape ${JSON.stringify(shape)}`, name);
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isNonNegInt) || offs[0] > offs[1]) {
      throw new CheckpointError(file, `invalid data_offsets ${JSON.stringify(offs)}`, name);
    }
    const bits = numel(shape) * DTYPE_BITS[dtype];
    const expected = Math.ceil(bits / 8);
    if (!Number.isSafeInteger(bits) || offs[1] - offs[0] !== expected) {
      throw new CheckpointError(
        file, `byte length ${offs[1] - offs[0]} does not match dtype ${dtype} × shape [${shape}] = ${expected}`, name,
      );
    }
    tensors.push({ name, dtype, shape: shape.slice(), begin: offs[0], end: offs[1] });
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const t of tensors) {
    if (t.end > dataBytes) {
      throw new CheckpointError(
        file, `data_offsets [${t.begin}, ${t.end}] outside the data section (${dataBytes} bytes; truncated file?)`,
        t.name,
      );
    }
    if (t.begin !== pos) {
      throw new CheckpointError(
        file, t.begin < pos
          ? `data_offsets [${t.begin}, ${t.end}] overlap the previous tensor (ends at ${pos})`
          : `data_offsets [${t.begin}, ${t.end}] leave a gap after byte ${pos}`,
        t.name,
      );
    }
    pos = t.end;
  }
  if (pos !== dataBytes) {
    throw new CheckpointError(file, `data section is ${dataBytes} bytes but the tensors cover ${pos} (trailing bytes)`);
  }
  return { tensors, metadata };
}

/** Convert one tensor's raw little-endian bytes into a NamedArray (F32/I32 data may view `bytes`' buffer). */
export function decodeTensor(file: string, info: TensorInfo, bytes: Uint8Array): NamedArray {
  if (!HOST_IS_LE) throw new CheckpointError(file, 'big-endian hosts are not supported', info.name);
  const shape = info.shape.slice();
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes); // typed-array copy is offset 0
  switch (info.dtype) {
    case 'F32':
      return { dtype: 'F32', shape, data: new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4) };
    case 'I32':
      return { dtype: 'I32', shape, data: new Int32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4) };
    case 'F16':
      return { dtype: 'F16', shape, data: f16ToF32(bytes) };
    case 'BF16':
      return { dtype: 'BF16', shape, data: bf16ToF32(bytes) };
    case 'I64': {
      const r = i64ToI32(bytes);
      if (!(r instanceof Int32Array)) {
        throw new CheckpointError(file, `I64 element ${r.badIndex} = ${r.value} does not fit in int32`, info.name);
      }
      return { dtype: 'I64', shape, data: r };
    }
    default:
      throw new CheckpointError(
        file, `dtype ${info.dtype} is not supported (readable: ${READABLE_DTYPES.join(', ')})`, info.name,
      );
  }
}

/** An opened safetensors file: header parsed and validated, tensors read on demand with positioned reads. */
export interface SafetensorsFile {
  readonly path: string;
  /** `__metadata__` (empty object when absent). */
  readonly metadata: Record<string, string>;
  /** Header entries in data order. */
  readonly tensors: readonly TensorInfo[];
  /** Absolute file offset of the data section (8 + N). */
  readonly dataStart: number;
  /** Stored tensor names in data order. */
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  /** Read and convert one tensor (only its bytes are read). A metadata alias name reads its target. */
  get(name: string): NamedArray;
  close(): void;
}

function readFully(file: string, fd: number, buf: Uint8Array, pos: number, what: string): void {
  let off = 0;
  while (off < buf.byteLength) {
    const n = readSync(fd, buf, off, buf.byteLength - off, pos + off);
    if (n === 0) throw new CheckpointError(file, `unexpected end of file while reading ${what}`);
    off += n;
  }
}

/** Open `path` lazily (keeps the fd until `close()`). Validates the whole header up front. */
export function openSafetensors(path: string): SafetensorsFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new CheckpointError(path, `cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 8) throw new CheckpointError(path, `file is ${size} bytes, too short for the 8-byte header length`);
    const lenBuf = new Uint8Array(8);
    readFully(path, fd, lenBuf, 0, 'the header length');
    const n = new DataView(lenBuf.buffer).getBigUint64(0, true);
    if (n > BigInt(MAX_HEADER_BYTES)) throw new CheckpointError(path, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
    const headerLen = Number(n);
    if (8 + headerLen > size) {
      throw new CheckpointError(path, `header length ${headerLen} goes beyond the end of the file (${size} bytes; truncated?)`);
    }
    const headerBytes = new Uint8Array(headerLen);
    readFully(path, fd, headerBytes, 8, 'the header');
    const dataStart = 8 + headerLen;
    const { tensors, metadata } = parseHeader(path, headerBytes, size - dataStart);
    const byName = new Map(tensors.map((t) => [t.name, t]));
    const meta: Record<string, string> = metadata ?? Object.create(null);
    let closed = false;
    const info = (name: string): TensorInfo => {
      const t = byName.get(name) ?? byName.get(meta[name]);
      if (!t) throw new CheckpointError(path, 'no such tensor in the file', name);
      return t;
    };
    return {
      path,
      metadata: meta,
      tensors,
      dataStart,
      names: () => tensors.map((t) => t.name),
      has: (name) => byName.has(name),
      info,
      get(name) {
        if (closed) throw new CheckpointError(path, 'file already closed', name);
        const t = info(name);
        const bytes = new Uint8Array(t.end - t.begin);
        readFully(path, fd, bytes, dataStart + t.begin, `tensor "${t.name}"`);
        return decodeTensor(path, t, bytes);
      },
      close() {
        if (!closed) {
          closed = true;
          closeSync(fd);
        }
      },
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Result of loading a whole file. */
export interface LoadedSafetensors {
  path: string;
  /** Stored tensors (aliases recorded in metadata are NOT expanded; see resolveAliases). */
  tensors: NamedArrays;
  metadata: Record<string, string>;
}

/** Load every tensor of `path`. */
export function loadSafetensors(path: string): LoadedSafetensors {
  const f = openSafetensors(path);
  try {
    const tensors: NamedArrays = new Map();
    for (const name of f.names()) tensors.set(name, f.get(name));
    return { path, tensors, metadata: { ...f.metadata } };
  } finally {
    f.close();
  }
}

/** Parse an in-memory safetensors image (e.g. a buffer received over the wire); `file` names it in errors. */
export function parseSafetensors(bytes: Uint8Array, file = '<buffer>'): LoadedSafetensors {
  if (bytes.byteLength < 8) throw new CheckpointError(file, `file is ${bytes.byteLength} bytes, too short for the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new CheckpointError(file, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLen = Number(n);
  if (8 + headerLen > bytes.byteLength) {
    throw new CheckpointError(file, `header length ${headerLen} goes beyond the end of the file (${bytes.byteLength} bytes; truncated?)`);
  }
  const dataStart = 8 + headerLen;
  const { tensors, metadata } = parseHeader(file, bytes.subarray(8, dataStart), bytes.byteLength - dataStart);
  const out: NamedArrays = new Map();
  for (const t of tensors) out.set(t.name, decodeTensor(file, t, new Uint8Array(bytes.subarray(dataStart + t.begin, dataStart + t.end))));
  return { path: file, tensors: out, metadata: metadata ?? {} };
}

/** A serialised file: header bytes (length prefix + padded JSON) then the tensor bodies in order. */
export interface SerializedSafetensors {
  header: Uint8Array;
  bodies: Uint8Array[];
  /** Metadata actually written (user metadata + alias records). */
  metadata: Record<string, string>;
  /** alias name → stored name, for the tensors written once. */
  aliases: Map<string, string>;
  totalBytes: number;
}

function dtypeOf(file: string, name: string, t: ArrayToSave): WritableDtype {
  if (t.dtype !== undefined && t.dtype !== 'F32' && t.dtype !== 'F16') throw new CheckpointError(file, `dtype must be 'F32' or 'F16' (got ${JSON.stringify(t.dtype)})`, name);
  if (t.data instanceof Float32Array) return t.dtype ?? 'F32';
  if (t.data instanceof Int32Array) {
    if (t.dtype === 'F16') throw new CheckpointError(file, "dtype 'F16' needs Float32Array data", name);
    return 'I32';
  }
  throw new CheckpointError(file, 'data must be a Float32Array or Int32Array', name);
}

/** Reference order of dtypes in a file (the Rust writer sorts by dtype, largest first): F32, I32, F16. */
const DTYPE_RANK: Readonly<Record<WritableDtype, number>> = { F32: 0, I32: 1, F16: 2 };

/** Build the header and body list (no copies of tensor data) for `tensors`. */
export function serializeSafetensors(
  tensors: ReadonlyMap<string, ArrayToSave>, metadata?: Readonly<Record<string, string>>, file = '<buffer>',
): SerializedSafetensors {
  if (!HOST_IS_LE) throw new CheckpointError(file, 'big-endian hosts are not supported');
  const meta: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (typeof v !== 'string') throw new CheckpointError(file, `metadata["${k}"] must be a string`);
    meta[k] = v;
  }
  // validate, then group names sharing one buffer view (same object, or same buffer/offset/length)
  const groups = new Map<string, string[]>();
  const viewKey = new Map<object, string>();
  const bufferIds = new Map<ArrayBufferLike, number>();
  const keyOf = (d: Float32Array | Int32Array): string => {
    const known = viewKey.get(d);
    if (known !== undefined) return known;
    let id = bufferIds.get(d.buffer);
    if (id === undefined) bufferIds.set(d.buffer, (id = bufferIds.size));
    const key = `${d.constructor.name}:${id}:${d.byteOffset}:${d.length}`;
    viewKey.set(d, key);
    return key;
  };
  for (const [name, t] of tensors) {
    if (name === METADATA_KEY) throw new CheckpointError(file, 'reserved tensor name', name);
    dtypeOf(file, name, t);
    if (!t.shape.every(isNonNegInt) || numel(t.shape) !== t.data.length) {
      throw new CheckpointError(file, `shape [${t.shape}] does not match data length ${t.data.length}`, name);
    }
    const key = keyOf(t.data);
    const g = groups.get(key);
    if (g) g.push(name);
    else groups.set(key, [name]);
  }
  const aliases = new Map<string, string>();
  const stored: [string, ArrayToSave, WritableDtype][] = [];
  for (const names of groups.values()) {
    names.sort();
    const kept = names[0];
    const keptT = tensors.get(kept)!;
    for (const alias of names.slice(1)) {
      const t = tensors.get(alias)!;
      if (t.shape.length !== keptT.shape.length || t.shape.some((d, i) => d !== keptT.shape[i])) {
        throw new CheckpointError(file, `shares its data with "${kept}" but has a different shape`, alias);
      }
      if (dtypeOf(file, alias, t) !== dtypeOf(file, kept, keptT)) {
        throw new CheckpointError(file, `shares its data with "${kept}" but asks for a different dtype`, alias);
      }
      if (Object.hasOwn(meta, alias) && meta[alias] !== kept) {
        throw new CheckpointError(file, `metadata key "${alias}" clashes with the alias record for a tied tensor`, alias);
      }
      meta[alias] = kept;
      aliases.set(alias, kept);
    }
    stored.push([kept, keptT, dtypeOf(file, kept, keptT)]);
  }
  // reference order: dtype descending (F32, I32, F16), then name
  stored.sort((a, b) => (a[2] === b[2] ? (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0) : DTYPE_RANK[a[2]] - DTYPE_RANK[b[2]]));
  // JSON built by hand so the key order is exactly the data order (a JS object would hoist integer-like names)
  const parts: string[] = [];
  const metaKeys = Object.keys(meta).sort();
  if (metaKeys.length > 0) {
    parts.push(`"${METADATA_KEY}":{${metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(meta[k])}`).join(',')}}`);
  }
  let pos = 0;
  const bodies: Uint8Array[] = [];
  for (const [name, t, dtype] of stored) {
    const bytes = dtype === 'F16' ? f32ToF16(t.data as Float32Array) : new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const entry = { dtype, shape: t.shape.slice(), data_offsets: [pos, pos + bytes.byteLength] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
    bodies.push(bytes);
    pos += bytes.byteLength;
  }
  let json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const pad = (8 - (json.byteLength % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const head = new Uint8Array(8 + json.byteLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  head.set(json, 8);
  return { header: head, bodies, metadata: meta, aliases, totalBytes: head.byteLength + pos };
}

/** Serialise to one contiguous buffer (small files, tests). */
export function safetensorsToBytes(
  tensors: ReadonlyMap<string, ArrayToSave>, metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const s = serializeSafetensors(tensors, metadata);
  const out = new Uint8Array(s.totalBytes);
  out.set(s.header, 0);
  let pos = s.header.byteLength;
  for (const b of s.bodies) {
    out.set(b, pos);
    pos += b.byteLength;
  }
  return out;
}

/**
 * Write `tensors` to `path` atomically, streaming each tensor's bytes (no whole-file copy). Returns the alias map
 * (alias → stored name) of tensors written once because they share data.
 */
export function saveSafetensors(
  path: string, tensors: ReadonlyMap<string, ArrayToSave>, metadata?: Readonly<Record<string, string>>,
): Map<string, string> {
  const s = serializeSafetensors(tensors, metadata, path);
  const w = openAtomicWriter(path);
  try {
    w.write(s.header);
    for (const b of s.bodies) w.write(b);
  } catch (e) {
    w.abort();
    throw new CheckpointError(path, `write failed (${(e as Error).message})`);
  }
  w.commit();
  return s.aliases;
}
