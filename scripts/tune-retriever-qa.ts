// ORQA-style fine-tuning of the ICT retriever's question encoder on QA training questions (src/train/qaRetriever.ts):
// the corpus vectors of the starting retriever's document embedder stay fixed (embedded once, resumable, into
// <work>/embeddings-L<block-len> — the same directory bench/retrieval.ts uses), positives are the blocks in the BM25
// top-k or the starting retriever's top-k whose text contains an answer, and the loss is the marginal likelihood of
// those blocks under a softmax over all blocks.
// Training questions: CuratedTREC train and WebQuestions train WITHOUT their first 500 / 1,000 questions — those are
// the tuning rows of bench/retrieval.ts and are used here as the validation set (recall@20 every --eval-every steps;
// the best step's weights are kept). Test sets are never read. --extra-train efficientqa_dev adds the NQ-open
// EfficientQA dev questions (a set staged for tuning) to the training questions.
// --train-docs: DPR-style instead (src/train/dprRetriever.ts): both embedders learn from in-batch negatives plus one
// BM25 hard negative per question (a top-K BM25 block without an answer); each validation re-embeds the corpus with
// the current document embedder (in memory), so bench/retrieval.ts must embed the corpus again for such a model.
// Writes <out>/{model.safetensors (both embedders; the document side unchanged unless --train-docs), config.json, vocab.txt, ict.json
// (copied from the starting model, what bench/retrieval.ts describes), qa_tune.json (this run: settings, curve)}.
// Usage:
//   node --import tsx scripts/tune-retriever-qa.ts --model <ict dir>/model.safetensors --work <retrieval work dir>
//     --out <dir> [--steps 600] [--batch 32] [--lr 5e-5] [--warmup 50] [--logit-scale <ict.json's>] [--query-len 32]
//     [--block-len 128] [--candidates 100] [--eval-every 100] [--dropout 0.1] [--threads 2] [--seed 1]
//     [--train-docs [--hard-negatives 1|0]] [--extra-train efficientqa_dev]
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Rng, getBackend } from '../src/engine/index.js';
import { answerMatcher, normalizeForMatch } from '../src/eval/answers.js';
import { loadQaSet, type QaExample, type QaSetName } from '../src/eval/qa.js';
import { recallAtK } from '../src/eval/recall.js';
import { writeFileAtomicSync } from '../src/io/atomic.js';
import { readConfig, writeConfig } from '../src/model/config.js';
import { buildBlockBm25 } from '../src/retriever/bm25.js';
import { RealmScorer } from '../src/retriever/scorer.js';
import { buildIndex, embedBlocks, embedCorpus } from '../src/train/embedCorpus.js';
import { readPassageBlocks } from '../src/train/ictSetup.js';
import { DprRetrieverTuner, type DprTuneExample } from '../src/train/dprRetriever.js';
import { QaRetrieverTuner, embedQuestions, minePositives } from '../src/train/qaRetriever.js';
import { encodeBlock, type TokenSeq } from '../src/retriever/inputs.js';
import { BertTokenizer } from '../src/tokenizer/bertTokenizer.js';
import { scriptArgs } from './lib/args.js';

