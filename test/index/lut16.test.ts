// LUT16 fast scan: the vpshufb (AVX2) kernel, the native scalar kernel and the TypeScript reference give exactly
// the same uint16 sums, which equal a direct per-point sum of LUT entries; code packing round-trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLut, lut16ScanJs, packCode, unpackCode } from '../../src/index/lut16.js';
import { Rng } from '../../src/index/kmeans.js';
import { indexAddon } from '../../src/index/native.js';

function randomCodes(points: number, pairs: number, seed: number): { packed: Uint8Array; codes: Uint8Array } {
  const rng = new Rng(seed), M = 2 * pairs;
  const codes = new Uint8Array(points * M);
  for (let i = 0; i < codes.length; i++) codes[i] = Math.floor(rng.next() * 16);
  const packed = new Uint8Array(Math.ceil(points / 32) * pairs * 32);
  for (let p = 0; p < points; p++) packCode(packed, pairs, p, codes, p * M);
  return { packed, codes };
}

test('packCode / unpackCode round trip', () => {
  const pairs = 5, points = 70;
  const { packed, codes } = randomCodes(points, pairs, 1);
  for (let p = 0; p < points; p++) assert.deepEqual(Array.from(unpackCode(packed, pairs, p)), Array.from(codes.subarray(p * 10, p * 10 + 10)));
});

test('LUT16 scan: TypeScript equals a direct sum; native avx2 and scalar equal it exactly', () => {
  for (const pairs of [1, 25, 64]) {
    const groups = 7, points = groups * 32;
    const { packed, codes } = randomCodes(points, pairs, pairs);
    const rng = new Rng(99 + pairs);
    const lut = new Uint8Array(pairs * 32);
    for (let i = 0; i < lut.length; i++) lut[i] = Math.floor(rng.next() * 256);
    lut[0] = 255;
    const js = lut16ScanJs(packed, lut, pairs, groups);
    for (let p = 0; p < points; p++) {
      let s = 0;
      for (let m = 0; m < 2 * pairs; m++) s += lut[(m >> 1) * 32 + (m & 1) * 16 + codes[p * 2 * pairs + m]!]!;
      assert.equal(js[p], s, `point ${p}`);
    }
    const addon = indexAddon();
    if (!addon) continue;
    const before = addon.indexIsa();
    try {
      const isas: ('scalar' | 'avx2')[] = before === 'avx2' ? ['scalar', 'avx2'] : ['scalar'];
      for (const isa of isas) {
        addon.indexIsa(isa);
        assert.deepEqual(Array.from(addon.indexLut16Scan(packed, lut, pairs, groups)), Array.from(js), `isa ${isa}, pairs ${pairs}`);
      }
    } finally {
      addon.indexIsa('auto');
    }
  }
});

test('buildLut: dequantised LUT sums approximate the float inner products', () => {
  const pairs = 3, d = 11, M = 2 * pairs;
  const rng = new Rng(4);
  const cb = new Float32Array(M * 32).map(() => rng.next() * 2 - 1);
  const q = new Float32Array(d).map(() => rng.next() * 2 - 1);
  const { lut8, bias, scale } = buildLut(q, 0, d, cb, pairs);
  const code = [3, 15, 0, 7, 9, 1];
  let exact = 0, approx = bias;
  for (let m = 0; m < M; m++) {
    const c = code[m]!;
    exact += (2 * m < d ? q[2 * m]! : 0) * cb[(m * 16 + c) * 2]! + (2 * m + 1 < d ? q[2 * m + 1]! : 0) * cb[(m * 16 + c) * 2 + 1]!;
    approx += lut8[(m >> 1) * 32 + (m & 1) * 16 + c]! / scale;
  }
  assert.ok(Math.abs(exact - approx) <= (M * 0.5) / scale + 1e-5, `${exact} vs ${approx}`);
});

test('LUT16 scan at the uint16 ceiling: 256 sub-quantisers of 255 sum to 65280 on every kernel', () => {
  // The AVX2 kernel adds whole 16-bit words (even + 256 * odd point) that wrap many times and subtracts the odd
  // bytes at the end; the result must still be exact when every sum is near 2^16.
  const pairs = 128, groups = 3;
  const { packed } = randomCodes(groups * 32, pairs, 5);
  const lut = new Uint8Array(pairs * 32).fill(255);
  const want = Array.from({ length: groups * 32 }, () => 2 * pairs * 255);
  assert.deepEqual(Array.from(lut16ScanJs(packed, lut, pairs, groups)), want);
  const addon = indexAddon();
  if (!addon) return;
  const before = addon.indexIsa();
  try {
    for (const isa of before === 'avx2' ? (['scalar', 'avx2'] as const) : (['scalar'] as const)) {
      addon.indexIsa(isa);
      assert.deepEqual(Array.from(addon.indexLut16Scan(packed, lut, pairs, groups)), want, `isa ${isa}`);
    }
  } finally {
    addon.indexIsa('auto');
  }
});
