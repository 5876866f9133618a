/**
 * The corpus embedding job (REALM §3.4: every block z is embedded once with Embed_doc and searched by MIPS; the
 * index is rebuilt as the document embedder trains): batch-encodes every block with the document embedder (no
 * autograd, length-sorted batches, the native backend's GEMM threads on all cores), prints progress (blocks/s, ETA),
 * and commits the vectors in fixed-size chunks — each chunk an atomically written file `chunk-<k>.f32` — so a killed
 * job resumes at the first missing chunk. A manifest records the block count, dimension, chunk size and a fingerprint
 * of the embedder's weights; chunks written by other weights are never mixed in (the job starts over). Then the
 * vectors go into a FlatIndex or a ScannIndex (by corpus size or by flag). `reembedBlocks` recomputes a set of
 * block ids and updates an index in place (REALM's refresh of stale document embeddings).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend } from '../engine/index.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import { FlatIndex } from '../index/flat.js';
import { ScannIndex } from '../index/scann.js';
import type { Index } from '../index/types.js';
import type { RealmEmbedder } from '../model/embedder.js';
import { encodeBlock, lengthSortedBatches, packBatch, REALM_BLOCK_LEN, type RetrieverTokenizer, type TokenSeq } from '../retriever/inputs.js';
import { fmtSecs } from './ict.js';

/** Random access to the blocks to embed (a DocStore fits). */
export interface BlockSource {
  /** Number of blocks; ids are 0..size-1. */
  readonly size: number;
  /** Blocks by id (title + text). */
  getMany(ids: ArrayLike<number>): Array<{ title: string; text: string }>;
}

/** Embedding job settings. */
export interface EmbedJobConfig {
  /** Directory of the chunk files and manifest (created). */
  outDir: string;
  /** Blocks per committed chunk (the most work a kill can lose). */
  chunkSize: number;
  /** Most sequences per forward pass. */
  batchSize: number;
  /** Most padded tokens per forward pass (bounds memory for long blocks). */
  maxBatchTokens: number;
  /** Block length in wordpieces incl. specials (REALM: 288). */
  blockLen: number;
  /** GEMM threads of the native backend (default: leave the backend's setting, = all cores). */
  threads?: number;
  /** Progress line sink (default stderr); called about every `progressEvery` seconds. */
  log?: (line: string) => void;
  /** Seconds between progress lines. */
  progressEvery: number;
}

/** Defaults: 2,048-block chunks, batches of up to 64 blocks / 12k tokens. */
export const EMBED_JOB_DEFAULTS: Omit<EmbedJobConfig, 'outDir'> = {
  chunkSize: 2048, batchSize: 64, maxBatchTokens: 12288, blockLen: REALM_BLOCK_LEN, progressEvery: 5,
};

/** What the job wrote. */
export interface EmbedJobResult {
  /** All vectors, row i = block i [size * dim]. */
  vectors: Float32Array;
  /** Vector dimension (retriever_proj_size). */
  dim: number;
  /** Blocks embedded by this call (the rest came from committed chunks). */
  embeddedNow: number;
  /** Throughput of this call (blocks/s; NaN when nothing was embedded). */
  blocksPerSecond: number;
  /** Wall time of this call (s). */
  seconds: number;
}

interface Manifest {
  numBlocks: number;
  dim: number;
  chunkSize: number;
  blockLen: number;
  fingerprint: string;
}

