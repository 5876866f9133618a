/**
 * Forward-value tests of the ops against brute-force references (index arithmetic written out here), plus
 * argument validation: matmul layouts, broadcasting, permute/concat/slice/indexSelect, reductions, cross-entropy,
 * dropout, masks and top-k.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../src/engine/index.js';
import { Tensor, Rng, setBackend } from '../../src/engine/index.js';

setBackend('js');

function near(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `[${i}] ${a[i]} vs ${b[i]}`);
}

/** Element at a multi-index of a contiguous tensor. */
function at(t: Tensor, ...idx: number[]): number {
  let o = 0;
  for (let d = 0; d < idx.length; d++) o = o * t.shape[d] + idx[d];
  return t.data[o];
}

test('matmul forward equals a brute-force product for every layout', () => {
  const rng = new Rng(1);
  const [B, M, K, N] = [3, 4, 5, 2];
  for (const tA of [false, true]) {
    for (const tB of [false, true]) {
      for (const bBatched of [false, true]) {
        const a = Tensor.randn(tA ? [B, K, M] : [B, M, K], rng);
        const b = Tensor.randn(bBatched ? (tB ? [B, N, K] : [B, K, N]) : tB ? [N, K] : [K, N], rng);
        const c = E.matmul(a, b, { transA: tA, transB: tB });
        assert.deepEqual(c.shape, [B, M, N]);
        const want: number[] = [];
        for (let bi = 0; bi < B; bi++) {
          for (let i = 0; i < M; i++) {
            for (let j = 0; j < N; j++) {
              let s = 0;
              for (let k = 0; k < K; k++) {
                const av = tA ? at(a, bi, k, i) : at(a, bi, i, k);
                const bv = bBatched ? (tB ? at(b, bi, j, k) : at(b, bi, k, j)) : tB ? at(b, j, k) : at(b, k, j);
                s += av * bv;
              }
              want.push(s);
            }
          }
        }
        near(c.data, want);
      }
    }
  }
  assert.throws(() => E.matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5])), /inner dims/);
  assert.throws(() => E.matmul(Tensor.zeros([2, 2, 3]), Tensor.zeros([3, 3, 5])), /batch dims/);
});

test('linear = x W^T + b', () => {
  const x = Tensor.fromArray([1, 2, 3, 4], [2, 2]);
  const w = Tensor.fromArray([1, 0, 0, 1, 1, 1], [3, 2]);
  const b = Tensor.fromArray([10, 20, 30]);
  assert.deepEqual(Array.from(E.linear(x, w, b).data), [11, 22, 33, 13, 24, 37]);
  assert.throws(() => E.linear(x, Tensor.zeros([3, 3])), /in-features/);
});

test('broadcasting arithmetic values', () => {
  const a = Tensor.fromArray([1, 2, 3], [3, 1]);
  const b = Tensor.fromArray([10, 20], [1, 2]);
  assert.deepEqual(E.add(a, b).toArray(), [[11, 21], [12, 22], [13, 23]]);
  assert.deepEqual(E.sub(b, a).toArray(), [[9, 19], [8, 18], [7, 17]]);
  assert.deepEqual(E.mul(a, b).toArray(), [[10, 20], [20, 40], [30, 60]]);
  assert.deepEqual(E.div(b, Tensor.fromArray([2, 4])).toArray(), [[5, 5]]);
  assert.deepEqual(Array.from(E.sub(1, Tensor.fromArray([3])).data), [-2]);
  assert.throws(() => E.add(Tensor.zeros([2, 3]), Tensor.zeros([2])), /not broadcastable/);
});

test('permute / transpose / concat / slice / indexSelect by index arithmetic', () => {
  const x = Tensor.randn([2, 3, 4], new Rng(2));
  const p = E.permute(x, [2, 0, 1]);
  assert.deepEqual(p.shape, [4, 2, 3]);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) assert.equal(at(p, k, i, j), at(x, i, j, k));
  const t = E.transpose(x, 0, -1);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) assert.equal(at(t, k, j, i), at(x, i, j, k));
  const y = Tensor.randn([2, 1, 4], new Rng(3));
  const c = E.concat([x, y], 1);
  assert.deepEqual(c.shape, [2, 4, 4]);
  for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) {
    for (let j = 0; j < 3; j++) assert.equal(at(c, i, j, k), at(x, i, j, k));
    assert.equal(at(c, i, 3, k), at(y, i, 0, k));
  }
  const s = E.slice(x, 2, 1, 3);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 2; k++) assert.equal(at(s, i, j, k), at(x, i, j, k + 1));
  const idx = Int32Array.from([2, 2, 0]);
  const g = E.indexSelect(x, 1, idx);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) assert.equal(at(g, i, j, k), at(x, i, idx[j], k));
  assert.throws(() => E.indexSelect(x, 1, Int32Array.from([3])), /out of range/);
  assert.throws(() => E.embedding(Tensor.zeros([4, 2]), Int32Array.from([4])), /out of range/);
  assert.deepEqual(E.reshape(x, [-1, 4]).shape, [6, 4]);
  assert.throws(() => E.reshape(x, [5, -1]), /cannot/);
  assert.deepEqual(E.stack([Tensor.fromArray([1, 2]), Tensor.fromArray([3, 4])], 1).toArray(), [[1, 3], [2, 4]]);
});

