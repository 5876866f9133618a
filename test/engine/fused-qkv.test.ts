/**
 * Packed QKV path of BERT's attention: `fusedQkvLinear` (one [H → 3H] GEMM over the three separate weights) equals
 * three `fusedLinear` calls and its gradients (x, each weight, each bias) match central finite differences;
 * `fusedSelfAttentionPacked` on [q | k | v] rows equals `fusedSelfAttention` on the separate tensors, values and
 * gradients, with padding mask and dropout — on every available backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, attentionMaskBias, availableBackends, backward, concat, mul, noGrad, setBackend, slice, sum } from '../../src/engine/index.js';
import { fusedSelfAttention, fusedSelfAttentionPacked } from '../../src/engine/ops/fused-attention.js';
import { fusedLinear } from '../../src/engine/ops/fused-linear.js';
import { fusedQkvLinear } from '../../src/engine/ops/fused-qkv.js';
import { gradcheck } from './gradcheck-helpers.js';

const param = (shape: number[], rng: Rng): Tensor => {
  const t = Tensor.randn(shape, rng);
  t.requiresGrad = true;
  return t;
};

for (const be of availableBackends()) {
  test(`fusedQkvLinear = three fusedLinear; gradients match central differences (${be.name})`, () => {
    setBackend(be);
    const rng = new Rng(4);
    const rows = 5, nIn = 6, H = 4;
    const x = param([rows, nIn], rng);
    const ws = [param([H, nIn], rng), param([H, nIn], rng), param([H, nIn], rng)] as [Tensor, Tensor, Tensor];
    const bs = [param([H], rng), param([H], rng), param([H], rng)] as [Tensor, Tensor, Tensor];
    const packed = noGrad(() => fusedQkvLinear(x, ws, bs));
    assert.deepEqual(packed.shape, [rows, 3 * H]);
    const sep = noGrad(() => concat(ws.map((w, i) => fusedLinear(x, w, bs[i])), 1));
    for (let i = 0; i < packed.size; i++) assert.ok(Math.abs(packed.data[i] - sep.data[i]) < 1e-5, `y[${i}] ${packed.data[i]} vs ${sep.data[i]}`);
    const withBias = gradcheck(([xx, a, b, c, d, e, f]) => fusedQkvLinear(xx, [a, b, c], [d, e, f]), [x, ...ws, ...bs]);
    assert.ok(withBias.ok, withBias.detail);
    const noBias = gradcheck(([xx, a, b, c]) => fusedQkvLinear(xx, [a, b, c], null), [x, ...ws]);
    assert.ok(noBias.ok, noBias.detail);
  });

  for (const dropoutP of [0, 0.3]) {
    test(`fusedSelfAttentionPacked = fusedSelfAttention on the split tensors, values and gradients (dropout ${dropoutP}, ${be.name})`, () => {
      setBackend(be);
      const rng = new Rng(5);
      const B = 2, T = 4, H = 6, nh = 3;
      const qkv = param([B * T, 3 * H], rng);
      const w = Tensor.randn([B * T, H], rng);
      const maskBias = attentionMaskBias([1, 1, 1, 0, 1, 1, 1, 1], B, T).data;
      const o = () => ({ batch: B, seqLen: T, heads: nh, maskBias, dropoutP, rng: new Rng(9), training: dropoutP > 0 });
      const split = (): Tensor[] => [0, 1, 2].map((i) => slice(qkv, 1, i * H, (i + 1) * H));
      const packed = () => sum(mul(fusedSelfAttentionPacked(qkv, o()), w));
      const unpacked = () => {
        const [q, k, v] = split();
        return sum(mul(fusedSelfAttention(q, k, v, o()), w));
      };
      const a = noGrad(() => fusedSelfAttentionPacked(qkv, o()));
      const [q, k, v] = noGrad(split);
      const b = noGrad(() => fusedSelfAttention(q, k, v, o()));
      assert.deepEqual(a.shape, [B * T, H]);
      for (let i = 0; i < a.size; i++) assert.ok(Math.abs(a.data[i] - b.data[i]) < 1e-6, `ctx[${i}]`);
      backward(unpacked());
      const ref = qkv.grad!.data.slice();
      qkv.grad = null;
      backward(packed());
      for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(qkv.grad!.data[i] - ref[i]) < 1e-5, `dqkv[${i}] ${qkv.grad!.data[i]} vs ${ref[i]}`);
      const fd = gradcheck(([t]) => fusedSelfAttentionPacked(t, o()), [qkv]);
      assert.ok(fd.ok, fd.detail);
    });
  }
}

test('packed QKV ops reject bad shapes', () => {
  const rng = new Rng(6);
  const x = Tensor.randn([3, 4], rng);
  const w = Tensor.randn([2, 4], rng);
  assert.throws(() => fusedQkvLinear(x, [w, w, Tensor.randn([3, 4], rng)], null), /weights must all be \[2, 4\]/);
  assert.throws(() => fusedQkvLinear(Tensor.randn([3, 5], rng), [w, w, w], null), /in-features 4/);
  assert.throws(() => fusedQkvLinear(x, [w, w, w], [Tensor.randn([2], rng), Tensor.randn([2], rng), Tensor.randn([3], rng)]), /biases must be \[2\]/);
  assert.throws(() => fusedSelfAttentionPacked(Tensor.randn([6, 7], rng), { batch: 2, seqLen: 3, heads: 1 }), /not 3 \* hidden/);
  assert.throws(() => fusedSelfAttentionPacked(Tensor.randn([5, 6], rng), { batch: 2, seqLen: 3, heads: 1 }), /expected 6 rows of 6/);
});
