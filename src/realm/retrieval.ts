/**
 * Retrieval inside the pre-training loop (Guu et al. 2020, §3.4): the query vectors Embed_input(x) search the MIPS
 * index of (possibly stale) document vectors for the top k blocks; only the CHOICE of blocks comes from the index —
 * the model recomputes their scores with the current embedders so both receive gradients (./model.ts).
 *
 * "No trivial retrievals" (§3.4): when x comes from the knowledge corpus itself, the block it was taken from is
 * excluded from its results (optionally every block of the same document). The search asks for k plus the number of
 * excluded ids, and widens the search if filtering still leaves fewer than k (up to the whole index).
 */
import { NO_ID, type Index } from '../index/types.js';
import { RealmInputError, type RealmExample } from './batch.js';

/** Top-k blocks of each query from the index, best first. */
export interface Retrieved {
  /** Block ids per query [B][≤k]. */
  ids: number[][];
  /** The index's (stale) scores, parallel to ids (NaN for a candidate that did not come from the index). */
  staleScores: number[][];
}

/**
 * Searches `index` with query vectors [B * dim] and returns each query's top k ids after dropping `exclude[b]`.
 * A query gets fewer than k ids only when the index has fewer than k eligible blocks.
 */
export function retrieveForBatch(
  queries: Float32Array, index: Index, k: number, exclude?: ReadonlyArray<Iterable<number> | null | undefined> | null,
): Retrieved {
  if (!Number.isInteger(k) || k < 1) throw new RealmInputError(`retrieveForBatch: k must be a positive integer (got ${k})`);
  const dim = index.dim;
  if (queries.length % dim !== 0) throw new RealmInputError(`retrieveForBatch: ${queries.length} query values are not a multiple of the index dim ${dim}`);
  const B = queries.length / dim;
  if (exclude && exclude.length !== B) throw new RealmInputError(`retrieveForBatch: ${exclude.length} exclusion lists for ${B} queries`);
  const ex = Array.from({ length: B }, (_, b) => new Set(exclude?.[b] ?? []));
  const ids: number[][] = Array.from({ length: B }, () => []);
  const staleScores: number[][] = Array.from({ length: B }, () => []);
  let pending = Array.from({ length: B }, (_, b) => b);
  let maxEx = 0;
  for (const s of ex) maxEx = Math.max(maxEx, s.size);
  let kSearch = Math.min(index.size, k + maxEx);
  while (pending.length > 0 && kSearch > 0) {
    const q = new Float32Array(pending.length * dim);
    pending.forEach((b, i) => q.set(queries.subarray(b * dim, (b + 1) * dim), i * dim));
    const res = index.search(q, kSearch);
    const still: number[] = [];
    pending.forEach((b, i) => {
      const got: number[] = [];
      const sc: number[] = [];
      for (let j = 0; j < kSearch && got.length < k; j++) {
        const id = res.ids[i * kSearch + j];
        if (id === NO_ID || ex[b].has(id)) continue;
        got.push(id);
        sc.push(res.scores[i * kSearch + j]);
      }
      ids[b] = got;
      staleScores[b] = sc;
      if (got.length < k && kSearch < index.size) still.push(b);
    });
    pending = still;
    kSearch = Math.min(index.size, kSearch * 2);
  }
  return { ids, staleScores };
}

/** Which retrievals count as trivial for an example from the corpus. */
export type ExclusionMode = 'none' | 'block' | 'document';

/** Block ids grouped by source document, for excluding every block of x's document. */
export class DocumentGroups {
  private readonly docOf: readonly string[];
  private readonly blocksOf = new Map<string, number[]>();

  /** `docIdOfBlock[i]` = document id of block i (e.g. DocStore blocks' docId). */
  constructor(docIdOfBlock: readonly string[]) {
    this.docOf = docIdOfBlock;
    docIdOfBlock.forEach((d, i) => {
      let list = this.blocksOf.get(d);
      if (!list) this.blocksOf.set(d, (list = []));
      list.push(i);
    });
  }

  /** Every block of the document that block `id` belongs to (including it). */
  sameDocument(id: number): readonly number[] {
    const d = this.docOf[id];
    if (d === undefined) throw new RealmInputError(`DocumentGroups: unknown block id ${id}`);
    return this.blocksOf.get(d)!;
  }
}

/** Exclusion lists of a batch: nothing, each example's source block, or all blocks of its source document. */
export function exclusionsFor(examples: readonly RealmExample[], mode: ExclusionMode, groups?: DocumentGroups): Array<number[] | null> {
  return examples.map((e, i) => {
    if (mode === 'none' || e.sourceBlockId === undefined) return null;
    if (mode === 'block') return [e.sourceBlockId];
    if (mode === 'document') {
      if (!groups) throw new RealmInputError(`exclusionsFor: mode 'document' needs DocumentGroups (example ${i})`);
      return [...groups.sameDocument(e.sourceBlockId)];
    }
    throw new RealmInputError(`exclusionsFor: unknown mode "${String(mode)}"`);
  });
}
