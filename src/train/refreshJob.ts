/**
 * One index refresh (REALM §3.4: re-embed every block with a snapshot of Embed_doc and rebuild the MIPS index),
 * as a pure function of (snapshot weights, pre-tokenised blocks). The refresh worker (./refreshWorker.ts) runs it in
 * a worker thread; tests run the same function synchronously to check that the swapped-in index equals it.
 * Also: the flat weight layout used to ship a snapshot through a SharedArrayBuffer, and top-k churn.
 */
import { Rng, type Tensor } from '../engine/index.js';
import type { Index } from '../index/types.js';
import type { RealmConfig } from '../model/config.js';
import { RealmEmbedder } from '../model/embedder.js';
import { encodeBlock, lengthSortedBatches, packBatch, type RetrieverTokenizer, type TokenSeq } from '../retriever/inputs.js';
import { buildIndex, type IndexKind } from './embedCorpus.js';

/** Where each tensor of a snapshot lives in the flat Float32 buffer (names without the outer prefix). */
export interface WeightLayout {
  names: string[];
  offsets: number[];
  sizes: number[];
  /** Total floats. */
  total: number;
}

/** Layout of an embedder's parameters with the outer prefix stripped (`embedder.realm.x` → `realm.x`). */
export function weightLayout(params: ReadonlyMap<string, Tensor>, prefix: string): WeightLayout {
  const names: string[] = [];
  const offsets: number[] = [];
  const sizes: number[] = [];
  let total = 0;
  for (const [name, t] of params) {
    names.push(name.startsWith(prefix) ? name.slice(prefix.length) : name);
    offsets.push(total);
    sizes.push(t.size);
    total += t.size;
  }
  return { names, offsets, sizes, total };
}

/** Copies the parameters into a new SharedArrayBuffer (the snapshot; training may change the tensors afterwards). */
export function snapshotWeights(params: ReadonlyMap<string, Tensor>, layout: WeightLayout): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(layout.total * 4);
  const flat = new Float32Array(sab);
  let i = 0;
  for (const t of params.values()) flat.set(t.data, layout.offsets[i++]);
  return sab;
}

/** Loads a snapshot buffer into a standalone embedder (names as in `layout`). */
export function loadSnapshot(embedder: RealmEmbedder, layout: WeightLayout, buf: SharedArrayBuffer | ArrayBuffer): void {
  const flat = new Float32Array(buf);
  const params = embedder.parameters();
  layout.names.forEach((name, i) => {
    const t = params.get(name);
    if (!t || t.size !== layout.sizes[i]) throw new RangeError(`snapshot tensor ${name} does not fit the embedder`);
    t.data.set(flat.subarray(layout.offsets[i], layout.offsets[i] + layout.sizes[i]));
  });
}

/** A standalone document embedder (weights to be loaded from a snapshot). */
export function snapshotEmbedder(cfg: RealmConfig): RealmEmbedder {
  return new RealmEmbedder(cfg, new Rng(0), { init: false });
}

/** Tokenises every block once: `[CLS] title [SEP] text [SEP]` cut to blockMaxLen. */
export function tokenizeBlocks(tok: RetrieverTokenizer, blocks: ReadonlyArray<{ title: string; text: string }>, blockMaxLen: number): TokenSeq[] {
  return blocks.map((b) => encodeBlock(tok, b.title, b.text, blockMaxLen));
}

/** Embeds pre-tokenised blocks (no grad, length-sorted batches): vectors [n * dim], row i = block i. */
export function embedTokenized(embedder: RealmEmbedder, seqs: readonly TokenSeq[], padId: number, batchSize: number, onProgress?: (done: number) => void): Float32Array {
  const dim = embedder.cfg.retriever_proj_size;
  const out = new Float32Array(seqs.length * dim);
  let done = 0;
  for (const group of lengthSortedBatches(seqs.map((s) => s.ids.length), batchSize)) {
    const v = embedder.embed(packBatch(group.map((i) => seqs[i]), padId));
    group.forEach((i, r) => out.set(v.subarray(r * dim, (r + 1) * dim), i * dim));
    done += group.length;
    onProgress?.(done);
  }
  return out;
}

/** Index settings of a refresh. */
export interface RefreshIndexOptions {
  kind: IndexKind;
  flatMaxBlocks: number;
}

/** Re-embeds all blocks with `embedder` and builds the index: the whole refresh, synchronously. */
export function refreshIndex(
  embedder: RealmEmbedder, seqs: readonly TokenSeq[], padId: number, batchSize: number, opts: RefreshIndexOptions,
  onProgress?: (done: number) => void,
): { vectors: Float32Array; index: Index } {
  const vectors = embedTokenized(embedder, seqs, padId, batchSize, onProgress);
  return { vectors, index: buildIndex(vectors, embedder.cfg.retriever_proj_size, { kind: opts.kind, flatMaxBlocks: opts.flatMaxBlocks }) };
}

/** Mean fraction of each probe query's top-k ids that differ between two indexes (0 = same sets, 1 = disjoint). */
export function topkChurn(before: Index, after: Index, probes: Float32Array, k: number): number {
  const dim = before.dim;
  const nq = probes.length / dim;
  if (nq === 0) return 0;
  const kk = Math.max(1, Math.min(k, before.size, after.size));
  const a = before.search(probes, kk);
  const b = after.search(probes, kk);
  let changed = 0;
  for (let q = 0; q < nq; q++) {
    const set = new Set(Array.from(a.ids.subarray(q * kk, (q + 1) * kk)));
    let same = 0;
    for (let j = 0; j < kk; j++) if (set.has(b.ids[q * kk + j])) same++;
    changed += (kk - same) / kk;
  }
  return changed / nq;
}
