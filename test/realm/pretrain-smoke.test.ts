/**
 * End-to-end smoke test of REALM pre-training (§3) on a tiny real-text corpus: a WordPiece vocabulary trained on the
 * corpus, salient-span masking of its sentences (compromise + date patterns), a FlatIndex of document-embedder
 * vectors refreshed every 10 steps, retrieval in the loop with the sentence's own block excluded, and AdamW on the
 * marginal likelihood: the loss falls over 30 steps. Then `fill` on the trained model: its probabilities equal
 * p(y|x) from the training forward pass on the same retrieved blocks, and its evidence is a distribution with ∅.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, Rng, backward, noGrad } from '../../src/engine/index.js';
import { FlatIndex } from '../../src/index/flat.js';
import { bertMiniConfig } from '../../src/model/config.js';
import { trainWordPiece } from '../../src/tokenizer/index.js';
import { BlockTokenCache, docInputs, type RealmExample } from '../../src/realm/batch.js';
import { RealmFiller } from '../../src/realm/fill.js';
import { LexicalCandidates, mergeCandidates } from '../../src/realm/lexical.js';
import { maskPassage } from '../../src/realm/masking.js';
import { RealmPretrainModel, realmDecay } from '../../src/realm/model.js';

const DOCS: Array<[string, string]> = [
  ['Albert Einstein', 'Albert Einstein was born in Ulm in 1879. Einstein moved to Berlin in 1914.'],
  ['Ulm', 'Ulm is a city on the Danube. The physicist Albert Einstein was born in Ulm.'],
  ['Marie Curie', 'Marie Curie was born in Warsaw in 1867. Curie won the Nobel Prize in 1903.'],
  ['Warsaw', 'Warsaw is the capital of Poland. The chemist Marie Curie was born in Warsaw.'],
  ['Isaac Newton', 'Isaac Newton was born in Woolsthorpe in 1643. Newton studied at Cambridge.'],
  ['Cambridge', 'Cambridge is a city in England. The physicist Isaac Newton studied at Cambridge.'],
  ['Charles Darwin', 'Charles Darwin was born in Shrewsbury in 1809. Darwin sailed on the Beagle in 1831.'],
  ['Shrewsbury', 'Shrewsbury is a town in England. The naturalist Charles Darwin was born in Shrewsbury.'],
  ['Ada Lovelace', 'Ada Lovelace was born in London in 1815. Lovelace worked with Charles Babbage.'],
  ['London', 'London is the capital of England. The mathematician Ada Lovelace was born in London.'],
  ['Nikola Tesla', 'Nikola Tesla was born in Smiljan in 1856. Tesla moved to New York in 1884.'],
  ['Smiljan', 'Smiljan is a village in Croatia. The inventor Nikola Tesla was born in Smiljan.'],
];

test('pre-training smoke: loss falls over 30 steps with retrieval in the loop; fill is consistent with forward', async () => {
  const tok = await trainWordPiece(DOCS.flatMap(([t, x]) => [t, x]), { vocabSize: 400, minFrequency: 1 });
  const rng = new Rng(31);
  const cfg = bertMiniConfig({
    vocab_size: tok.vocabSize, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64,
    max_position_embeddings: 128, retriever_proj_size: 16, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
    pad_token_id: tok.padId, initializer_range: 0.1,
  });
  const model = new RealmPretrainModel(cfg, tok, rng, { k: 3, queryMaxLen: 32, blockMaxLen: 48, jointMaxLen: 80 });
  const source = { getMany: (ids: ArrayLike<number>) => Array.from(ids, (i) => ({ title: DOCS[i][0], text: DOCS[i][1] })) };
  const cache = new BlockTokenCache(source, tok);
  const allIds = DOCS.map((_, i) => i);
  const buildIndex = (): FlatIndex => {
    const index = new FlatIndex({ dim: cfg.retriever_proj_size, kernels: 'js' });
    index.add(allIds, noGrad(() => model.docEmbedder.embed(docInputs(tok, cache.get(allIds), model.opts.blockMaxLen))));
    return index;
  };
  // salient-span examples from every block; x's own block is excluded from its retrieval
  const examples: RealmExample[] = [];
  DOCS.forEach(([, text], id) => {
    for (const ex of maskPassage(text, tok, rng)) examples.push({ inputIds: ex.inputIds, labels: ex.labels, answer: ex.answer, sourceBlockId: id });
  });
  assert.ok(examples.length >= 20, `${examples.length} masked sentences`);
  const opt = new AdamW(model.parameters(), { lr: 3e-3, decay: realmDecay });
  let index = buildIndex();
  const losses: number[] = [];
  const order = rng.permutation(examples.length);
  for (let step = 0; step < 30; step++) {
    if (step > 0 && step % 10 === 0) index = buildIndex(); // refresh the stale document vectors
    const batch = Array.from({ length: 4 }, (_, b) => examples[order[(step * 4 + b) % examples.length]]);
    const { loss, retrieved, diagnostics } = model.retrieveAndForward(batch, index, cache, { training: true });
    batch.forEach((e, b) => assert.ok(!retrieved.ids[b].includes(e.sourceBlockId!), 'own block never retrieved'));
    assert.ok(diagnostics.examples.every((d) => d.pz.length === 4), 'k = 3 blocks + the null document');
    losses.push(loss.item());
    backward(loss);
    opt.step();
    opt.zeroGrad();
  }
  const first = losses.slice(0, 6).reduce((a, b) => a + b) / 6;
  const last = losses.slice(-6).reduce((a, b) => a + b) / 6;
  assert.ok(last < 0.7 * first, `loss ${first.toFixed(3)} -> ${last.toFixed(3)}: ${losses.map((l) => l.toFixed(2)).join(' ')}`);

  // inference: fill, then check each prediction's probability against the training forward pass (span marginal)
  index = buildIndex();
  const filler = new RealmFiller(model, tok, index, source);
  const check = (f: RealmFiller, text: string, opts: { k: number; lexicalCandidates?: number }, lex?: LexicalCandidates) => {
    const res = f.fill(text, { ...opts, topN: 4 });
    assert.equal(res.maskCount, (text.match(/\[MASK\]/g) ?? []).length);
    assert.equal(res.predictions.length, 4);
    for (let i = 1; i < res.predictions.length; i++) assert.ok(res.predictions[i - 1].prob >= res.predictions[i].prob, 'sorted');
    const total = res.evidence.reduce((a, e) => a + e.prob, res.nullProb);
    assert.ok(Math.abs(total - 1) < 1e-5, `p(z|x) over ∅ + ${res.evidence.length} blocks sums to ${total}`);
    // support = the posterior p(z|x,ŷ) = p(z|x) p(ŷ|z,x) / p(ŷ|x) of the best filling; with ∅ it sums to 1
    const support = res.evidence.reduce((a, e) => a + e.support, res.nullSupport);
    assert.ok(Math.abs(support - 1) < 1e-5, `p(z|x,ŷ) sums to ${support}`);
    for (const e of res.evidence) {
      const want = (e.prob * e.answerProb) / res.predictions[0].prob;
      assert.ok(Math.abs(e.support - want) < 1e-5 * Math.max(1, want), `support ${e.support} vs p(z|x) p(ŷ|z,x) / p(ŷ|x) = ${want}`);
    }
    const x = Int32Array.from(tok.encodeSequence(text).ids);
    const blocks = cache.get(res.evidence.map((e) => e.blockId));
    for (const p of res.predictions) {
      assert.equal(p.ids.length, res.maskCount);
      const labels = new Int32Array(x.length).fill(-100);
      let m = 0;
      x.forEach((id, i) => { if (id === tok.maskId) labels[i] = p.ids[m++]; });
      const fm = f.model;
      const bm25 = fm.lexicalTermOn ? [lex!.bm25.scoreMany(lex!.query({ inputIds: x, labels }), res.evidence.map((e) => e.blockId))] : undefined;
      const d = noGrad(() => fm.forward([{ inputIds: x, labels }], [blocks], { training: false, bm25 })).diagnostics.examples[0];
      assert.ok(Math.abs(p.prob - d.py) < 1e-5 * Math.max(1, d.py) + 1e-7, `${text} → "${p.text}": fill ${p.prob} vs forward ${d.py}`);
    }
    return res;
  };
  for (const text of ['The chemist Marie Curie was born in [MASK].', '[MASK] [MASK] was born in Ulm in 1879.']) check(filler, text, { k: 3 });
  assert.throws(() => filler.fill('No mask here.'), /no \[MASK\]/);
  // lexical candidates: the BM25 blocks join the MIPS one and every candidate is still scored like forward does
  const lexical = LexicalCandidates.fromBlocks(DOCS.map(([title, text]) => ({ title, text })), tok);
  const text = 'The chemist Marie Curie was born in [MASK].';
  const withLex = check(new RealmFiller(model, tok, index, source, lexical), text, { k: 1, lexicalCandidates: 2 });
  const bm25 = lexical.forBatch([{ inputIds: Int32Array.from(tok.encodeSequence(text).ids), labels: new Int32Array(0) }], 2)[0];
  const mipsTop = filler.fill(text, { k: 1 }).evidence.map((e) => e.blockId);
  assert.deepEqual(new Set(withLex.evidence.map((e) => e.blockId)), new Set(mergeCandidates([mipsTop], [bm25])[0]));
  assert.throws(() => filler.fill(text, { k: 1, lexicalCandidates: 2 }), /BM25 source/);
  // a BM25 term in the score (lexicalScoreWeight): fill's p(y|x) still equals forward's with f = scale·q·d + w·BM25
  const hybrid = new RealmPretrainModel(cfg, tok, new Rng(1), { ...model.opts, lexicalScoreWeight: 0.4 });
  for (const [n, t] of model.stateDict()) hybrid.stateDict().get(n)!.data.set(t.data);
  const withTerm = check(new RealmFiller(hybrid, tok, index, source, lexical), text, { k: 1, lexicalCandidates: 2 }, lexical);
  const plainP = new Map(withLex.evidence.map((e) => [e.blockId, e.prob]));
  assert.ok(withTerm.evidence.some((e) => Math.abs(Math.log(e.prob / plainP.get(e.blockId)!)) > 0.1), 'the term changes p(z|x)');
  assert.throws(() => new RealmFiller(hybrid, tok, index, source).fill(text, { k: 1, lexicalCandidates: 0 }), /lexical score term needs a BM25 source/);
});
