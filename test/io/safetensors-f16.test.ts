// F16 writing (src/io/dtypes.ts floatBitsToHalfBits, src/io/safetensors.ts `dtype: 'F16'`): checked against the
// reference (Rust) writer's F16 file byte for byte, the exact widening of every F16 value, and brute-force nearest
// rounding with ties to even.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { floatBitsToHalfBits, halfBitsToFloatBits } from '../../src/io/dtypes.js';
import { loadSafetensors, safetensorsToBytes, saveSafetensors, type ArrayToSave } from '../../src/io/safetensors.js';
import { CheckpointError } from '../../src/io/errors.js';
import { Rng } from '../../src/engine/index.js';

const FIX = new URL('../fixtures/io/', import.meta.url).pathname;
const f32 = (bits: number): number => new Float32Array(new Uint32Array([bits >>> 0]).buffer)[0];
const bitsOf = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0];

test('writing the reference F16 file back (F16 + F32 tensors) reproduces it byte for byte', () => {
  const ref = loadSafetensors(join(FIX, 'f16.safetensors'));
  const out = new Map<string, ArrayToSave>();
  for (const [name, t] of ref.tensors) out.set(name, { shape: t.shape, data: t.data as Float32Array, dtype: t.dtype === 'F16' ? 'F16' : 'F32' });
  assert.deepEqual(Buffer.from(safetensorsToBytes(out, ref.metadata ?? undefined)), readFileSync(join(FIX, 'f16.safetensors')));
});

test('every F16 bit pattern survives F16 → F32 → F16 (NaN payloads included)', () => {
  for (let h = 0; h < 65536; h++) {
    assert.equal(floatBitsToHalfBits(halfBitsToFloatBits(h)), h, `0x${h.toString(16)}`);
  }
});

/** Brute force: the F16 nearest to x among all finite halves (ties → even mantissa), Inf beyond the overflow point. */
function nearestHalf(x: number, finite: Array<[number, number]>): number {
  const maxHalf = 65504;
  const sign = Object.is(x, -0) || x < 0 ? 0x8000 : 0;
  const ax = Math.abs(x);
  if (ax >= maxHalf + 16) return sign | 0x7c00; // halfway to 2^16 and beyond round to Inf
  let lo = 0;
  let hi = finite.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (finite[mid][0] <= ax) lo = mid;
    else hi = mid;
  }
  const [a, ha] = finite[lo];
  const [b, hb] = finite[hi];
  const da = ax - a;
  const db = b - ax;
  const h = da < db ? ha : db < da ? hb : (ha & 1) === 0 ? ha : hb;
  return sign | (ax <= a ? ha : ax >= b ? hb : h);
}

test('F32 → F16 rounds to the nearest half with ties to even (brute force over random, boundary and tie values)', () => {
  const finite: Array<[number, number]> = [];
  for (let h = 0; h < 0x7c00; h++) finite.push([f32(halfBitsToFloatBits(h)), h]);
  const rng = new Rng(3);
  const values: number[] = [0, -0, 65504, 65519.99, 65520, -65520, 1e-8, 2 ** -25, 2 ** -25 * 1.0001, 2 ** -24, 3 * 2 ** -25, 1e30, -1e30];
  for (let i = 0; i < 20000; i++) {
    const e = rng.int(-30, 17);
    values.push((rng.random() < 0.5 ? -1 : 1) * (1 + rng.random()) * 2 ** e);
  }
  for (let h = 1; h < 0x7bff; h += 37) {
    // exact midpoints between neighbouring halves (representable in F32): the tie cases
    const a = f32(halfBitsToFloatBits(h));
    const b = f32(halfBitsToFloatBits(h + 1));
    values.push((a + b) / 2, -(a + b) / 2);
  }
  for (const v of values) {
    const x = Math.fround(v);
    assert.equal(floatBitsToHalfBits(bitsOf(x)), nearestHalf(x, finite), `x = ${x}`);
  }
  assert.equal(floatBitsToHalfBits(bitsOf(Infinity)), 0x7c00);
  assert.equal(floatBitsToHalfBits(bitsOf(-Infinity)), 0xfc00);
  const nan = floatBitsToHalfBits(bitsOf(NaN));
  assert.ok(((nan >> 10) & 0x1f) === 31 && (nan & 0x3ff) !== 0);
});

test('save as F16 → load gives each value rounded to the nearest half; F32 and I32 tensors unchanged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-f16-'));
  try {
    const rng = new Rng(5);
    const w = Float32Array.from({ length: 300 }, () => rng.normal() * 0.05);
    const b = Float32Array.from({ length: 7 }, () => rng.normal());
    const ids = Int32Array.from([3, -1, 70000]);
    const path = join(dir, 'm.safetensors');
    saveSafetensors(path, new Map<string, ArrayToSave>([
      ['w', { shape: [20, 15], data: w, dtype: 'F16' }], ['b', { shape: [7], data: b }], ['ids', { shape: [3], data: ids }],
    ]));
    const got = loadSafetensors(path).tensors;
    assert.equal(got.get('w')!.dtype, 'F16');
    assert.deepEqual(got.get('w')!.shape, [20, 15]);
    const back = got.get('w')!.data as Float32Array;
    for (let i = 0; i < w.length; i++) assert.equal(back[i], f32(halfBitsToFloatBits(floatBitsToHalfBits(bitsOf(w[i])))));
    assert.ok(Math.max(...Array.from(w, (v, i) => Math.abs(v - back[i]) / Math.max(Math.abs(v), 2 ** -14))) <= 2 ** -11);
    assert.deepEqual(got.get('b')!.data, b);
    assert.deepEqual(got.get('ids')!.data, ids);
    assert.ok(readFileSync(path).byteLength < 300 * 4, 'F16 halves the weight bytes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('F16 writer errors name the tensor: Int32Array data, tied names with different dtypes', () => {
  const d = new Float32Array(4);
  assert.throws(() => safetensorsToBytes(new Map<string, ArrayToSave>([['i', { shape: [2], data: new Int32Array(2), dtype: 'F16' }]])),
    (e: unknown) => e instanceof CheckpointError && /"?i"?.*F16/.test(e.message));
  assert.throws(() => safetensorsToBytes(new Map<string, ArrayToSave>([['a', { shape: [4], data: d, dtype: 'F16' }], ['b', { shape: [4], data: d }]])),
    (e: unknown) => e instanceof CheckpointError && /different dtype/.test(e.message));
});
