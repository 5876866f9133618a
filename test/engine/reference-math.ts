/**
 * Shared by the kernel tests: float64 reference math written independently of the engine's float kernels (erf to
 * ~1e-15, GELU in the erf form and the tanh approximation), random inputs and an element-wise closeness assertion.
 */
import assert from 'node:assert/strict';
import type { Rng } from '../../src/engine/index.js';

/** n normal samples (mean 0, std scale) as float32. */
export function randArr(rng: Rng, n: number, scale = 1): Float32Array {
  return rng.fillNormal(new Float32Array(n), 0, scale);
}

/** Fails at the first i with |actual[i] - expected[i]| > atol + rtol * |expected[i]| (NaN fails too). */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) assert.fail(`${what}[${i}]: got ${a}, expected ${e}`);
  }
}

/** erf to ~1e-15: Maclaurin series for |x| < 3, Lentz continued fraction for erfc beyond. */
export function erfRef(x: number): number {
  const z = Math.abs(x);
  if (z < 3) {
    let term = z;
    let s = z;
    for (let n = 1; n < 200; n++) {
      term *= (-z * z) / n;
      const add = term / (2 * n + 1);
      s += add;
      if (Math.abs(add) < 1e-17 * Math.abs(s)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * s;
  }
  // erfc(z) = exp(-z^2)/sqrt(pi) * 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + ...)))))
  let f = z;
  let C = z;
  let D = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    D = z + an * D;
    D = 1 / D;
    C = z + an / C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export function geluRef(x: number, tanhApprox: boolean): number {
  if (tanhApprox) return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  return 0.5 * x * (1 + erfRef(x / Math.SQRT2));
}