const argv = process.argv.slice(2);
const { get, num, flag } = scriptArgs(argv);
const log = (l: string): void => void process.stderr.write(`${l}\n`);
const r1 = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const modelPath = get('model', '');
  const work = get('work', '');
  const out = get('out', '');
  if (!modelPath || !work || !out) throw new Error('tune-retriever-qa: --model, --work and --out are required (see the header of scripts/tune-retriever-qa.ts)');
  const threads = num('threads', 0);
  if (threads > 0) getBackend().setThreads(threads);
  const modelDir = dirname(modelPath);
  for (const f of ['config.json', 'vocab.txt']) if (!existsSync(join(modelDir, f))) throw new Error(`${modelDir}: missing ${f}`);
  const ictRun = existsSync(join(modelDir, 'ict.json')) ? (JSON.parse(readFileSync(join(modelDir, 'ict.json'), 'utf8')) as Record<string, unknown>) : {};
  const blockLen = num('block-len', 128);
  const queryLen = num('query-len', 32);
  const K = num('candidates', 100);
  const evalEvery = num('eval-every', 100);
  const dropout = num('dropout', 0.1);
  const trainDocs = flag('train-docs');
  const hardNegatives = num('hard-negatives', 1) !== 0;
  const tune = {
    steps: num('steps', 600), batchSize: num('batch', 32), lr: num('lr', 5e-5), warmupSteps: num('warmup', 50),
    logitScale: num('logit-scale', Number(ictRun.logit_scale ?? 1)), queryLen, seed: num('seed', 1),
  };

  const tok = BertTokenizer.fromVocabFile(join(modelDir, 'vocab.txt'));
  const base = readConfig(join(modelDir, 'config.json'));
  const scorer = new RealmScorer({ ...base, hidden_dropout_prob: dropout, attention_probs_dropout_prob: dropout }, new Rng(0), { init: false });
  scorer.load(modelPath);
  const blocks = await readPassageBlocks('enwiki2015_first300_p100');
  const job = embedCorpus(scorer.docEmbedder, tok, { size: blocks.length, getMany: (ids) => Array.from(ids, (i) => blocks[i]) }, {
    outDir: join(work, `embeddings-L${blockLen}`), blockLen, batchSize: 64, maxBatchTokens: 8192, progressEvery: 15, log,
  });
  const dim = job.dim;
  let index = buildIndex(job.vectors, dim, { kind: 'flat' });
  let t0 = performance.now();
  const bm25 = buildBlockBm25(blocks);
  log(`corpus ${blocks.length} blocks, ${dim}-d vectors; BM25 in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const normText = new Map<number, string>();
  const textOf = (id: number): string => `${blocks[id].title} ${blocks[id].text}`;
  const normOf = (id: number): string => {
    let s = normText.get(id);
    if (s === undefined) normText.set(id, (s = normalizeForMatch(textOf(id))));
    return s;
  };
  const matchers = (qs: QaExample[]) => qs.map((q) => answerMatcher(q.answers, q.answerType));
  const contains = (m: ReturnType<typeof answerMatcher>, id: number, regex: boolean): boolean => (regex ? m.matches(textOf(id)) : m.matches(textOf(id), normOf(id)));

  const ct = loadQaSet('ct_train');
  const wq = loadQaSet('wq_train');
  const val = { ct_train: ct.slice(0, 500), wq_train: wq.slice(0, 1000) };
  // --extra-train: more training questions from sets meant for tuning (never a test set)
  const extra = get('extra-train', '').split(',').filter(Boolean);
  for (const name of extra) if (name !== 'efficientqa_dev') throw new Error(`tune-retriever-qa: --extra-train takes efficientqa_dev (a tuning set), got "${name}"`);
  const train = [...ct.slice(500), ...wq.slice(1000), ...extra.flatMap((name) => loadQaSet(name as QaSetName))];
  t0 = performance.now();
  const startVecs = embedQuestions(scorer, tok, train.map((q) => q.question), queryLen);
  const hits = index.search(startVecs, K);
  const tm = matchers(train);
  const bmHits = train.map((q) => Array.from(bm25.search(q.question, K).ids));
  const answers = (i: number, id: number): boolean => contains(tm[i], id, train[i].answerType === 'regex');
  const positives = minePositives(train.length, (i) => [...bmHits[i], ...hits.ids.subarray(i * K, (i + 1) * K)], answers);
  // DPR's hard negatives: BM25's best blocks (top K) without an answer, best first (up to 3 kept per question)
  const negatives = trainDocs ? bmHits.map((ids, i) => Int32Array.from(ids.filter((id) => !answers(i, id)).slice(0, 3))) : [];
  const examples: DprTuneExample[] = [];
  train.forEach((q, i) => { if (positives[i].length > 0) examples.push({ question: q.question, positives: positives[i], negatives: negatives[i] ?? new Int32Array(0) }); });
  const meanPos = examples.reduce((a, e) => a + e.positives.length, 0) / examples.length;
  log(`training questions: ${examples.length} of ${train.length} have an answer-bearing block in the BM25 or retriever top-${K} (mean ${meanPos.toFixed(1)} positives; ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  // recall@20 exactly as bench/retrieval.ts computes it (src/eval/recall.ts), with the current question encoder
  const recall20 = async (qs: QaExample[]): Promise<number> => {
    const h = index.search(embedQuestions(scorer, tok, qs.map((q) => q.question), queryLen), 20);
    const row = new Map<string, number>();
    qs.forEach((q, i) => { if (!row.has(q.question)) row.set(q.question, i); });
    const r = await recallAtK((q, k) => Array.from(h.ids.subarray(row.get(q)! * 20, row.get(q)! * 20 + k), (id) => ({ id, text: textOf(id) })), qs, [20]);
    return r1(100 * r.recall[20]);
  };
  const curve: Array<{ step: number; ct_train_r20: number; wq_train_r20: number; loss?: number; positive_mass?: number }> = [];
  const evalNow = async (step: number, extra: { loss?: number; positive_mass?: number } = {}): Promise<number> => {
    const p = { step, ct_train_r20: await recall20(val.ct_train), wq_train_r20: await recall20(val.wq_train), ...extra };
    curve.push(p);
    log(`validation @${step}: R@20 CT train[:500] ${p.ct_train_r20}, WQ train[:1000] ${p.wq_train_r20}`);
    return p.ct_train_r20 + p.wq_train_r20;
  };
  const blockCache = new Map<number, TokenSeq>();
  const blockTokens = (id: number): TokenSeq => {
    let t = blockCache.get(id);
    if (!t) blockCache.set(id, (t = encodeBlock(tok, blocks[id].title, blocks[id].text, blockLen)));
    return t;
  };
  const tuner = trainDocs
    ? new DprRetrieverTuner(scorer, tok, blockTokens, examples, { ...tune, hardNegatives })
    : new QaRetrieverTuner(scorer, tok, job.vectors, dim, examples, tune);
  const snapshot = () => new Map(Array.from(tuner.params, ([n, t]) => [n, t.data.slice()]));
  let best = await evalNow(0);
  let bestStep = 0;
  let bestWeights = snapshot();
  // --train-docs: the corpus vectors of the current document embedder, for validation
  const reembed = (): void => {
    const t1 = performance.now();
    const vecs = embedBlocks(scorer.docEmbedder, tok, blocks, { batchSize: 64, maxBatchTokens: 8192, blockLen });
    index = buildIndex(vecs, dim, { kind: 'flat' });
    log(`re-embedded ${blocks.length} blocks in ${((performance.now() - t1) / 1000).toFixed(0)} s`);
  };
  t0 = performance.now();
  let acc = { loss: 0, mass: 0, n: 0 };
  while (tuner.step < tune.steps) {
    const st = tuner.trainStep();
    // ORQA: Σ_P p(z|q) over the whole corpus; DPR: in-batch accuracy
    const mass = 'positiveMass' in st ? st.positiveMass : st.accuracy;
    acc = { loss: acc.loss + st.loss, mass: acc.mass + mass, n: acc.n + 1 };
    if (st.step % 10 === 0) {
      const el = (performance.now() - t0) / 1000;
      log(`step ${st.step}/${tune.steps} | loss ${(acc.loss / acc.n).toFixed(3)} | ${trainDocs ? 'in-batch acc' : 'p(answer blocks)'} ${(acc.mass / acc.n).toFixed(3)} | lr ${st.lr.toExponential(2)} | ${(st.step / el).toFixed(2)} step/s | ETA ${Math.round(((tune.steps - st.step) * el) / st.step)} s`);
    }
    if (st.step % evalEvery === 0 || st.step === tune.steps) {
      const r3 = (x: number): number => Math.round(1000 * x) / 1000;
      if (trainDocs) reembed();
      const score = await evalNow(st.step, { loss: r3(acc.loss / acc.n), positive_mass: r3(acc.mass / acc.n) });
      acc = { loss: 0, mass: 0, n: 0 };
      if (score > best) {
        best = score;
        bestStep = st.step;
        bestWeights = snapshot();
      }
    }
  }
  for (const [n, t] of tuner.params) t.data.set(bestWeights.get(n)!);
  const minutes = (performance.now() - t0) / 60_000;
  mkdirSync(out, { recursive: true });
  scorer.save(join(out, 'model.safetensors'), { step: String(bestStep), init: modelPath, qa_tune: trainDocs ? 'dpr-both-encoders' : 'orqa-question-encoder' });
  writeConfig(join(out, 'config.json'), base, ['RealmScorer']);
  copyFileSync(join(modelDir, 'vocab.txt'), join(out, 'vocab.txt'));
  if (existsSync(join(modelDir, 'ict.json'))) copyFileSync(join(modelDir, 'ict.json'), join(out, 'ict.json'));
  writeFileAtomicSync(join(out, 'qa_tune.json'), `${JSON.stringify({
    init: modelPath, mode: trainDocs ? 'dpr-both-encoders' : 'orqa-question-encoder', hard_negatives: trainDocs ? hardNegatives : undefined, ...tune, dropout, candidates: K, block_len: blockLen, threads: getBackend().getThreads(),
    train_questions: train.length, train_questions_with_positives: examples.length, mean_positives: r1(meanPos),
    train_sets: ['ct_train[500:]', 'wq_train[1000:]', ...extra].join(' + '), validation_sets: 'ct_train[:500], wq_train[:1000]',
    best_step: bestStep, wall_minutes: r1(minutes), curve,
    command: `node --import tsx scripts/tune-retriever-qa.ts ${argv.join(' ')}`,
  }, null, 2)}\n`);
  log(`qa tune: best validation at step ${bestStep}; weights in ${out}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
