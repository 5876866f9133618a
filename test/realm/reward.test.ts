/**
 * The issue's reward test (REALM §3.3): a retrieved block that helps predict the masked answer is pushed up, one that
 * does not is pushed down. Constructed case in a tiny world (./tiny.ts) with the real model code: a reader that has
 * learned to copy the answer out of a block (MLM warm-up on joint inputs), the query `e_i has [MASK]`, a knowledge
 * index holding x's own block (excluded), a second block stating the same fact (helpful) and another entity's block
 * (irrelevant). One AdamW step on the marginal-likelihood loss, then retrieval runs again: the index (stale vectors)
 * picks the same two blocks and their scores are recomputed with the updated embedders.
 *
 * Two candidates (the issue's case): the helpful block's p(z|x) rises and the irrelevant one's falls — for every
 * entity tried. This is what the reward implies to first order for any diagonal-preconditioned step (Δ log p =
 * (I − 1pᵀ) J P Jᵀ r, and with two candidates r = (ρ, −ρ)). With the null document as a third candidate, the shared
 * document encoder can move both blocks together against ∅ (r(help) + r(irr) = −r(∅) ≠ 0 and the two blocks' score
 * gradients overlap), so neither per-block claim is guaranteed; there we assert the guaranteed parts:
 * r(help) > 0 > r(irr) and the null score (its own parameter) moves along r(∅).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, Rng, backward, noGrad } from '../../src/engine/index.js';
import { FlatIndex } from '../../src/index/flat.js';
import { docInputs, type BlockTokens } from '../../src/realm/batch.js';
import { realmDecay, type RealmPretrainModel } from '../../src/realm/model.js';
import { SPECIALS, TinyWorld, tinyModel, warmUpReader } from './tiny.js';

const rng = new Rng(2024);
const world = new TinyWorld(8, 8, rng);
const TINY = { initializer_range: 0.1 }; // a less collapsed random embedder than BERT's 0.02 at this tiny size
const twoDocs = tinyModel(world, 11, { k: 2, nullDocument: false }, TINY);
const copyProb = warmUpReader(twoDocs, world, rng, 100);

/** Index with 3 blocks: 0 = x's own block, 1 = the same fact with other fillers (helpful), 2 = entity j's block. */
function scenario(model: RealmPretrainModel, i: number, j: number): { index: FlatIndex; blocks: BlockTokens[] } {
  const r = new Rng(100 + i);
  const blocks = [world.block(i, r, 0), world.block(i, r, 1), world.block(j, r, 2)];
  const index = new FlatIndex({ dim: model.cfg.retriever_proj_size, kernels: 'js' });
  index.add([0, 1, 2], noGrad(() => model.docEmbedder.embed(docInputs(SPECIALS, blocks, model.opts.blockMaxLen))));
  return { index, blocks };
}

function snapshot(model: RealmPretrainModel): Map<string, Float32Array> {
  return new Map([...model.stateDict()].map(([n, t]) => [n, t.data.slice()]));
}

function restore(model: RealmPretrainModel, snap: Map<string, Float32Array>): void {
  for (const [n, t] of model.stateDict()) t.data.set(snap.get(n)!);
}

/** Retrieval + forward (eval mode) → p(z|x) by block id, rewards by block id, the block ids retrieved. */
function probe(model: RealmPretrainModel, i: number, index: FlatIndex, blocks: BlockTokens[]) {
  const cache = { get: (ids: readonly number[]) => ids.map((id) => blocks[id]) };
  const out = noGrad(() => model.retrieveAndForward([world.query(i, 0)], index, cache, { training: false }));
  const d = out.diagnostics.examples[0];
  const off = model.opts.nullDocument ? 1 : 0;
  const pz = new Map(d.blockIds.map((id, z) => [id, d.pz[z + off]]));
  const reward = new Map(d.blockIds.map((id, z) => [id, d.reward[z + off]]));
  return { ids: out.retrieved.ids[0], pz, reward, d };
}

