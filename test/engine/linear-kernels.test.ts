/**
 * The dense-layer kernels behind fusedLinear: backend linearForward (GEMM with the bias and GELU applied as an
 * epilogue) and geluBackwardColSums (GELU derivative + bias-gradient column sums in one pass), against float64
 * references, on shapes that take every path of the native GEMM driver (serial, row-split, column-split, small-M
 * order, several K slices), at 1 and 2 threads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, availableBackends, type Backend } from '../../src/engine/index.js';
import { nativeAddon } from '../../src/engine/backends/native.js';
import { assertClose, geluRef, randArr } from './reference-math.js';



/** d/dx GELU in float64 (central difference of the float64 reference; error ~1e-10). */
function geluGradRef(x: number, tanhApprox: boolean): number {
  const h = 1e-5;
  return (geluRef(x + h, tanhApprox) - geluRef(x - h, tanhApprox)) / (2 * h);
}

// rows x nIn -> nOut: tiny (serial), M >= N (row chunks sharing packed B), N >> M (column ranges, small-M order per
// range), M <= MC with N > MC (small-M order), K > KC (epilogue only after the last K slice), ragged edges everywhere.
const SHAPES: Array<[number, number, number]> = [
  [3, 5, 7], [300, 64, 200], [40, 64, 1100], [50, 40, 700], [50, 600, 700], [130, 600, 90], [97, 300, 333],
];

/** linearForward on every shape, act and bias choice against float64 references. */
function checkLinearForward(be: Backend, shapes: Array<[number, number, number]>): void {
  const rng = new Rng(21);
  for (const [rows, nIn, nOut] of shapes) {
    const x = randArr(rng, rows * nIn, 0.5);
    const w = randArr(rng, nOut * nIn, 0.1);
    const b = randArr(rng, nOut);
    const exact = new Float64Array(rows * nOut);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < nOut; o++) {
        let s = 0;
        for (let k = 0; k < nIn; k++) s += x[r * nIn + k] * w[o * nIn + k];
        exact[r * nOut + o] = s;
      }
    }
    for (const act of [0, 1, 2] as const) {
      for (const withBias of [true, false]) {
        const pre = new Float32Array(rows * nOut).fill(Number.NaN); // beta = 0 must ignore old contents
        const out = act === 0 ? null : new Float32Array(rows * nOut).fill(Number.NaN);
        be.linearForward(x, w, withBias ? b : null, pre, out, rows, nIn, nOut, act);
        const want = Array.from(exact, (v, i) => v + (withBias ? b[i % nOut] : 0));
        const tag = `${rows}x${nIn}->${nOut} act ${act} bias ${withBias}`;
        assertClose(pre, want, 1e-4, 1e-5, `pre ${tag}`);
        if (out) assertClose(out, want.map((v) => geluRef(v, act === 2)), 1e-4, 1e-5, `out ${tag}`);
      }
    }
  }
}

for (const be of availableBackends()) {
  for (const threads of [1, 2]) {
    test(`linearForward: pre = x·Wᵀ + b and out = GELU(pre), every GEMM path (${be.name}, ${threads} thread(s))`, () => {
      const saved = be.getThreads();
      be.setThreads(threads);
      try {
        checkLinearForward(be, SHAPES);
      } finally {
        be.setThreads(saved);
      }
    });
  }

  test(`linearForward: bad act or a missing out is refused (${be.name})`, () => {
    const x = new Float32Array(6), w = new Float32Array(6), pre = new Float32Array(4);
    assert.throws(() => be.linearForward(x, w, null, pre, null, 2, 3, 2, 1), /out is required/);
    assert.throws(() => be.linearForward(x, w, null, pre, pre, 2, 3, 2, 3 as 0), /act must be/);
  });

  test(`geluBackwardColSums: dx = dy·GELU'(x) and the column sums of dx, in place too (${be.name})`, () => {
    const rng = new Rng(22);
    for (const [rows, cols] of [[1, 1], [7, 33], [300, 1024], [1024, 300], [64, 17]] as Array<[number, number]>) {
      const x = randArr(rng, rows * cols, 2);
      const dy = randArr(rng, rows * cols);
      for (const tanhApprox of [false, true]) {
        const dxRef = Array.from(x, (v, i) => dy[i] * geluGradRef(v, tanhApprox));
        const sumRef = new Array<number>(cols).fill(0);
        dxRef.forEach((v, i) => { sumRef[i % cols] += v; });
        const dx = new Float32Array(rows * cols);
        const sums = new Float32Array(cols).fill(Number.NaN);
        be.geluBackwardColSums(x, dy, dx, rows, cols, tanhApprox, sums);
        const tag = `${rows}x${cols} tanh=${tanhApprox}`;
        assertClose(dx, dxRef, 1e-5, 1e-6, `dx ${tag}`);
        assertClose(sums, sumRef, 1e-4, 1e-4 * Math.sqrt(rows), `colSums ${tag}`);
        const inPlace = dy.slice();
        be.geluBackwardColSums(x, inPlace, inPlace, rows, cols, tanhApprox, null);
        assert.deepEqual(inPlace, dx, `in place (dx = dy) ${tag}`);
        const saved = be.getThreads();
        be.setThreads(saved === 1 ? 2 : 1);
        try {
          const other = new Float32Array(cols);
          be.geluBackwardColSums(x, dy, new Float32Array(rows * cols), rows, cols, tanhApprox, other);
          assert.deepEqual(other, sums, `column sums independent of the thread count ${tag}`);
        } finally {
          be.setThreads(saved);
        }
      }
    }
  });
}

const addon = nativeAddon();
const native = availableBackends().find((b) => b.name === 'native');
if (addon && native && addon.gemmInfo().openblas) {
  test('linearForward through OpenBLAS (epilogue after cblas_sgemm)', () => {
    addon.setGemmImpl('openblas');
    try {
      checkLinearForward(native, [[260, 520, 270], [40, 64, 1100]]);
    } finally {
      addon.setGemmImpl('auto');
    }
  });
}
