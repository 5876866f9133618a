/**
 * Held-out evaluation of a pre-trained REALM (Guu et al. 2020 §4, the masked-LM view of its ablations): for masked
 * examples x (each remembering its source block), retrieve the top k blocks excluding trivial ones (the source block,
 * or every block of its document), score them with the current embedders, add the null document, and predict the
 * whole masked span y by the marginal p(y|x) = Σ_z p(z|x) p(y|z,x) (candidates: each candidate document's top
 * fillings, ./spanDistribution.ts, as src/realm/fill.ts does). An example is correct when the best span equals the original wordpieces.
 * Retrieval utility: whether the answer string occurs (case-insensitive) in the top-1 / any of the top-k blocks.
 */
import { noGrad } from '../engine/index.js';
import type { Index } from '../index/types.js';
import { maskedPositionsOf, type BlockTextSource, type BlockTokenCache, type BlockTokens, type RealmExample } from './batch.js';
import type { JointRow } from './kaEncoder.js';
import { withLexicalCandidates, type LexicalCandidates } from './lexical.js';
import { logSumExp64 } from './loss.js';
import { marginalLogProb, rankFillings, type SpanDistribution } from './spanDistribution.js';
import type { RealmPretrainModel } from './model.js';
import { exclusionsFor, retrieveForBatch, type DocumentGroups, type ExclusionMode } from './retrieval.js';

/** Evaluation settings. */
export interface HeldOutEvalOptions {
  /** Blocks retrieved per example (0 = null document only). */
  k: number;
  /** Trivial retrievals dropped ('none' = the copying upper bound). */
  exclude: ExclusionMode;
  /** Block → document groups (needed for exclude 'document'). */
  groups?: DocumentGroups;
  /** Examples per forward batch. */
  batchSize?: number;
  /** Candidate spans per document. */
  beam?: number;
  /** Called after each batch with the number of examples done. */
  onProgress?: (done: number) => void;
  /**
   * Diagnostic: candidate blocks per example (best first, exclusions already applied) from another retriever, e.g.
   * BM25, instead of the index; the model's embedders still score them (p(z|x)), so this isolates the reader.
   */
  candidates?: (batch: readonly RealmExample[]) => number[][];
  /** BM25 source for the lexical candidates added to the index's top k (as in training, ./lexical.ts). */
  lexical?: LexicalCandidates;
  /** How many lexical candidates per example (default: the model's `lexicalCandidates`; 0 = index only). */
  lexicalCandidates?: number;
  /** Diagnostic: p(z|x) = softmax(scores / T) (default 1; > 1 flattens the retrieval prior, null document included). */
  priorTemperature?: number;
  /** Diagnostic: called per example with what its prediction was made from (bench/pretrain-oracle.ts). */
  onExample?: (view: HeldOutExampleView) => void;
}

/** One evaluated example's candidates in candidate order: the null document first (when the model has one), then the retrieved blocks. */
export interface HeldOutExampleView {
  example: RealmExample;
  /** Retrieved block ids (without the null document). */
  ids: readonly number[];
  /** log p(z|x) per candidate [C] (after priorTemperature). */
  logPz: readonly number[];
  /** p(y|z,x) per candidate [C]. */
  dists: readonly SpanDistribution[];
  /** Per candidate [C]: whether its block contains the answer string (false for the null document). */
  hasAnswer: readonly boolean[];
  /** The true filling of the masked positions. */
  truth: readonly number[];
  /** Whether the prediction (the best filling under logPz) equals the truth. */
  correct: boolean;
}

/** Aggregate results. */
export interface HeldOutEvalResult {
  /** Examples evaluated. */
  n: number;
  /** Share whose whole masked span is predicted exactly. */
  accuracy: number;
  /** Share whose answer string occurs in the top-1 retrieved block (title + text); null when k = 0. */
  top1Contains: number | null;
  /** Share whose answer string occurs in any of the retrieved blocks (top k, plus lexical candidates); null when k = 0. */
  topkContains: number | null;
  /** Mean p(∅|x). */
  meanNullProb: number;
  /** Mean log p(y|x) of the true span. */
  meanLogPy: number;
  /** Per example (in order): 1 when the whole span was predicted exactly. */
  correct: number[];
  /** Per example: 1 when the answer string occurs in a candidate block; null when k = 0. */
  answerInCandidate: number[] | null;
}

/** Retrieval utility: the (non-empty) answer string occurs in the block's title + text, case-insensitive. */
export function blockContainsAnswer(block: { title: string; text: string }, answer: string | undefined): boolean {
  const ans = (answer ?? '').toLowerCase();
  return ans.length > 0 && `${block.title}\n${block.text}`.toLowerCase().includes(ans);
}

