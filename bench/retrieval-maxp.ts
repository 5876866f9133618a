// Diagnostic (session 18, issue 5): does the retriever lose answers to block truncation? bench/retrieval.ts embeds each
// passage once, [CLS] title [SEP] text [SEP] cut to 128 wordpieces, and 91 % of the 78,686 passages are longer (median
// 163). This embeds a second window per long passage — the same title with the text's LAST part, starting on a word
// boundary — with the same document embedder and ranks passages by the max over their windows ("MaxP", Dai & Callan
// 2019), against the first window alone ("FirstP", the benchmark's rule). Recall@k on the tuning rows only
// (CT train[:500], WQ train[:1000]; env SETS=name:n,... to change); the test sets are never read.
// The first windows' vectors are read from bench/retrieval.ts's <work>/embeddings-L128 (their fingerprint must match
// the model's document embedder); the tail windows are embedded (resumable) into <work>/embeddings-L128-tail-<fp>.
// Usage: node --import tsx bench/retrieval-maxp.ts <model dir with model.safetensors, config.json, vocab.txt> <work>
//   (session 18: runs/qa-ict5-nq runs/ict5/work); env THREADS (default 1).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend, Rng } from '../src/engine/index.js';
import { loadQaSet } from '../src/eval/qa.js';
import { recallAtK } from '../src/eval/recall.js';
import { readConfig } from '../src/model/config.js';
import { encodeQuery } from '../src/retriever/inputs.js';
import { RealmScorer } from '../src/retriever/scorer.js';
import { buildIndex, embedCorpus, readEmbeddings, weightsFingerprint } from '../src/train/embedCorpus.js';
import { readPassageBlocks } from '../src/train/ictSetup.js';
import { embedTokenized } from '../src/train/refreshJob.js';
import { BertTokenizer } from '../src/tokenizer/bertTokenizer.js';
getBackend().setThreads(Number(process.env.THREADS ?? 1));
const L = 128;
const modelDir = process.argv[2] ?? 'runs/qa-ict5-nq';
const work = process.argv[3] ?? 'runs/ict5/work';
const headDir = join(work, 'embeddings-L128');
for (const f of [join(modelDir, 'model.safetensors'), join(modelDir, 'config.json'), join(modelDir, 'vocab.txt'), join(headDir, 'manifest.json')]) {
  if (!existsSync(f)) {
    console.error(`retrieval-maxp: missing ${f} (usage: see the header; the first windows come from bench/retrieval.ts's work directory)`);
    process.exit(2);
  }
}
const tok = BertTokenizer.fromVocabFile(join(modelDir, 'vocab.txt'));
const scorer = new RealmScorer(readConfig(join(modelDir, 'config.json')), new Rng(0), { init: false });
scorer.load(join(modelDir, 'model.safetensors'));
const blocks = await readPassageBlocks('enwiki2015_first300_p100');
const fp = weightsFingerprint(scorer.docEmbedder);
const { vectors: head, numBlocks, dim, blockLen } = readEmbeddings(headDir, fp);
if (numBlocks !== blocks.length || blockLen !== L) throw new Error(`${headDir}: ${numBlocks} vectors of ${blockLen}-wordpiece windows, expected ${blocks.length} of ${L}`);
// tails
const tailIds: number[] = [];
const tailText: string[] = [];
blocks.forEach((b, i) => {
  const t = tok.encodeSequence(b.title).ids.length;
  const s = tok.encodeSequence(b.text);
  const cap = L - 3 - t;
  const n = s.ids.length;
  if (cap <= 0 || n <= cap) return;
  let start = n - cap;
  while (start > 0 && s.wordIds[start] === s.wordIds[start - 1]) start++; // start on a word boundary (forward: stays within cap)
  tailIds.push(i);
  tailText.push(b.text.slice(s.offsets[2 * start]));
});
console.error(`tails: ${tailIds.length} of ${blocks.length}`);
const job = embedCorpus(scorer.docEmbedder, tok, { size: tailIds.length, getMany: (ids) => Array.from(ids, (j) => ({ title: blocks[tailIds[j]!]!.title, text: tailText[j]! })) }, {
  outDir: join(work, `embeddings-L${L}-tail-${fp}`), blockLen: L, batchSize: 64, maxBatchTokens: 8192, progressEvery: 30,
});
const all = new Float32Array((blocks.length + tailIds.length) * dim);
all.set(head); all.set(job.vectors, blocks.length * dim);
const owner = Uint32Array.from([...blocks.keys(), ...tailIds]);
const firstP = buildIndex(head, dim, { kind: 'flat' });
const maxP = buildIndex(all, dim, { kind: 'flat' });
const text = (id: number) => ({ id, text: `${blocks[id]!.title} ${blocks[id]!.text}` });
const KS = [1, 5, 20, 100];
const sets = (process.env.SETS ?? 'ct_train:500,wq_train:1000').split(',').map((s) => s.split(':') as [string, string]);
for (const [name, n] of sets) {
  const qs = loadQaSet(name as 'ct_train').slice(0, Number(n));
  const pos = new Map<string, number>(); qs.forEach((q, i) => { if (!pos.has(q.question)) pos.set(q.question, i); });
  const qv = embedTokenized(scorer.queryEmbedder, qs.map((q) => encodeQuery(tok, q.question, 32)), tok.padId, 256);
  const h1 = firstP.search(qv, 100);
  const h2 = maxP.search(qv, 300);
  const r1 = await recallAtK((q, k) => Array.from(h1.ids.subarray(pos.get(q)! * 100, pos.get(q)! * 100 + k), text), qs, KS);
  const r2 = await recallAtK((q, k) => {
    const row = h2.ids.subarray(pos.get(q)! * 300, pos.get(q)! * 300 + 300);
    const seen: number[] = [];
    for (const w of row) { const p = owner[w]!; if (!seen.includes(p)) seen.push(p); if (seen.length === k) break; }
    return seen.map(text);
  }, qs, KS);
  const f = (r: { recall: Record<number, number> }) => KS.map((k) => (100 * r.recall[k]!).toFixed(1)).join(' / ');
  console.log(`${name} n=${qs.length} R@1/5/20/100 firstP ${f(r1)} | maxP ${f(r2)}`);
}
