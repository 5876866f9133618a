/**
 * Optimiser tests: AdamW against a hand-computed two-step update (decoupled decay, bias correction), BERT decay
 * exclusions, state/loadState resume, the warm-up/decay schedule and global-norm clipping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, AdamW, bertDecayExclusions, linearWarmupDecay, clipGradNorm, setBackend } from '../../src/engine/index.js';

setBackend('js');

function close(a: number, b: number, tol = 1e-6): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);
}

test('AdamW matches a hand-computed two-step update, with and without decay', () => {
  const w = Tensor.param([1.0, -2.0], [2]);
  const bias = Tensor.param([0.5], [1]);
  const params = new Map([['dense.weight', w], ['dense.bias', bias]]);
  const [lr, b1, b2, eps, wd] = [0.1, 0.9, 0.999, 1e-6, 0.01];
  const opt = new AdamW(params, { lr, betas: [b1, b2], eps, weightDecay: wd, decay: bertDecayExclusions });
  const grads = [
    [[0.5, -1.0], [2.0]],
    [[-0.25, 0.75], [-1.0]],
  ];
  // hand computation in float64
  const ref = [[1.0, -2.0], [0.5]];
  const m = [[0, 0], [0]];
  const v = [[0, 0], [0]];
  for (let t = 1; t <= 2; t++) {
    w.grad = Tensor.fromArray(grads[t - 1][0]);
    bias.grad = Tensor.fromArray(grads[t - 1][1]);
    opt.step();
    for (let p = 0; p < 2; p++) {
      const decay = p === 0 ? wd : 0;
      for (let i = 0; i < ref[p].length; i++) {
        const g = grads[t - 1][p][i];
        ref[p][i] *= 1 - lr * decay;
        m[p][i] = b1 * m[p][i] + (1 - b1) * g;
        v[p][i] = b2 * v[p][i] + (1 - b2) * g * g;
        ref[p][i] -= (lr * (m[p][i] / (1 - b1 ** t))) / (Math.sqrt(v[p][i] / (1 - b2 ** t)) + eps);
      }
    }
    close(w.data[0], ref[0][0]);
    close(w.data[1], ref[0][1]);
    close(bias.data[0], ref[1][0]);
  }
  // step 1 of Adam moves each coordinate by ~lr * sign(g): sanity of the reference itself
  assert.equal(opt.stepCount, 2);
  opt.zeroGrad();
  assert.equal(w.grad, null);
  opt.step(); // no grads: nothing changes
  close(w.data[0], ref[0][0]);
});

test('bertDecayExclusions', () => {
  assert.equal(bertDecayExclusions('encoder.layer.0.attention.self.query.weight'), true);
  assert.equal(bertDecayExclusions('encoder.layer.0.attention.self.query.bias'), false);
  assert.equal(bertDecayExclusions('embeddings.LayerNorm.weight'), false);
  assert.equal(bertDecayExclusions('final_layer_norm.gamma'), false);
  const opt = new AdamW({ 'a.weight': Tensor.param([1], [1]), 'a.bias': Tensor.param([1], [1]) }, { decay: bertDecayExclusions });
  assert.equal(opt.decays('a.weight'), true);
  assert.equal(opt.decays('a.bias'), false);
});

test('state()/loadState() resume gives identical parameters to an uninterrupted run', () => {
  const run = (split: boolean): Float32Array => {
    let p = Tensor.param([0.3, -0.7, 1.1], [3]);
    let opt = new AdamW([p], { lr: 0.05, weightDecay: 0.1 });
    for (let s = 0; s < 5; s++) {
      if (split && s === 2) {
        const st = opt.state();
        const data = p.data.slice();
        p = Tensor.param(data, [3]);
        opt = new AdamW([p], { lr: 0.05, weightDecay: 0.1 });
        opt.loadState(st);
      }
      p.grad = Tensor.fromArray([Math.sin(s), Math.cos(s), s / 3]);
      opt.step();
    }
    return p.data;
  };
  assert.deepEqual(run(true), run(false));
  const opt = new AdamW([Tensor.param([1, 2], [2])]);
  assert.throws(() => opt.loadState({ step: 1, m: { p0: new Float32Array(3) }, v: { p0: new Float32Array(2) } }), /sizes 3\/2/);
  assert.throws(() => opt.loadState({ step: 1, m: {}, v: {} }), /missing moments/);
});

test('linearWarmupDecay schedule values', () => {
  const f = linearWarmupDecay({ warmupSteps: 10, totalSteps: 110, peakLr: 1e-3 });
  close(f(0), 0);
  close(f(5), 5e-4);
  close(f(10), 1e-3);
  close(f(60), 5e-4);
  close(f(110), 0);
  close(f(200), 0);
  const g = linearWarmupDecay({ warmupSteps: 0, totalSteps: 4, peakLr: 2 });
  close(g(0), 2);
  close(g(1), 1.5);
  assert.throws(() => linearWarmupDecay({ warmupSteps: 5, totalSteps: 4, peakLr: 1 }));
});

test('clipGradNorm returns the global norm and rescales only when above maxNorm', () => {
  const a = Tensor.param([0, 0], [2]);
  const b = Tensor.param([0], [1]);
  const c = Tensor.param([0], [1]); // no grad: skipped
  a.grad = Tensor.fromArray([3, 0]);
  b.grad = Tensor.fromArray([4]);
  const n = clipGradNorm([a, b, c], 10);
  close(n, 5);
  assert.deepEqual(Array.from(a.grad.data), [3, 0]);
  const n2 = clipGradNorm([a, b, c], 1);
  close(n2, 5);
  close(a.grad.data[0], 0.6, 1e-5);
  close(b.grad!.data[0], 0.8, 1e-5);
});
