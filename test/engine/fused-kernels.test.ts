/**
 * The fused train-step kernels (backend dropoutApply, softmaxRowsBias, addRowBias, colSums, axpby) against float64 references
 * written here, native vs TypeScript parity (same dropout mask bit for bit, values within rel 1e-4), and the fused
 * residual add + LayerNorm op against the unfused layerNorm(add(a, b)) and central finite differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Rng, Tensor, add, availableBackends, backward, dropout, jsBackend, layerNorm, mul, nativeBackendOrNull, noGrad,
  setBackend, sum,
} from '../../src/engine/index.js';
import { addLayerNorm } from '../../src/engine/ops/fused-add-layernorm.js';
import { assertClose, randArr } from './reference-math.js';



/** murmur3 fmix32 of i * 0x9E3779B1 + s0 with s1 mixed in, in BigInt arithmetic (independent of Math.imul). */
function hashRef(i: number, s0: number, s1: number): number {
  const M = (1n << 32n) - 1n;
  let h = (BigInt(i) * 0x9e3779b1n + BigInt(s0)) & M;
  h ^= h >> 16n;
  h = (h * 0x85ebca6bn) & M;
  h ^= BigInt(s1);
  h ^= h >> 13n;
  h = (h * 0xc2b2ae35n) & M;
  h ^= h >> 16n;
  return Number(h);
}

for (const be of availableBackends()) {
  test(`dropoutApply: keep rule, scale, in-place, keep rate (${be.name})`, () => {
    const rng = new Rng(5);
    const n = 100_003; // > one parallel chunk, odd tail
    const x = randArr(rng, n);
    for (const p of [0, 0.1, 0.5]) {
      const out = new Float32Array(n);
      be.dropoutApply(x, out, n, p, 123456789, 4000000000);
      const thr = Math.min(Math.ceil(p * 2 ** 32), 2 ** 32 - 1);
      let kept = 0;
      for (let i = 0; i < n; i++) {
        const keep = hashRef(i, 123456789, 4000000000) >= thr;
        if (keep) kept++;
        const want = keep ? Math.fround(x[i] * Math.fround(1 / (1 - p))) : 0;
        if (out[i] !== want) assert.fail(`p=${p} out[${i}] = ${out[i]}, expected ${want}`);
      }
      assert.ok(Math.abs(kept / n - (1 - p)) < 0.01, `keep rate ${kept / n} for p=${p}`);
      const y = x.slice();
      be.dropoutApply(y, y, n, p, 123456789, 4000000000);
      assert.deepEqual(y, out, 'in place');
    }
    assert.throws(() => be.dropoutApply(x, x, n, 1, 0, 0), /p must be in/);
  });

  test(`softmaxRowsBias, addRowBias, colSums, axpby match float64 references (${be.name})`, () => {
    const rng = new Rng(6);
    const [groups, per, cols] = [3, 5, 37];
    const rows = groups * per;
    const x = randArr(rng, rows * cols, 3);
    const bias = randArr(rng, groups * cols, 2);
    for (let j = 0; j < cols; j += 4) bias[cols + j] = -10000; // masked keys in group 1
    const out = new Float32Array(rows * cols);
    be.softmaxRowsBias(x, bias, out, rows, cols, per);
    const want = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const z = Array.from({ length: cols }, (_, j) => x[r * cols + j] + bias[Math.floor(r / per) * cols + j]);
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      e.forEach((v, j) => (want[r * cols + j] = v / s));
    }
    assertClose(out, want, 1e-5, 1e-7, 'softmaxRowsBias');
    const inPlace = x.slice();
    be.softmaxRowsBias(inPlace, bias, inPlace, rows, cols, per);
    assertClose(inPlace, out, 0, 0, 'softmaxRowsBias in place');

    const [R, C] = [300, 1000]; // big enough to take the threaded path natively
    const m = randArr(rng, R * C);
    const rb = randArr(rng, C);
    const mb = m.slice();
    be.addRowBias(mb, rb, R, C);
    assertClose(mb, Array.from(m, (v, i) => v + rb[i % C]), 1e-6, 1e-6, 'addRowBias');
    const cs = new Float32Array(C);
    be.colSums(m, R, C, cs);
    const csRef = new Float64Array(C);
    for (let r = 0; r < R; r++) for (let j = 0; j < C; j++) csRef[j] += m[r * C + j];
    assertClose(cs, csRef, 1e-5, 1e-4, 'colSums');

    const n = R * C;
    const a = randArr(rng, n);
    const b = randArr(rng, n);
    const o = new Float32Array(n);
    be.axpby(0.5, a, -2, b, o, n);
    assertClose(o, Array.from(a, (v, i) => 0.5 * v - 2 * b[i]), 1e-6, 1e-6, 'axpby');
    be.axpby(1, a, 1, b, o, n);
    assertClose(o, Array.from(a, (v, i) => v + b[i]), 1e-6, 1e-6, 'axpby 1,1');
    const nanY = new Float32Array(n).fill(NaN);
    be.axpby(3, a, 0, nanY, o, n);
    assertClose(o, Array.from(a, (v) => 3 * v), 1e-6, 1e-6, 'axpby beta 0 ignores y');
  });

  test(`addLayerNorm matches layerNorm(add(a, b)) and finite differences (${be.name})`, () => {
    setBackend(be);
    try {
      const rng = new Rng(7);
      const mk = (shape: number[], std = 1): Tensor => {
        const t = Tensor.randn(shape, rng, std);
        t.requiresGrad = true;
        return t;
      };
      const [a, b, g, bt] = [mk([3, 4, 6]), mk([3, 4, 6]), mk([6], 0.5), mk([6], 0.5)];
      const w = Tensor.randn([3, 4, 6], rng);
      const fused = noGrad(() => addLayerNorm(a, b, g, bt, 1e-5));
      const ref = noGrad(() => layerNorm(add(a, b), g, bt, 1e-5));
      assertClose(fused.data, ref.data, 1e-5, 1e-5, 'forward');
      const f = (): Tensor => sum(mul(addLayerNorm(a, b, g, bt, 1e-5), w));
      backward(f());
      for (const p of [a, b, g, bt]) {
        for (let i = 0; i < p.size; i++) {
          const old = p.data[i];
          const h = 1e-2;
          p.data[i] = old + h;
          const lp = noGrad(f).item();
          p.data[i] = old - h;
          const lm = noGrad(f).item();
          p.data[i] = old;
          const fd = (lp - lm) / (2 * h);
          assert.ok(Math.abs(fd - p.grad!.data[i]) <= 3e-3 + 1e-2 * Math.abs(fd), `grad[${i}] ${p.grad!.data[i]} vs fd ${fd}`);
        }
      }
      assert.throws(() => addLayerNorm(a, Tensor.zeros([3, 6]), g, bt), /same shape/);
    } finally {
      setBackend(jsBackend);
    }
  });
}