/** FNV-1a over every parameter's bytes (names in order): identifies the weights that produced a chunk. */
export function weightsFingerprint(embedder: RealmEmbedder): string {
  let h = 0x811c9dc5;
  for (const [name, t] of embedder.parameters()) {
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    const u = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
    for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i], 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Embeds the given blocks (any order) into out[k * dim ...] for the k-th id. */
export function embedBlocks(
  embedder: RealmEmbedder, tok: RetrieverTokenizer, blocks: ReadonlyArray<{ title: string; text: string }>,
  cfg: Pick<EmbedJobConfig, 'batchSize' | 'maxBatchTokens' | 'blockLen'>,
): Float32Array {
  const dim = embedder.cfg.retriever_proj_size;
  const seqs: TokenSeq[] = blocks.map((b) => encodeBlock(tok, b.title, b.text, cfg.blockLen));
  const out = new Float32Array(blocks.length * dim);
  for (const group of lengthSortedBatches(seqs.map((s) => s.ids.length), cfg.batchSize, cfg.maxBatchTokens)) {
    const v = embedder.embed(packBatch(group.map((i) => seqs[i]), tok.padId));
    group.forEach((i, r) => out.set(v.subarray(r * dim, (r + 1) * dim), i * dim));
  }
  return out;
}

const chunkName = (k: number): string => `chunk-${String(k).padStart(6, '0')}.f32`;

/** The committed chunks of an embedding directory laid out as `m` says: the vectors [numBlocks * dim] (zeros where a
 *  chunk is missing or of the wrong size) and the chunk numbers still to embed. */
function loadCommittedChunks(dir: string, m: Manifest): { vectors: Float32Array; todo: number[] } {
  const vectors = new Float32Array(m.numBlocks * m.dim);
  const todo: number[] = [];
  for (let k = 0; k < Math.ceil(m.numBlocks / m.chunkSize); k++) {
    const p = join(dir, chunkName(k));
    const rows = Math.min(m.chunkSize, m.numBlocks - k * m.chunkSize);
    if (existsSync(p)) {
      const buf = readFileSync(p);
      if (buf.byteLength === rows * m.dim * 4) {
        vectors.set(new Float32Array(buf.buffer, buf.byteOffset, rows * m.dim), k * m.chunkSize * m.dim);
        continue;
      }
    }
    todo.push(k);
  }
  return { vectors, todo };
}

/**
 * Reads the finished vectors of an embedding job's directory without touching it (embedCorpus would delete chunks of
 * another embedder): throws unless its manifest names `fingerprint` (weightsFingerprint of the document embedder)
 * and every chunk is committed. Returns the vectors [numBlocks * dim] with the manifest's numBlocks, dim and blockLen.
 */
export function readEmbeddings(dir: string, fingerprint: string): { vectors: Float32Array; numBlocks: number; dim: number; blockLen: number } {
  const mPath = join(dir, 'manifest.json');
  if (!existsSync(mPath)) throw new Error(`readEmbeddings: ${dir} has no manifest.json (not an embedding job's directory)`);
  const m = JSON.parse(readFileSync(mPath, 'utf8')) as Manifest;
  if (m.fingerprint !== fingerprint) throw new Error(`readEmbeddings: ${dir} holds vectors of embedder ${m.fingerprint}, not ${fingerprint}`);
  const { vectors, todo } = loadCommittedChunks(dir, m);
  if (todo.length) throw new Error(`readEmbeddings: ${dir} is incomplete (${todo.length} of ${Math.ceil(m.numBlocks / m.chunkSize)} chunks missing; resume its embedding job)`);
  return { vectors, numBlocks: m.numBlocks, dim: m.dim, blockLen: m.blockLen };
}

/** Runs (or resumes) the embedding job over every block of `source`. */
export function embedCorpus(
  embedder: RealmEmbedder, tok: RetrieverTokenizer, source: BlockSource, config: Partial<EmbedJobConfig> & { outDir: string },
): EmbedJobResult {
  const cfg: EmbedJobConfig = { ...EMBED_JOB_DEFAULTS, ...config };
  const log = cfg.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (!(cfg.chunkSize >= 1 && cfg.batchSize >= 1)) throw new RangeError(`embedCorpus: chunkSize and batchSize must be >= 1`);
  if (source.size < 1) throw new RangeError('embedCorpus: the block source is empty');
  if (cfg.threads !== undefined) getBackend().setThreads(cfg.threads);
  const dim = embedder.cfg.retriever_proj_size;
  const n = source.size;
  const manifest: Manifest = { numBlocks: n, dim, chunkSize: cfg.chunkSize, blockLen: cfg.blockLen, fingerprint: weightsFingerprint(embedder) };
  mkdirSync(cfg.outDir, { recursive: true });
  const mPath = join(cfg.outDir, 'manifest.json');
  let same = false;
  if (existsSync(mPath)) {
    try {
      same = JSON.stringify(JSON.parse(readFileSync(mPath, 'utf8'))) === JSON.stringify(manifest);
    } catch {
      same = false;
    }
  }
  if (!same) {
    for (const f of readdirSync(cfg.outDir)) if (/^chunk-\d+\.f32$/.test(f)) rmSync(join(cfg.outDir, f));
    writeFileAtomicSync(mPath, `${JSON.stringify(manifest, null, 2)}\n`);
  }
  const { vectors, todo } = loadCommittedChunks(cfg.outDir, manifest);
  const nChunks = Math.ceil(n / cfg.chunkSize);
  const todoBlocks = todo.reduce((s, k) => s + Math.min(cfg.chunkSize, n - k * cfg.chunkSize), 0);
  if (todo.length < nChunks) log(`embed: resuming, ${nChunks - todo.length}/${nChunks} chunks already committed`);
  const t0 = performance.now();
  let done = 0;
  let lastLog = t0;
  let lastDone = 0;
  for (const k of todo) {
    const lo = k * cfg.chunkSize;
    const hi = Math.min(n, lo + cfg.chunkSize);
    const ids = Int32Array.from({ length: hi - lo }, (_, i) => lo + i);
    const v = embedBlocks(embedder, tok, source.getMany(ids), cfg);
    writeFileAtomicSync(join(cfg.outDir, chunkName(k)), new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    vectors.set(v, lo * dim);
    done += hi - lo;
    const now = performance.now();
    if ((now - lastLog) / 1000 >= cfg.progressEvery || done === todoBlocks) {
      const rate = done / ((now - t0) / 1000);
      const recent = (done - lastDone) / ((now - lastLog) / 1000);
      lastLog = now;
      lastDone = done;
      log(`embed: ${done + (n - todoBlocks)}/${n} blocks  ${rate.toFixed(1)} blocks/s (last ${recent.toFixed(1)})  ETA ${fmtSecs((todoBlocks - done) / rate)}`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return { vectors, dim, embeddedNow: done, blocksPerSecond: done > 0 ? done / seconds : NaN, seconds };
}

/** Index kind: 'flat' (exact), 'scann', or 'auto' (flat up to `flatMaxBlocks`, ScaNN above). */
export type IndexKind = 'flat' | 'scann' | 'auto';

/** Puts vectors (row i = id i unless `ids` given) into a new FlatIndex or ScannIndex. */
export function buildIndex(
  vectors: Float32Array, dim: number, opts: { kind?: IndexKind; flatMaxBlocks?: number; ids?: ArrayLike<number> } = {},
): Index {
  const n = vectors.length / dim;
  const ids = opts.ids ?? Uint32Array.from({ length: n }, (_, i) => i);
  const kind = opts.kind ?? 'auto';
  const useFlat = kind === 'flat' || (kind === 'auto' && n <= (opts.flatMaxBlocks ?? 200_000));
  if (useFlat) {
    const idx = new FlatIndex({ dim });
    idx.add(ids, vectors);
    return idx;
  }
  return ScannIndex.build(vectors, ids, { dim });
}

/**
 * REALM's refresh for a subset: re-embeds `ids` with the current document embedder and, when an index is given,
 * replaces their vectors in it. Returns the new vectors [ids.length * dim].
 */
export function reembedBlocks(
  embedder: RealmEmbedder, tok: RetrieverTokenizer, source: BlockSource, ids: ArrayLike<number>, index?: Index,
  cfg: Partial<Pick<EmbedJobConfig, 'batchSize' | 'maxBatchTokens' | 'blockLen'>> = {},
): Float32Array {
  for (let i = 0; i < ids.length; i++) {
    if (!Number.isInteger(ids[i]) || ids[i] < 0 || ids[i] >= source.size) throw new RangeError(`reembedBlocks: block id ${ids[i]} out of range [0, ${source.size})`);
  }
  const v = embedBlocks(embedder, tok, source.getMany(ids), { ...EMBED_JOB_DEFAULTS, ...cfg });
  if (index) index.update(ids, v);
  return v;
}
