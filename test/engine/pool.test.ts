/**
 * Buffer-pool tests: allocator semantics, and an end-to-end check that recycling never aliases live data: several
 * training steps of a small transformer layer (tensors large enough to be pooled) give bit-identical parameters
 * and losses with the pool enabled and disabled, on every available backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../src/engine/index.js';
import { Tensor, Rng, alloc, allocUninit, release, setPoolLimit, clearPool, poolStats, raisePoolLimitForTraining } from '../../src/engine/index.js';
import { totalmem } from 'node:os';

test('alloc/release: reuse, zero-fill, views and small arrays ignored, double release ignored, limit', () => {
  clearPool();
  setPoolLimit(1 << 30);
  const a = allocUninit(5000);
  a.fill(7);
  release(a);
  release(a); // ignored
  assert.equal(poolStats().heldBytes, 20000);
  const b = alloc(5000);
  assert.equal(b, a);
  assert.ok(b.every((v) => v === 0));
  assert.equal(poolStats().heldBytes, 0);
  const c = allocUninit(5000);
  assert.notEqual(c, a); // pool empty again -> fresh
  const big = new Float32Array(10000);
  release(big.subarray(0, 5000)); // view: ignored
  release(new Float32Array(100)); // small: ignored
  assert.equal(poolStats().heldBytes, 0);
  setPoolLimit(30000);
  release(new Float32Array(5000));
  release(new Float32Array(5000)); // would exceed 30000 bytes
  assert.equal(poolStats().heldBytes, 20000);
  setPoolLimit(0);
  assert.equal(poolStats().heldBytes, 0);
  setPoolLimit(1 << 30);
});

test('at the limit a release evicts the least recently used other sizes, and the pool keeps serving the current ones', () => {
  clearPool();
  const [A, B, C, D] = [5000, 6000, 7000, 8000]; // floats; 20,000 / 24,000 / 28,000 / 32,000 bytes
  setPoolLimit(4 * (A + B + C));
  const a = new Float32Array(A), b = new Float32Array(B), c = new Float32Array(C), d = new Float32Array(D);
  release(a);
  release(b);
  release(c); // full: recency a, b, c
  assert.equal(allocUninit(B), b); // b used again: recency a, c, b
  release(b);
  release(d); // over the cap: drops a (least recent), still over, drops c; b stays, d goes in
  assert.equal(poolStats().heldBytes, 4 * (B + D));
  assert.notEqual(allocUninit(A), a);
  assert.notEqual(allocUninit(C), c);
  assert.equal(allocUninit(B), b);
  assert.equal(allocUninit(D), d);
  // a size that cannot fit even after evicting every other size is refused without evicting anything
  setPoolLimit(4 * (A + B));
  release(a);
  release(new Float32Array(A + B + 1));
  assert.equal(poolStats().heldBytes, 4 * A);
  assert.equal(allocUninit(A), a);
  clearPool();
  setPoolLimit(1 << 30);
});

test('training loops raise the cap to a quarter of the memory (never lower it); REALM_POOL_MB wins', () => {
  const saved = process.env.REALM_POOL_MB;
  try {
    delete process.env.REALM_POOL_MB;
    const training = Math.max(1 << 30, Math.floor(totalmem() / 4));
    setPoolLimit(1000);
    raisePoolLimitForTraining();
    assert.equal(poolStats().limitBytes, training);
    setPoolLimit(2 * training);
    raisePoolLimitForTraining(); // never lowers
    assert.equal(poolStats().limitBytes, 2 * training);
    process.env.REALM_POOL_MB = '64';
    setPoolLimit(64 * 1024 * 1024);
    raisePoolLimitForTraining(); // the user's cap stands
    assert.equal(poolStats().limitBytes, 64 * 1024 * 1024);
  } finally {
    if (saved === undefined) delete process.env.REALM_POOL_MB;
    else process.env.REALM_POOL_MB = saved;
    setPoolLimit(1 << 30);
  }
});

function trainRun(pool: boolean, be: E.Backend, freeActivations = false): { losses: number[]; params: Float32Array[] } {
  clearPool();
  setPoolLimit(pool ? 1 << 30 : 0);
  E.setBackend(be);
  try {
    const rng = new Rng(3);
    const [B, T, H, nh, I, V] = [2, 32, 64, 4, 128, 50];
    const hd = H / nh;
    const p = (s: number[], name: string): Tensor => E.param(rng.fillNormal(new Float32Array(s.reduce((x, y) => x * y)), 0, 0.1), s, name);
    const W = {
      emb: p([V, H], 'emb.weight'), q: p([H, H], 'q.weight'), k: p([H, H], 'k.weight'), v: p([H, H], 'v.weight'),
      o: p([H, H], 'o.weight'), ob: p([H], 'o.bias'), g: p([H], 'ln.LayerNorm.weight'), b: p([H], 'ln.LayerNorm.bias'),
      i: p([I, H], 'i.weight'), ib: p([I], 'i.bias'), o2: p([H, I], 'o2.weight'),
    };
    const opt = new E.AdamW(W, { lr: 1e-2, weightDecay: 0.01, decay: E.bertDecayExclusions });
    const losses: number[] = [];
    // One fixed batch, so the loss must fall from step to step (fresh random batches made this check a coin toss).
    const ids = new Int32Array(B * T).map(() => rng.int(V));
    for (let step = 0; step < 4; step++) {
      const keep = Array.from({ length: B * T }, (_, i) => (i % T < T - 3 * (i < T ? 1 : 2) ? 1 : 0));
      const x = E.embedding(W.emb, ids); // [B*T, H]
      const heads = (t: Tensor): Tensor => E.permute(E.reshape(t, [B, T, nh, hd]), [0, 2, 1, 3]);
      const s = E.add(E.matmul(heads(E.linear(x, W.q)), heads(E.linear(x, W.k)), { transB: true, alpha: 1 / Math.sqrt(hd) }), E.attentionMaskBias(keep, B, T));
      const probs = E.dropout(E.softmax(s), 0.1, rng, true);
      const ctx = E.reshape(E.permute(E.matmul(probs, heads(E.linear(x, W.v))), [0, 2, 1, 3]), [B * T, H]);
      const h = E.layerNorm(E.add(x, E.dropout(E.linear(ctx, W.o, W.ob), 0.1, rng, true)), W.g, W.b, 1e-12);
      const f = E.linear(E.gelu(E.linear(h, W.i, W.ib)), W.o2);
      const logits = E.matmul(E.add(h, f), W.emb, { transB: true }); // tied decoder [B*T, V]
      const targets = ids.map((t, i) => (i % 5 === 0 ? t : -100));
      const loss = E.crossEntropy(logits, targets);
      loss.backward(undefined, { freeActivations });
      losses.push(loss.item());
      E.clipGradNorm(W, 1.0);
      opt.step();
      opt.zeroGrad();
    }
    return { losses, params: Object.values(W).map((t) => t.data.slice()) };
  } finally {
    E.setBackend(E.jsBackend);
    setPoolLimit(1 << 30);
  }
}

for (const be of E.availableBackends()) {
  test(`[${be.name}] training with the pool is bit-identical to training without it`, () => {
    const off = trainRun(false, be);
    const before = poolStats().hits;
    const on = trainRun(true, be);
    assert.ok(poolStats().hits > before, 'the pool was exercised');
    assert.deepEqual(on.losses, off.losses);
    on.params.forEach((p, i) => assert.deepEqual(p, off.params[i], `param ${i}`));
    assert.ok(off.losses[3] < off.losses[0], `loss decreases: ${off.losses.join(', ')}`);
  });
}

for (const be of E.availableBackends()) {
  test(`[${be.name}] backward({ freeActivations }) recycles activations without changing a bit of training`, () => {
    const keep = trainRun(true, be, false);
    const before = poolStats().hits;
    const free = trainRun(true, be, true);
    assert.ok(poolStats().hits > before);
    assert.deepEqual(free.losses, keep.losses);
    free.params.forEach((p, i) => assert.deepEqual(p, keep.params[i], `param ${i}`));
  });
}

test('backward({ freeActivations }) never recycles a leaf, a constant or the loss', () => {
  clearPool();
  const w = E.param(new Float32Array(5000).fill(0.5), [5000], 'w');
  const c = new Tensor(new Float32Array(5000).fill(2), [5000]);
  const view = E.reshape(w, [50, 100]); // a graph node sharing the leaf's buffer
  const y = E.mul(E.reshape(view, [5000]), c);
  const loss = E.sum(y);
  loss.backward(undefined, { freeActivations: true });
  const got = [allocUninit(5000), allocUninit(5000)];
  assert.ok(!got.some((a) => a.buffer === w.data.buffer || a.buffer === c.data.buffer || a.buffer === loss.data.buffer));
  assert.ok(got.some((a) => a.buffer === y.data.buffer), 'the intermediate y was recycled');
  assert.ok(w.data.every((v) => v === 0.5) && c.data.every((v) => v === 2));
});

for (const be of E.availableBackends()) {
  test(`[${be.name}] a steady training loop allocates nothing outside the pool (tied weights, a + b)`, () => {
    clearPool();
    setPoolLimit(1 << 30);
    E.setBackend(be);
    try {
      const rng = new Rng(5);
      const [N, H, V] = [128, 64, 100]; // every buffer >= 4096 floats, so each one is poolable
      const emb = E.param(rng.fillNormal(new Float32Array(V * H), 0, 0.1), [V, H], 'emb.weight');
      const w = E.param(rng.fillNormal(new Float32Array(H * H), 0, 0.1), [H, H], 'w.weight');
      const opt = new E.AdamW({ emb, w }, { lr: 1e-2 });
      const ids = new Int32Array(N).map(() => rng.int(V));
      const misses: number[] = [];
      for (let step = 0; step < 4; step++) {
        const before = poolStats().misses;
        const x = E.embedding(emb, ids); // [N, H]: scatter-add gradient into emb
        const h = E.add(x, E.linear(x, w)); // one gradient array for both inputs of add
        const loss = E.crossEntropy(E.matmul(h, emb, { transB: true }), ids); // tied decoder: a second gradient for emb
        loss.backward(undefined, { freeActivations: true });
        opt.step();
        opt.zeroGrad();
        misses.push(poolStats().misses - before);
      }
      assert.ok(misses[0] > 0, 'the first step allocates');
      assert.deepEqual(misses.slice(2), [0, 0], `pool misses per step: ${misses.join(', ')}`);
    } finally {
      E.setBackend(E.jsBackend);
    }
  });
}