const nb = nativeBackendOrNull(); // the parity tests need the addon (availableBackends covers the rest)
if (nb) test('native and TypeScript kernels agree: dropout mask bit for bit, softmaxRowsBias / colSums within 1e-4', () => {
  const rng = new Rng(8);
  const n = 200_000;
  const x = randArr(rng, n);
  const [oj, on] = [new Float32Array(n), new Float32Array(n)];
  jsBackend.dropoutApply(x, oj, n, 0.1, 77, 2 ** 32 - 1);
  nb.dropoutApply(x, on, n, 0.1, 77, 2 ** 32 - 1);
  assert.deepEqual(on, oj);
  const [rows, cols, per] = [4 * 4 * 128, 128, 4 * 128]; // attention-sized: B=4, heads=4, T=128
  const s = randArr(rng, rows * cols, 2);
  const bias = new Float32Array((rows / per) * cols).map((_, i) => (i % 7 === 0 ? -10000 : 0));
  const [sj, sn] = [new Float32Array(rows * cols), new Float32Array(rows * cols)];
  jsBackend.softmaxRowsBias(s, bias, sj, rows, cols, per);
  nb.softmaxRowsBias(s, bias, sn, rows, cols, per);
  assertClose(sn, sj, 1e-4, 1e-7, 'softmaxRowsBias');
  const [cj, cn] = [new Float32Array(cols), new Float32Array(cols)];
  jsBackend.colSums(s, rows, cols, cj);
  nb.colSums(s, rows, cols, cn);
  assertClose(cn, cj, 1e-4, 1e-4, 'colSums');
});

if (nb) test('dropout op: same mask on both backends for the same rng state', () => {
  const x = Tensor.randn([64, 100], new Rng(2));
  const ys = [jsBackend, nb].map((be) => {
    setBackend(be);
    try {
      return dropout(x, 0.2, new Rng(11), true).data;
    } finally {
      setBackend(jsBackend);
    }
  });
  assert.deepEqual(ys[1], ys[0]);
});