/** Evaluates `model` on held-out examples (see the file comment). `index` may be null when k = 0. */
export function evaluateHeldOut(
  model: RealmPretrainModel, examples: readonly RealmExample[], index: Index | null, blocks: Pick<BlockTokenCache, 'get'>,
  texts: BlockTextSource, banned: (id: number) => boolean, opts: HeldOutEvalOptions,
): HeldOutEvalResult {
  const bs = opts.batchSize ?? 8;
  const beam = opts.beam ?? 5;
  const useNull = model.opts.nullDocument;
  if (opts.k > 0 && !index && !opts.candidates) throw new RangeError('evaluateHeldOut: k > 0 needs an index (or candidates)');
  const m = opts.k > 0 && !opts.candidates ? opts.lexicalCandidates ?? model.opts.lexicalCandidates : 0;
  const temperature = opts.priorTemperature ?? 1;
  let correct = 0;
  let top1 = 0;
  let topk = 0;
  let nullSum = 0;
  const correctFlags: number[] = [];
  const inCandFlags: number[] = [];
  let logPySum = 0;
  for (let s = 0; s < examples.length; s += bs) {
    const batch = examples.slice(s, s + bs);
    noGrad(() => {
      const q = model.embedQueries(batch, false); // [B, P]
      const exclude = opts.k > 0 && !opts.candidates ? exclusionsFor(batch, opts.exclude, opts.groups) : null;
      const mips = opts.k <= 0 ? batch.map(() => [])
        : opts.candidates ? opts.candidates(batch).map((c) => c.slice(0, opts.k))
          : retrieveForBatch(q.data.slice(), index!, opts.k, exclude).ids;
      const ids = withLexicalCandidates(mips, batch, m, opts.lexical, exclude, 'evaluateHeldOut');
      const unique = [...new Set(ids.flat())];
      const toks = unique.length ? blocks.get(unique) : [];
      const slot = new Map(unique.map((id, i) => [id, i]));
      const d = toks.length ? model.embedBlocks(toks, false).data : new Float32Array(0); // [U, P]
      const rows: JointRow[] = [];
      const lex = model.lexicalTerms(batch, ids, opts.lexical, 'evaluateHeldOut'); // w·BM25(x, z) (0 when off)
      const per = batch.map((e, b) => {
        const positions = maskedPositionsOf(e);
        const cands: Array<BlockTokens | null> = [...(useNull ? [null] : []), ...ids[b].map((id) => toks[slot.get(id)!])];
        const scores = useNull ? [model.nullScore.data[0]] : [];
        ids[b].forEach((id, j) => scores.push(model.relevance(q.data, b, d, slot.get(id)!) + lex[b][j]));
        for (const block of cands) rows.push({ x: e.inputIds, block, positions });
        return { positions, scores, C: cands.length };
      });
      const dists = model.encoder.spanDistributions(model.tok, rows, model.opts.jointMaxLen); // p(y|z,x) per row
      let off = 0;
      batch.forEach((e, b) => {
        const { positions, scores, C } = per[b];
        const tempered = temperature === 1 ? scores : scores.map((x) => x / temperature);
        const lse = logSumExp64(tempered);
        const logPz = tempered.map((x) => x - lse);
        const mine = dists.slice(off, off + C);
        const best = rankFillings(mine, logPz, beam, banned)[0]?.ids ?? [];
        const truth = positions.map((p) => e.labels[p]);
        const ok = best.every((v, m) => v === truth[m]);
        if (ok) correct++;
        correctFlags.push(ok ? 1 : 0);
        logPySum += marginalLogProb(mine, logPz, truth);
        nullSum += useNull ? Math.exp(logPz[0]) : 0;
        const has = texts.getMany(ids[b]).map((block) => blockContainsAnswer(block, e.answer));
        if (ids[b].length) {
          if (has[0]) top1++;
          const any = has.some((h) => h);
          if (any) topk++;
          inCandFlags.push(any ? 1 : 0);
        } else inCandFlags.push(0);
        opts.onExample?.({ example: e, ids: ids[b], logPz, dists: mine, hasAnswer: [...(useNull ? [false] : []), ...has], truth, correct: ok });
        off += C;
      });
    });
    opts.onProgress?.(Math.min(s + bs, examples.length));
  }
  const n = examples.length;
  return {
    n, accuracy: n ? correct / n : 0, top1Contains: opts.k > 0 && n ? top1 / n : null, topkContains: opts.k > 0 && n ? topk / n : null,
    meanNullProb: n ? nullSum / n : 0, meanLogPy: n ? logPySum / n : 0,
    correct: correctFlags, answerInCandidate: opts.k > 0 ? inCandFlags : null,
  };
}
