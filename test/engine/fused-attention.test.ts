/**
 * fusedSelfAttention: values against an independent float64 loop implementation and against the unfused composition
 * of engine ops (permute, batched matmul, mask, softmax), and gradients (q, k, v; with padding mask and with dropout)
 * against central finite differences — on every available backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Rng, Tensor, add, attentionMaskBias, availableBackends, backward, matmul, mul, noGrad, permute, reshape,
  setBackend, softmax, sum,
} from '../../src/engine/index.js';
import { fusedSelfAttention } from '../../src/engine/ops/fused-attention.js';

/** float64 reference: ctx[b, i, h*d + c] = sum_j softmax_j(alpha q_i·k_j + mask_j) v[j, c]. */
function reference(q: Float32Array, k: Float32Array, v: Float32Array, B: number, T: number, H: number, nh: number, mask: Float32Array | null): Float64Array {
  const d = H / nh;
  const out = new Float64Array(B * T * H);
  for (let b = 0; b < B; b++) for (let h = 0; h < nh; h++) for (let i = 0; i < T; i++) {
    const s = new Float64Array(T);
    let mx = -Infinity;
    for (let j = 0; j < T; j++) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[(b * T + i) * H + h * d + c] * k[(b * T + j) * H + h * d + c];
      s[j] = dot / Math.sqrt(d) + (mask ? mask[b * T + j] : 0);
      mx = Math.max(mx, s[j]);
    }
    let z = 0;
    for (let j = 0; j < T; j++) z += (s[j] = Math.exp(s[j] - mx));
    for (let j = 0; j < T; j++) for (let c = 0; c < d; c++) out[(b * T + i) * H + h * d + c] += (s[j] / z) * v[(b * T + j) * H + h * d + c];
  }
  return out;
}

function setup(seed: number, B: number, T: number, H: number) {
  const rng = new Rng(seed);
  const mk = () => { const t = Tensor.randn([B * T, H], rng); t.requiresGrad = true; return t; };
  return { q: mk(), k: mk(), v: mk(), w: Tensor.randn([B * T, H], rng) };
}

for (const be of availableBackends()) {
  test(`fusedSelfAttention forward matches float64 loops and the unfused ops (${be.name})`, () => {
    setBackend(be);
    const B = 3, T = 5, H = 8, nh = 2;
    const { q, k, v } = setup(1, B, T, H);
    const keep = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0];
    const maskBias = attentionMaskBias(keep, B, T).data;
    const out = noGrad(() => fusedSelfAttention(q, k, v, { batch: B, seqLen: T, heads: nh, maskBias }));
    const ref = reference(q.data, k.data, v.data, B, T, H, nh, maskBias);
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(out.data[i] - ref[i]) < 1e-5, `ctx[${i}] ${out.data[i]} vs ${ref[i]}`);
    const heads = (t: Tensor) => permute(reshape(t, [B, T, nh, H / nh]), [0, 2, 1, 3]);
    const unfused = noGrad(() => {
      const s = add(matmul(heads(q), heads(k), { transB: true, alpha: 1 / Math.sqrt(H / nh) }), attentionMaskBias(keep, B, T));
      return reshape(permute(matmul(softmax(s, -1), heads(v)), [0, 2, 1, 3]), [B * T, H]);
    });
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(out.data[i] - unfused.data[i]) < 1e-5);
  });

  for (const dropoutP of [0, 0.3]) {
    test(`fusedSelfAttention gradients match central differences (dropout ${dropoutP}, ${be.name})`, () => {
      setBackend(be);
      const B = 2, T = 4, H = 6, nh = 3;
      const { q, k, v, w } = setup(2, B, T, H);
      const maskBias = attentionMaskBias([1, 1, 1, 0, 1, 1, 1, 1], B, T).data;
      // Same dropout mask in every evaluation: a fresh Rng with a fixed seed per call.
      const f = () => sum(mul(fusedSelfAttention(q, k, v, { batch: B, seqLen: T, heads: nh, maskBias, dropoutP, rng: new Rng(9), training: dropoutP > 0 }), w));
      backward(f());
      for (const t of [q, k, v]) {
        assert.ok(t.grad);
        for (let i = 0; i < t.size; i++) {
          const old = t.data[i];
          const h = 1e-2;
          t.data[i] = old + h;
          const lp = noGrad(f).item();
          t.data[i] = old - h;
          const lm = noGrad(f).item();
          t.data[i] = old;
          const fd = (lp - lm) / (2 * h);
          assert.ok(Math.abs(fd - t.grad.data[i]) <= 3e-3 + 1e-2 * Math.abs(fd), `grad[${i}] ${t.grad.data[i]} vs fd ${fd}`);
        }
      }
      // Padded keys get no gradient through k and v.
      for (let c = 0; c < H; c++) {
        assert.equal(k.grad!.data[3 * H + c], 0);
        assert.equal(v.grad!.data[3 * H + c], 0);
      }
    });
  }
}

test('fusedSelfAttention rejects bad shapes', () => {
  const { q, k, v } = setup(3, 2, 3, 4);
  assert.throws(() => fusedSelfAttention(q, k, v, { batch: 2, seqLen: 3, heads: 3 }), /invalid batch/);
  assert.throws(() => fusedSelfAttention(q, k, v, { batch: 3, seqLen: 3, heads: 2 }), /q has shape/);
  assert.throws(() => fusedSelfAttention(q, k, v, { batch: 2, seqLen: 3, heads: 2, maskBias: new Float32Array(5) }), /maskBias has 5/);
});

test('fusedSelfAttention: the per-sequence (1 thread) and per-head (2 threads) call orders give the same values and gradients', () => {
  const native = availableBackends().find((b) => b.name === 'native');
  for (const be of native ? [native] : availableBackends()) {
    setBackend(be);
    const prev = be.getThreads();
    const run = (threads: number) => {
      be.setThreads(threads);
      const { q, k, v, w } = setup(11, 3, 40, 32);
      const mask = attentionMaskBias(Float32Array.from({ length: 120 }, (_, i) => (i % 40 < 33 ? 1 : 0)), 3, 40);
      const ctx = fusedSelfAttention(q, k, v, { batch: 3, seqLen: 40, heads: 4, maskBias: mask.data });
      backward(sum(mul(ctx, w)));
      return [ctx.data, q.grad!.data, k.grad!.data, v.grad!.data].map((a) => Float32Array.from(a));
    };
    const a = run(1);
    const b = run(2);
    be.setThreads(prev);
    a.forEach((x, i) => x.forEach((y, j) => assert.ok(Math.abs(y - b[i][j]) <= 1e-5 + 1e-4 * Math.abs(b[i][j]), `${be.name} output ${i}[${j}]: ${y} vs ${b[i][j]}`)));
  }
});
