/**
 * Pre-training data of REALM (Guu et al. 2020 §3.4): the knowledge corpus cut into blocks (a document store), and
 * masked examples made from the blocks' own sentences — one salient span (entity or date) per sentence, or the
 * random-span / random-token ablations — each remembering its source block so retrieval can exclude it ("no trivial
 * retrievals"). Masking runs the NER tagger (~10 ms per sentence), so the example pool is built once per run with a
 * seeded generator and cached as JSON in the output directory; training samples from it in a seeded epoch order.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cutCorpus } from '../corpus/blocks.js';
import { buildDocStore, DocStore } from '../corpus/docstore.js';
import type { CorpusDoc } from '../corpus/types.js';
import { Rng } from '../engine/index.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import type { RealmExample } from '../realm/batch.js';
import { MASKING_DEFAULTS, maskPassage, type MaskingStrategy } from '../realm/masking.js';
import type { BertTokenizer } from '../tokenizer/bertTokenizer.js';

/** Builds `<dir>/blocks.docs` from documents (blocks of at most `blockMaxLen` wordpieces) unless it exists. */
export async function ensureDocStore(path: string, docs: readonly CorpusDoc[], tok: BertTokenizer, blockMaxLen: number, log: (l: string) => void): Promise<DocStore> {
  if (!existsSync(path)) {
    async function* gen(): AsyncGenerator<CorpusDoc> {
      yield* docs;
    }
    const n = await buildDocStore(path, cutCorpus(gen(), tok, { maxTokens: blockMaxLen, maxTitleTokens: Math.min(32, blockMaxLen - 20) }));
    log(`blocks: ${n} blocks of <= ${blockMaxLen} wordpieces from ${docs.length} documents → ${path}`);
  }
  return DocStore.open(path);
}

interface CachedExample {
  ids: number[];
  labels: number[];
  answer: string;
  block: number;
}

/** Masked examples from every block's sentences (cached in `cacheDir`). */
export function buildExamples(
  store: DocStore, tok: BertTokenizer, strategy: MaskingStrategy, maxTokens: number, seed: number, cacheDir: string, log: (l: string) => void,
  blockIds: Int32Array | null = null,
): RealmExample[] {
  mkdirSync(cacheDir, { recursive: true });
  const sub = blockIds ? `-sub${blockIds.length}x${fnv1a(Array.from(blockIds).join(','))}` : '';
  const cache = join(cacheDir, `examples-${strategy}-${maxTokens}-${seed}-${store.size}${sub}.json`);
  const ids = blockIds ?? Int32Array.from({ length: store.size }, (_, i) => i);
  let raw: CachedExample[];
  if (existsSync(cache)) {
    raw = JSON.parse(readFileSync(cache, 'utf8')) as CachedExample[];
  } else {
    const rng = new Rng(seed);
    const cfg = { ...MASKING_DEFAULTS, strategy, maxTokens };
    raw = [];
    const t0 = performance.now();
    let last = t0;
    for (let i = 0; i < ids.length; i++) {
      const b = ids[i];
      for (const ex of maskPassage(store.get(b).text, tok, rng, cfg)) {
        raw.push({ ids: Array.from(ex.inputIds), labels: Array.from(ex.labels), answer: ex.answer, block: b });
      }
      const now = performance.now();
      if (now - last > 5000) {
        last = now;
        log(`examples: ${i + 1}/${ids.length} blocks masked, ${raw.length} examples, ETA ${Math.round(((now - t0) / (i + 1)) * (ids.length - i - 1) / 1000)} s`);
      }
    }
    writeFileAtomicSync(cache, JSON.stringify(raw));
    log(`examples: ${raw.length} ${strategy}-masked sentences from ${ids.length} blocks → ${cache}`);
  }
  if (raw.length === 0) throw new RangeError(`no ${strategy}-masked example could be made from the corpus (too few sentences or spans)`);
  return raw.map((r) => ({ inputIds: Int32Array.from(r.ids), labels: Int32Array.from(r.labels), answer: r.answer, sourceBlockId: r.block }));
}

/** 32-bit FNV-1a hash of a string's UTF-16 code units. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** True when document `docId` is held out: FNV-1a hash of the id below `fraction` of the 32-bit range. */
export function isHeldOut(docId: string, fraction: number): boolean {
  return fnv1a(docId) / 4294967296 < fraction;
}

/**
 * The blocks whose sentences are masked when only `maxTrain` training blocks are wanted (salient masking costs
 * ~10-70 ms per passage): every held-out block of a document matching `heldoutDocs` (e.g. not WordNet) plus a seeded
 * sample of `maxTrain` other blocks, ascending. `maxTrain` 0 = every block.
 */
export function exampleBlockIds(docIds: readonly string[], fraction: number, maxTrain: number, seed: number, heldoutDocs: (docId: string) => boolean = () => true): Int32Array | null {
  if (maxTrain <= 0) return null;
  const held: number[] = [];
  const train: number[] = [];
  docIds.forEach((d, b) => {
    if (fraction > 0 && isHeldOut(d, fraction)) {
      if (heldoutDocs(d)) held.push(b);
    } else train.push(b);
  });
  const perm = new Rng(seed * 7919 + 13).permutation(train.length);
  const picked = Array.from(perm.subarray(0, Math.min(maxTrain, train.length)), (i) => train[i]);
  return Int32Array.from([...held, ...picked]).sort();
}

/**
 * Splits examples into training and held-out ones by their source block's document, and writes
 * `<dir>/heldout.json` ({ fraction, docIds, blockIds, examples }) for the evaluation.
 */
export function splitHeldOut(examples: readonly RealmExample[], store: DocStore, fraction: number, dir: string): RealmExample[] {
  if (fraction <= 0) return examples.slice();
  const docOf = (b: number): string => store.get(b).docId;
  const held = new Set<number>();
  const docIds = new Set<string>();
  for (let b = 0; b < store.size; b++) {
    const d = docOf(b);
    if (isHeldOut(d, fraction)) {
      held.add(b);
      docIds.add(d);
    }
  }
  const train = examples.filter((e) => e.sourceBlockId === undefined || !held.has(e.sourceBlockId));
  if (train.length === 0) throw new RangeError(`data.heldoutFraction ${fraction} leaves no training example`);
  writeFileAtomicSync(join(dir, 'heldout.json'), `${JSON.stringify({
    fraction, docIds: [...docIds], blockIds: [...held], examples: examples.length - train.length,
  })}\n`);
  return train;
}

/** Seeded epoch order over n items: the cursor (epoch, pos) alone determines the next item. */
export class EpochSampler {
  private order: Int32Array;
  epoch = 0;
  pos = 0;

  constructor(readonly n: number, readonly seed: number) {
    if (n < 1) throw new RangeError('EpochSampler: nothing to sample');
    this.order = this.orderOf(0);
  }

  private orderOf(epoch: number): Int32Array {
    return new Rng(this.seed * 1000003 + epoch).permutation(this.n);
  }

  /** Next item index. */
  next(): number {
    if (this.pos >= this.n) {
      this.epoch++;
      this.pos = 0;
      this.order = this.orderOf(this.epoch);
    }
    return this.order[this.pos++];
  }

  /** Moves to a saved position. */
  seek(epoch: number, pos: number): void {
    if (!Number.isInteger(epoch) || !Number.isInteger(pos) || epoch < 0 || pos < 0 || pos > this.n) {
      throw new RangeError(`EpochSampler: bad cursor (epoch ${epoch}, pos ${pos})`);
    }
    this.epoch = epoch;
    this.pos = pos;
    this.order = this.orderOf(epoch);
  }
}