test('reductions and normalisers', () => {
  const x = Tensor.fromArray([1, 5, 3, 4, 2, 6], [2, 3]);
  assert.deepEqual(Array.from(E.sum(x, 0).data), [5, 7, 9]);
  assert.deepEqual(E.sum(x, 1, true).shape, [2, 1]);
  assert.equal(E.sum(x).item(), 21);
  assert.equal(E.mean(x).item(), 3.5);
  assert.deepEqual(Array.from(E.max(x, 1).data), [5, 6]);
  assert.equal(E.max(x).item(), 6);
  const lse = E.logsumexp(x, 1);
  near(lse.data, [Math.log(Math.exp(1) + Math.exp(5) + Math.exp(3)), Math.log(Math.exp(4) + Math.exp(2) + Math.exp(6))]);
  const sm = E.softmax(x, 0);
  for (let j = 0; j < 3; j++) near([at(sm, 0, j) + at(sm, 1, j)], [1]);
  near(E.exp(E.logSoftmax(x)).data, E.softmax(x).data);
});

test('layerNorm output has zero mean / unit variance per row before the affine map', () => {
  const x = Tensor.randn([3, 16], new Rng(4), 3, 5);
  const y = E.layerNorm(x, Tensor.ones([16]), Tensor.zeros([16]), 1e-12);
  for (let r = 0; r < 3; r++) {
    const row = y.data.subarray(r * 16, r * 16 + 16);
    const m = row.reduce((a, b) => a + b, 0) / 16;
    const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / 16;
    near([m, v], [0, 1], 1e-4);
  }
});

test('crossEntropy equals the mean negative log-softmax of the targets; all-ignored mean is 0', () => {
  const l = Tensor.randn([4, 5], new Rng(6));
  const t = Int32Array.from([1, -100, 4, 0]);
  const lsm = E.logSoftmax(l);
  const want = -(at(lsm, 0, 1) + at(lsm, 2, 4) + at(lsm, 3, 0)) / 3;
  near([E.crossEntropy(l, t).item()], [want]);
  near(E.crossEntropy(l, t, { reduction: 'none' }).data, [-at(lsm, 0, 1), 0, -at(lsm, 2, 4), -at(lsm, 3, 0)]);
  assert.equal(E.crossEntropy(l, Int32Array.from([-100, -100, -100, -100])).item(), 0);
  assert.throws(() => E.crossEntropy(l, Int32Array.from([5, 0, 0, 0])), /out of range/);
  near(E.gatherLast(lsm, Int32Array.from([1, 1, 4, 0])).data, [at(lsm, 0, 1), at(lsm, 1, 1), at(lsm, 2, 4), at(lsm, 3, 0)]);
});

test('dropout: identity when not training, keep rate ~1-p and survivors scaled by 1/(1-p)', () => {
  const x = Tensor.ones([20000]);
  assert.equal(E.dropout(x, 0.1, new Rng(1), false), x);
  assert.equal(E.dropout(x, 0, new Rng(1), true), x);
  const y = E.dropout(x, 0.25, new Rng(1), true);
  let kept = 0;
  for (const v of y.data) {
    if (v !== 0) {
      kept++;
      near([v], [1 / 0.75]);
    }
  }
  assert.ok(Math.abs(kept / 20000 - 0.75) < 0.01);
  assert.throws(() => E.dropout(x, 1, new Rng(1), true), /p must be/);
});

test('maskedFill and attentionMaskBias', () => {
  const x = Tensor.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.deepEqual(E.maskedFill(x, Uint8Array.from([0, 1, 0]), [3], -1).toArray(), [[1, -1, 3], [4, -1, 6]]);
  assert.throws(() => E.maskedFill(x, Uint8Array.from([1, 0]), [2], 0), /not broadcastable|does not broadcast/);
  assert.deepEqual(E.maskedFill(x, Uint8Array.from([1, 0, 0, 0, 0, 1]), 9).toArray(), [[9, 2, 3], [4, 5, 9]]);
  assert.throws(() => E.maskedFill(x, Uint8Array.from([1, 0]), 9), /mask length 2/);
  const m = E.attentionMaskBias([1, 0, 1, 1], 2, 2);
  assert.deepEqual(m.shape, [2, 1, 1, 2]);
  assert.deepEqual(Array.from(m.data), [0, -10000, 0, 0]);
  // padded key gets ~0 attention
  const p = E.softmax(E.add(Tensor.zeros([2, 1, 2, 2]), m));
  near([at(p, 0, 0, 0, 1), at(p, 0, 0, 0, 0), at(p, 1, 0, 1, 1)], [0, 1, 0.5]);
});

test('topk over leading dims', () => {
  const x = Tensor.fromArray([3, 1, 2, 9, 8, 7, 1, 1, 5, 0, 5, 5], [2, 2, 3]);
  const { values, indices } = E.topk(x, 2);
  assert.deepEqual(values.shape, [2, 2, 2]);
  assert.deepEqual(Array.from(values.data), [3, 2, 9, 8, 5, 1, 5, 5]);
  assert.deepEqual(Array.from(indices), [0, 2, 0, 1, 2, 0, 1, 2]);
  assert.equal(values.requiresGrad, false);
  assert.throws(() => E.topk(x, 4), /k=4/);
});
