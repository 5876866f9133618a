/**
 * Lexical (BM25) candidates added to REALM's MIPS retrieval (src/realm/lexical.ts): the query is x without its masked
 * pieces; exclusions hold ("no trivial retrievals"); merging keeps the MIPS order and drops duplicates; in
 * retrieveAndForward every candidate — MIPS or BM25 — is scored by the embedders and the loss equals `forward` on
 * the merged list; a missing BM25 source is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, noGrad } from '../../src/engine/index.js';
import { FlatIndex } from '../../src/index/flat.js';
import { RealmInputError, docInputs, type BlockTokens } from '../../src/realm/batch.js';
import { LexicalCandidates, mergeCandidates } from '../../src/realm/lexical.js';
import { MASK, SPECIALS, TinyWorld, tinyModel } from './tiny.js';

/** Tokenizer view of the tiny world: ids ↔ its word vocabulary. */
function worldTok(world: TinyWorld): ConstructorParameters<typeof LexicalCandidates>[1] {
  return {
    maskId: MASK,
    isSpecialId: (id) => id < 5,
    decode: (ids) => Array.from(ids, (i) => world.vocab[i]).join(' '),
  };
}

const text = (world: TinyWorld, b: BlockTokens): { title: string; text: string } => ({
  title: Array.from(b.titleIds, (i) => world.vocab[i]).join(' '),
  text: Array.from(b.textIds, (i) => world.vocab[i]).join(' '),
});

test('LexicalCandidates: query without [MASK], best block first, exclusions and m respected', () => {
  const rng = new Rng(3);
  const world = new TinyWorld(5, 4, rng);
  const blocks = Array.from({ length: 5 }, (_, i) => world.block(i, rng));
  // block 5 also mentions e2 (twice, so it is not the best match for "e2 has" on title + text: block 2 has e2 in both)
  blocks.push({ id: 5, titleIds: Int32Array.of(world.filler(0)), textIds: Int32Array.of(world.filler(1), world.entity(2)) });
  const lex = LexicalCandidates.fromBlocks(blocks.map((b) => text(world, b)), worldTok(world));
  const q = world.query(2, 2);
  assert.equal(lex.query(q), 'e2 has');
  assert.deepEqual(lex.forBatch([q], 2), [[2, 5]]);
  assert.deepEqual(lex.forBatch([q], 1), [[2]]);
  assert.deepEqual(lex.forBatch([q], 2, [[2]]), [[5]], 'own block excluded, only the other e2 block matches');
  assert.deepEqual(lex.forBatch([q], 3, [[2, 5]]), [[]]);
  assert.deepEqual(lex.forBatch([q, world.query(0, 0)], 0), [[], []]);
  assert.throws(() => lex.forBatch([q], -1), RealmInputError);
  assert.throws(() => lex.forBatch([q], 1, []), /1 examples/);
});

test('mergeCandidates: MIPS order first, then new lexical ids', () => {
  assert.deepEqual(mergeCandidates([[3, 1], []], [[1, 7, 3, 8], [2]]), [[3, 1, 7, 8], [2]]);
  assert.throws(() => mergeCandidates([[1]], []), RealmInputError);
});

test('retrieveAndForward with lexicalCandidates: k MIPS + m BM25 blocks, own block never, scored by the embedders', () => {
  const rng = new Rng(8);
  const world = new TinyWorld(6, 6, rng);
  const model = tinyModel(world, 8, { k: 2, lexicalCandidates: 2 });
  const blocks = Array.from({ length: 6 }, (_, i) => world.block(i, rng));
  blocks.push({ id: 6, titleIds: Int32Array.of(world.filler(0)), textIds: Int32Array.of(world.entity(1), world.has) });
  const index = new FlatIndex({ dim: 16, kernels: 'js' });
  index.add(blocks.map((b) => b.id), model.docEmbedder.embed(docInputs(SPECIALS, blocks, 24)));
  const cache = { get: (ids: readonly number[]) => ids.map((i) => blocks[i]) };
  const lex = LexicalCandidates.fromBlocks(blocks.map((b) => text(world, b)), worldTok(world));
  const examples = [world.query(1, 1), world.query(4, 4)];
  const out = noGrad(() => model.retrieveAndForward(examples, index, cache, { training: false, lexical: lex }));
  const plain = tinyModel(world, 8, { k: 2 });
  const mips = noGrad(() => plain.retrieveAndForward(examples, index, cache, { training: false })).retrieved.ids;
  out.retrieved.ids.forEach((ids, b) => {
    assert.deepEqual(ids.slice(0, 2), mips[b], 'the MIPS top k come first');
    assert.ok(!ids.includes(examples[b].sourceBlockId!), `own block in ${ids}`);
    assert.deepEqual(ids, mergeCandidates([mips[b]], lex.forBatch([examples[b]], 2, [[examples[b].sourceBlockId!]]))[0]);
    assert.ok(out.retrieved.staleScores[b].slice(0, 2).every(Number.isFinite));
    assert.ok(out.retrieved.staleScores[b].slice(2).every(Number.isNaN), 'BM25 candidates have no stale score');
  });
  assert.ok(out.retrieved.ids[0].includes(6), 'the other block naming e1 comes from BM25');
  const ref = noGrad(() => model.forward(examples, out.retrieved.ids.map((ids) => ids.map((i) => blocks[i])), { training: false }));
  assert.ok(Math.abs(out.loss.item() - ref.loss.item()) < 1e-6, `${out.loss.item()} vs ${ref.loss.item()}`);
  assert.equal(out.diagnostics.examples[0].scores.length, 1 + out.retrieved.ids[0].length, 'null document + every candidate scored');
  assert.throws(() => model.retrieveAndForward(examples, index, cache, { training: false }), /BM25/);
  assert.throws(() => tinyModel(world, 8, { lexicalCandidates: 1.5 }), RealmInputError);
});
