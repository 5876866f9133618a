// Held-out salient-span examples of a REALM pre-training run (issue 6 evaluation): the run's example cache
// (examples-salient-*.json, written by src/train/realmData.ts) filtered to the blocks of the documents in heldout.json,
// i.e. documents kept out of every training stage by the hash split. Shared by bench/pretrain-eval.ts and
// bench/pretrain-bm25.ts so both score the same sentences; bench/reader-copy.ts also trains on the other examples.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/engine/index.js';
import type { RealmExample } from '../../src/realm/batch.js';

/** One cached example as realmData.ts writes it. */
interface CachedExample { ids: number[]; labels: number[]; answer: string; block: number }

/** A run's salient example cache, split by heldout.json's blocks into held-out and training examples. */
function splitCache(run: string): { held: RealmExample[]; train: RealmExample[]; cache: string; heldDocs: number } {
  const heldOut = JSON.parse(readFileSync(join(run, 'heldout.json'), 'utf8')) as { blockIds: number[]; docIds: string[] };
  const caches = readdirSync(run).filter((f) => /^examples-salient-.*\.json$/.test(f));
  if (caches.length !== 1) throw new Error(`${run}: expected one examples-salient-*.json cache, found ${caches.length}`);
  const blocks = new Set(heldOut.blockIds);
  const raw = JSON.parse(readFileSync(join(run, caches[0]), 'utf8')) as CachedExample[];
  const held: RealmExample[] = [];
  const train: RealmExample[] = [];
  for (const r of raw) {
    const e = { inputIds: Int32Array.from(r.ids), labels: Int32Array.from(r.labels), answer: r.answer, sourceBlockId: r.block };
    (blocks.has(r.block) ? held : train).push(e);
  }
  return { held, train, cache: caches[0], heldDocs: heldOut.docIds.filter((d) => !d.startsWith('wn:')).length };
}

/** The held-out salient examples of a run: its example cache filtered to heldout.json's blocks. */
export function heldOutExamples(run: string): { examples: RealmExample[]; cache: string; heldDocs: number } {
  const { held, cache, heldDocs } = splitCache(run);
  return { examples: held, cache, heldDocs };
}

/** The run's training examples (every cached example whose block is not held out). */
export function trainingExamples(run: string): RealmExample[] {
  return splitCache(run).train;
}

/**
 * The evaluated sample: the first min(maxN, pool) examples of a seeded permutation of the held-out pool ('test', the
 * headline), or the rest of the pool ('validation': for choosing a recipe without reading the headline sentences).
 */
export function heldOutSample(
  run: string, maxN: number, seed: number, split: 'test' | 'validation' = 'test',
): { examples: RealmExample[]; pool: number; cache: string; heldDocs: number } {
  const { examples: all, cache, heldDocs } = heldOutExamples(run);
  const perm = new Rng(seed).permutation(all.length);
  const cut = Math.min(maxN, all.length);
  const examples = Array.from(split === 'test' ? perm.subarray(0, cut) : perm.subarray(cut), (i) => all[i]);
  return { examples, pool: all.length, cache, heldDocs };
}