/** One AdamW step (lr 1e-4, the model's decay rule) on the REALM loss of the query about entity i. */
function step(model: RealmPretrainModel, i: number, index: FlatIndex, blocks: BlockTokens[]): void {
  const opt = new AdamW(model.parameters(), { lr: 1e-4, decay: realmDecay });
  const cache = { get: (ids: readonly number[]) => ids.map((id) => blocks[id]) };
  const { loss } = model.retrieveAndForward([world.query(i, 0)], index, cache, { training: true });
  backward(loss);
  opt.step();
  opt.zeroGrad();
}

test('precondition: the reader copies the answer from a block (so the helpful block really helps)', () => {
  assert.ok(copyProb > 0.6, `copy probability after warm-up ${copyProb}`);
});

test('one optimiser step: the helpful block\'s p(z|x) rises, the irrelevant block\'s falls (recomputed scores)', () => {
  const start = snapshot(twoDocs);
  for (let i = 0; i < 6; i++) {
    restore(twoDocs, start);
    const j = (i + 3) % world.n;
    const { index, blocks } = scenario(twoDocs, i, j);
    const before = probe(twoDocs, i, index, blocks);
    assert.deepEqual([...before.ids].sort(), [1, 2], 'own block excluded; the helpful and the irrelevant block retrieved');
    // the reader finds the answer only in block 1
    const [help, irr] = [before.ids.indexOf(1), before.ids.indexOf(2)];
    assert.ok(before.d.logPyGivenZ[help] > before.d.logPy && before.d.logPyGivenZ[irr] < before.d.logPy, `entity ${i}: log p(y|z,x) ${before.d.logPyGivenZ} vs log p(y|x) ${before.d.logPy}`);
    assert.ok(before.reward.get(1)! > 0 && before.reward.get(2)! < 0, `entity ${i}: rewards ${[...before.reward]}`);
    step(twoDocs, i, index, blocks);
    const after = probe(twoDocs, i, index, blocks); // same stale index; scores recomputed with the new embedders
    assert.deepEqual([...after.ids].sort(), [1, 2]);
    assert.ok(after.pz.get(1)! > before.pz.get(1)!, `entity ${i}: helpful p(z|x) ${before.pz.get(1)} -> ${after.pz.get(1)}`);
    assert.ok(after.pz.get(2)! < before.pz.get(2)!, `entity ${i}: irrelevant p(z|x) ${before.pz.get(2)} -> ${after.pz.get(2)}`);
    // the recomputed scores moved, the index's stale scores did not
    assert.notDeepEqual(after.d.scores, before.d.scores);
  }
});

test('with the null document: rewards have the right signs and ∅\'s learned score follows r(∅)', () => {
  const withNull = tinyModel(world, 11, { k: 2, nullDocument: true }, TINY);
  for (const [n, t] of twoDocs.stateDict()) if (n !== 'null_document_score') withNull.stateDict().get(n)!.data.set(t.data);
  const start = snapshot(withNull);
  for (let i = 0; i < 6; i++) {
    restore(withNull, start);
    const { index, blocks } = scenario(withNull, i, (i + 3) % world.n);
    const before = probe(withNull, i, index, blocks);
    assert.equal(before.d.pz.length, 3);
    assert.ok(before.reward.get(1)! > 0 && before.reward.get(2)! < 0, `entity ${i}: rewards ${[...before.reward]}`);
    const rNull = before.d.reward[0];
    const nullBefore = withNull.nullScore.data[0];
    step(withNull, i, index, blocks);
    const after = probe(withNull, i, index, blocks);
    assert.equal(after.d.pz.length, 3, 'the null document is still a candidate');
    assert.equal(Math.sign(withNull.nullScore.data[0] - nullBefore), Math.sign(rNull), `entity ${i}: null score moves along r(∅) = ${rNull}`);
  }
});
