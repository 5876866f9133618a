// On-disk document store of retrieval blocks with random access by block id, so the MIPS index holds only
// ids + vectors (REALM §3.4: the index maps block ids to embeddings; the text is fetched for the reader).
// Format (one file, little-endian, own format rather than a native SQLite binding: no compile step, one pread
// per lookup, and a single rename makes the build atomic):
//   header (64 B): magic "RLMDOCS\0", u32 version=1, u32 flags=0, u64 count, u64 offsetsPos,
//                  u32 crc32(records), u32 crc32(offsets), u32 crc32(header bytes 0..40), zero padding
//   records:       per block: u32 crc32(rest of record), u32 start, u32 end, u32 docIdBytes, u32 titleBytes,
//                  docId, title, text (UTF-8; text runs to the next offset)
//   offsets:       (count + 1) × u64 absolute record positions; the last one equals offsetsPos
// The builder writes a temp file, fsyncs it, renames it over the target and fsyncs the directory.
import { closeSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync, fstatSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Block } from './blocks.js';
import { CorpusError } from './types.js';

const MAGIC = Buffer.from('RLMDOCS\0', 'latin1');
const VERSION = 1;
const HEADER_BYTES = 64;
const RECORD_HEAD = 20;
const FLUSH_BYTES = 4 << 20;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A block as stored and returned by the document store. */
export interface StoredBlock extends Block {
  /** Position of the block in the store, 0..size-1. */
  blockId: number;
}

/** Streaming writer of a document store; blocks get ids 0, 1, 2, ... in the order they are added. */
export class DocStoreWriter {
  private readonly tmp: string;
  private fd: number;
  private pos = HEADER_BYTES;
  private readonly offsets: number[] = [];
  private dataCrc = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(readonly path: string) {
    this.tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
    try {
      this.fd = openSync(this.tmp, 'w');
    } catch (e) {
      throw new CorpusError(`cannot create document store ${path}: ${(e as Error).message}`, path);
    }
    writeSync(this.fd, Buffer.alloc(HEADER_BYTES), 0, HEADER_BYTES, 0);
  }

  /** Number of blocks added so far. */
  get size(): number {
    return this.offsets.length;
  }

  /** Appends one block; returns its block id. */
  add(block: Block): number {
    if (this.fd < 0) throw new CorpusError(`document store ${this.path} is already finished`, this.path);
    if (!Number.isInteger(block.start) || !Number.isInteger(block.end) || block.start < 0 || block.end < block.start || block.end > 0xffffffff) {
      throw new CorpusError(`block of document ${block.docId}: bad offsets [${block.start}, ${block.end})`, this.path);
    }
    for (const f of [block.docId, block.title, block.text]) {
      if (LONE_SURROGATE.test(f)) throw new CorpusError(`block of document ${block.docId}: text has a lone surrogate (cannot be stored as UTF-8)`, this.path);
    }
    const id = Buffer.from(block.docId, 'utf8');
    const title = Buffer.from(block.title, 'utf8');
    const text = Buffer.from(block.text, 'utf8');
    const rec = Buffer.allocUnsafe(RECORD_HEAD + id.length + title.length + text.length);
    rec.writeUInt32LE(block.start, 4);
    rec.writeUInt32LE(block.end, 8);
    rec.writeUInt32LE(id.length, 12);
    rec.writeUInt32LE(title.length, 16);
    id.copy(rec, RECORD_HEAD);
    title.copy(rec, RECORD_HEAD + id.length);
    text.copy(rec, RECORD_HEAD + id.length + title.length);
    rec.writeUInt32LE(crc32(rec.subarray(4)), 0);
    this.offsets.push(this.pos);
    this.pos += rec.length;
    this.dataCrc = crc32(rec, this.dataCrc);
    this.pending.push(rec);
    this.pendingBytes += rec.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    return this.offsets.length - 1;
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const buf = Buffer.concat(this.pending, this.pendingBytes);
    writeSync(this.fd, buf, 0, buf.length, this.pos - buf.length);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Writes offsets and header, fsyncs and atomically renames the file into place. */
  finish(): void {
    this.flush();
    const count = this.offsets.length;
    const offsets = Buffer.alloc(8 * (count + 1));
    for (let i = 0; i < count; i++) offsets.writeBigUInt64LE(BigInt(this.offsets[i]), 8 * i);
    offsets.writeBigUInt64LE(BigInt(this.pos), 8 * count);
    writeSync(this.fd, offsets, 0, offsets.length, this.pos);
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.writeUInt32LE(VERSION, 8);
    header.writeBigUInt64LE(BigInt(count), 16);
    header.writeBigUInt64LE(BigInt(this.pos), 24);
    header.writeUInt32LE(this.dataCrc, 32);
    header.writeUInt32LE(crc32(offsets), 36);
    header.writeUInt32LE(crc32(header.subarray(0, 40)), 40);
    writeSync(this.fd, header, 0, HEADER_BYTES, 0);
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
    renameSync(this.tmp, this.path);
    try {
      const dfd = openSync(dirname(this.path), 'r');
      fsyncSync(dfd);
      closeSync(dfd);
    } catch {
      // directory fsync is not supported everywhere; the rename itself is still atomic
    }
  }

  /** Discards the temp file (after an error). */
  abort(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    try {
      unlinkSync(this.tmp);
    } catch {
      // already gone
    }
  }
}

/** Builds a document store from a stream of blocks; returns the number of blocks written. */
export async function buildDocStore(path: string, blocks: AsyncIterable<Block> | Iterable<Block>): Promise<number> {
  const w = new DocStoreWriter(path);
  try {
    for await (const b of blocks) w.add(b);
    w.finish();
    return w.size;
  } catch (e) {
    w.abort();
    throw e;
  }
}

/** Read-only random access to a document store file (positional reads, nothing loaded but the offsets). */
export class DocStore implements Iterable<StoredBlock> {
  private fd: number;
  private readonly offsets: Float64Array;
  private readonly dataCrc: number;

  private constructor(readonly path: string, fd: number, offsets: Float64Array, dataCrc: number) {
    this.fd = fd;
    this.offsets = offsets;
    this.dataCrc = dataCrc;
  }

  /** Opens and validates a store (header, sizes, offsets checksum); `verify` also checksums every record. */
  static open(path: string, options: { verify?: boolean } = {}): DocStore {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new CorpusError(`cannot open document store ${path}: ${(e as Error).message}`, path);
    }
    try {
      const fileBytes = fstatSync(fd).size;
      const bad = (what: string): CorpusError => new CorpusError(`document store ${path} is corrupt or truncated: ${what}`, path);
      if (fileBytes < HEADER_BYTES) throw bad(`file has ${fileBytes} bytes, shorter than the ${HEADER_BYTES}-byte header`);
      const header = Buffer.alloc(HEADER_BYTES);
      readSync(fd, header, 0, HEADER_BYTES, 0);
      if (!header.subarray(0, 8).equals(MAGIC)) throw bad('bad magic (not a realm-lm document store)');
      if (header.readUInt32LE(40) !== crc32(header.subarray(0, 40))) throw bad('header checksum mismatch');
      const version = header.readUInt32LE(8);
      if (version !== VERSION) throw new CorpusError(`document store ${path}: unsupported version ${version} (expected ${VERSION})`, path);
      const count = Number(header.readBigUInt64LE(16));
      const offsetsPos = Number(header.readBigUInt64LE(24));
      const expected = offsetsPos + 8 * (count + 1);
      if (fileBytes !== expected) throw bad(`file has ${fileBytes} bytes, header implies ${expected}`);
      const raw = Buffer.alloc(8 * (count + 1));
      readSync(fd, raw, 0, raw.length, offsetsPos);
      if (crc32(raw) !== header.readUInt32LE(36)) throw bad('offsets checksum mismatch');
      const offsets = new Float64Array(count + 1);
      for (let i = 0; i <= count; i++) {
        offsets[i] = Number(raw.readBigUInt64LE(8 * i));
        const prev = i === 0 ? HEADER_BYTES : offsets[i - 1] + RECORD_HEAD;
        if (offsets[i] < prev) throw bad(`offset of block ${i} out of order`);
      }
      if (count > 0 && (offsets[0] !== HEADER_BYTES || offsets[count] !== offsetsPos)) throw bad('offsets do not span the records');
      const store = new DocStore(path, fd, offsets, header.readUInt32LE(32));
      if (options.verify) store.verify();
      return store;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Number of blocks. */
  get size(): number {
    return this.offsets.length - 1;
  }

  /** Recomputes the checksum of all records; throws a CorpusError on mismatch. */
  verify(): void {
    let crc = 0;
    const end = this.offsets[this.size];
    const buf = Buffer.alloc(FLUSH_BYTES);
    for (let pos = HEADER_BYTES; pos < end; ) {
      const n = readSync(this.fd, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n <= 0) throw new CorpusError(`document store ${this.path}: unexpected end of file at byte ${pos}`, this.path);
      crc = crc32(buf.subarray(0, n), crc);
      pos += n;
    }
    if (crc !== this.dataCrc) throw new CorpusError(`document store ${this.path} is corrupt: records checksum mismatch`, this.path);
  }

  private decode(blockId: number, rec: Buffer): StoredBlock {
    if (rec.readUInt32LE(0) !== crc32(rec.subarray(4))) {
      throw new CorpusError(`document store ${this.path} is corrupt: checksum mismatch in block ${blockId}`, this.path);
    }
    const idLen = rec.readUInt32LE(12);
    const titleLen = rec.readUInt32LE(16);
    if (RECORD_HEAD + idLen + titleLen > rec.length) {
      throw new CorpusError(`document store ${this.path} is corrupt: bad field lengths in block ${blockId}`, this.path);
    }
    const a = RECORD_HEAD + idLen;
    const b = a + titleLen;
    return {
      blockId,
      docId: rec.toString('utf8', RECORD_HEAD, a),
      title: rec.toString('utf8', a, b),
      text: rec.toString('utf8', b),
      start: rec.readUInt32LE(4),
      end: rec.readUInt32LE(8),
    };
  }

  private checkId(blockId: number): void {
    if (!Number.isInteger(blockId) || blockId < 0 || blockId >= this.size) {
      throw new RangeError(`document store ${this.path}: block id ${blockId} out of range [0, ${this.size})`);
    }
    if (this.fd < 0) throw new CorpusError(`document store ${this.path} is closed`, this.path);
  }

  /** The block with this id (one positional read). */
  get(blockId: number): StoredBlock {
    this.checkId(blockId);
    const pos = this.offsets[blockId];
    const len = this.offsets[blockId + 1] - pos;
    const rec = Buffer.allocUnsafe(len);
    const n = readSync(this.fd, rec, 0, len, pos);
    if (n !== len) throw new CorpusError(`document store ${this.path}: short read of block ${blockId}`, this.path);
    return this.decode(blockId, rec);
  }

  /** The blocks with these ids, in the given order. */
  getMany(blockIds: ArrayLike<number>): StoredBlock[] {
    const out: StoredBlock[] = [];
    for (let i = 0; i < blockIds.length; i++) out.push(this.get(blockIds[i]));
    return out;
  }

  /** Iterates all blocks in id order from `from` (sequential reads in large chunks). */
  *iterate(from = 0): Generator<StoredBlock> {
    let buf = Buffer.alloc(FLUSH_BYTES);
    let i = from;
    while (i < this.size) {
      if (this.fd < 0) throw new CorpusError(`document store ${this.path} is closed`, this.path);
      const start = this.offsets[i];
      let j = i + 1;
      while (j < this.size && this.offsets[j + 1] - start <= buf.length) j++;
      const len = this.offsets[j] - start;
      if (len > buf.length) buf = Buffer.alloc(len);
      readSync(this.fd, buf, 0, len, start);
      for (let k = i; k < j; k++) {
        yield this.decode(k, buf.subarray(this.offsets[k] - start, this.offsets[k + 1] - start));
      }
      i = j;
    }
  }

  [Symbol.iterator](): Generator<StoredBlock> {
    return this.iterate(0);
  }

  /** Releases the file descriptor. */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
