// Tests of src/io/safetensors.ts: fixtures written by the reference Python library (test/fixtures/io, with the
// expected values as JSON computed by numpy/torch), byte-identical output, bit-exact round trips, lazy reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadSafetensors, openSafetensors, parseSafetensors, safetensorsToBytes, saveSafetensors, type ArrayToSave,
} from '../../src/io/safetensors.js';
import { CheckpointError } from '../../src/io/errors.js';
import { halfBitsToFloatBits } from '../../src/io/dtypes.js';

const FIX = new URL('../fixtures/io/', import.meta.url).pathname;

interface Expected { dtype: string; shape: number[]; f32bits?: number[]; i32?: number[] }

function expectedOf(name: string): Map<string, Expected> {
  const json = JSON.parse(readFileSync(join(FIX, name.replace('.safetensors', '.expected.json')), 'utf8'));
  return new Map(Object.entries(json as Record<string, Expected>));
}

function bitsOf(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

function checkAgainstExpected(file: string): void {
  const loaded = loadSafetensors(join(FIX, file));
  const exp = expectedOf(file);
  assert.deepEqual([...loaded.tensors.keys()].sort(), [...exp.keys()].sort(), file);
  for (const [name, e] of exp) {
    const t = loaded.tensors.get(name)!;
    assert.equal(t.dtype, e.dtype, `${file} ${name} dtype`);
    assert.deepEqual(t.shape, e.shape, `${file} ${name} shape`);
    if (e.f32bits) {
      assert.ok(t.data instanceof Float32Array, `${name} is float`);
      assert.deepEqual(bitsOf(t.data as Float32Array), e.f32bits, `${file} ${name} values`);
    } else {
      assert.ok(t.data instanceof Int32Array, `${name} is int`);
      assert.deepEqual(Array.from(t.data), e.i32, `${file} ${name} values`);
    }
  }
}

for (const f of ['f32', 'f32_i32', 'f16', 'bf16', 'i64', 'shared']) {
  test(`reads the reference library's ${f}.safetensors exactly`, () => checkAgainstExpected(`${f}.safetensors`));
}

test('F16/BF16 conversions agree with the reference conversion stored beside them', () => {
  for (const [file, src, ref] of [['f16', 'half', 'expected.half'], ['bf16', 'bf', 'expected.bf']]) {
    const t = loadSafetensors(join(FIX, `${file}.safetensors`)).tensors;
    assert.deepEqual(bitsOf(t.get(src)!.data as Float32Array), bitsOf(t.get(ref)!.data as Float32Array));
  }
  const i = loadSafetensors(join(FIX, 'i64.safetensors')).tensors;
  assert.deepEqual(i.get('position_ids')!.data, i.get('expected.position_ids')!.data);
});

test('every F16 bit pattern widens to the F32 of the same value (checked against the arithmetic definition)', () => {
  for (let h = 0; h < 65536; h++) {
    const exp = (h >> 10) & 0x1f;
    const man = h & 0x3ff;
    const sign = h & 0x8000 ? -1 : 1;
    const f = new Float32Array(new Uint32Array([halfBitsToFloatBits(h)]).buffer)[0];
    if (exp === 31 && man !== 0) {
      assert.ok(Number.isNaN(f), `h=${h}`);
      continue;
    }
    const value = exp === 31 ? sign * Infinity : exp === 0 ? sign * man * 2 ** -24 : sign * (1 + man / 1024) * 2 ** (exp - 15);
    assert.ok(Object.is(f, value), `h=0x${h.toString(16)}: ${f} vs ${value}`);
  }
});

test('metadata of a reference file is read', () => {
  assert.deepEqual({ ...loadSafetensors(join(FIX, 'f32.safetensors')).metadata }, { format: 'pt' });
  const shared = loadSafetensors(join(FIX, 'shared.safetensors'));
  assert.equal(shared.metadata['word_embeddings.weight'], 'decoder.weight');
});

function tensorsOf(file: string): Map<string, ArrayToSave> {
  const out = new Map<string, ArrayToSave>();
  for (const [name, t] of loadSafetensors(join(FIX, file)).tensors) out.set(name, { shape: t.shape, data: t.data });
  return out;
}

test('our writer reproduces the reference writer byte for byte (F32, F32+I32 ordering, padding)', () => {
  assert.deepEqual(
    Buffer.from(safetensorsToBytes(tensorsOf('f32.safetensors'), { format: 'pt' })),
    readFileSync(join(FIX, 'f32.safetensors')),
  );
  assert.deepEqual(Buffer.from(safetensorsToBytes(tensorsOf('f32_i32.safetensors'))), readFileSync(join(FIX, 'f32_i32.safetensors')));
});

test('save/load round trip is bit-exact, header 8-byte aligned, and leaves no temp files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  try {
    const rnd = new Float32Array(1000);
    const u = new Uint32Array(rnd.buffer);
    for (let i = 0; i < u.length; i++) u[i] = (Math.imul(i + 1, 2654435761) ^ (i << 7)) >>> 0; // arbitrary bit patterns incl. NaNs
    const tensors = new Map<string, ArrayToSave>([
      ['z.w', { shape: [10, 100], data: rnd }],
      ['a.view', { shape: [2, 3], data: rnd.subarray(10, 16) }], // a view with a non-zero byteOffset
      ['ids', { shape: [4], data: new Int32Array([-1, 0, 7, 2147483647]) }],
      ['s', { shape: [], data: new Float32Array([3]) }],
      ['e', { shape: [0, 5], data: new Float32Array(0) }],
    ]);
    const p = join(dir, 'm.safetensors');
    saveSafetensors(p, tensors, { step: '12', note: 'ünïcode' });
    assert.deepEqual(readdirSync(dir), ['m.safetensors']);
    const bytes = readFileSync(p);
    assert.equal((8 + Number(bytes.readBigUInt64LE(0))) % 8, 0);
    const back = loadSafetensors(p);
    assert.deepEqual({ ...back.metadata }, { note: 'ünïcode', step: '12' });
    for (const [name, t] of tensors) {
      const b = back.tensors.get(name)!;
      assert.deepEqual(b.shape, [...t.shape], name);
      assert.equal(b.data.constructor, t.data.constructor, name);
      assert.deepEqual(
        Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength),
        Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength), name,
      );
    }
    assert.deepEqual([...parseSafetensors(bytes).tensors.keys()], [...back.tensors.keys()]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lazy reader reads only the requested tensor and reports header info', () => {
  const f = openSafetensors(join(FIX, 'f64.safetensors'));
  try {
    assert.deepEqual(f.names().sort(), ['dbl', 'ok']);
    assert.equal(f.info('dbl').dtype, 'F64');
    assert.deepEqual(Array.from(f.get('ok').data), [0, 1, 2]); // fine although another tensor is F64
    assert.throws(() => f.get('dbl'), (e: unknown) =>
      e instanceof CheckpointError && e.tensor === 'dbl' && /F64 is not supported/.test(e.message));
    assert.throws(() => f.get('nope'), (e: unknown) => e instanceof CheckpointError && e.tensor === 'nope');
  } finally {
    f.close();
  }
  assert.throws(() => loadSafetensors(join(FIX, 'f64.safetensors')), /dtype F64 is not supported/);
});

test('I64 values outside int32 are rejected naming the tensor and element', () => {
  assert.throws(() => loadSafetensors(join(FIX, 'i64_overflow.safetensors')), (e: unknown) =>
    e instanceof CheckpointError && e.tensor === 'big' && /element 1 = 2147483648 does not fit in int32/.test(e.message));
});

test('a Float32Array under two names is written once and recorded as an alias (HF save_model convention)', () => {
  const w = new Float32Array([1, 2, 3, 4, 5, 6]);
  const bias = new Float32Array([9, 8]);
  const tensors = new Map<string, ArrayToSave>([
    ['realm.embeddings.word_embeddings.weight', { shape: [3, 2], data: w }],
    ['cls.predictions.decoder.weight', { shape: [3, 2], data: w }],
    ['cls.predictions.bias', { shape: [2], data: bias }],
    ['cls.predictions.decoder.bias', { shape: [2], data: new Float32Array(bias.buffer) }], // another view, same memory
  ]);
  const bytes = safetensorsToBytes(tensors);
  const back = parseSafetensors(bytes);
  assert.deepEqual([...back.tensors.keys()].sort(), ['cls.predictions.bias', 'cls.predictions.decoder.weight']);
  assert.deepEqual({ ...back.metadata }, {
    'cls.predictions.decoder.bias': 'cls.predictions.bias',
    'realm.embeddings.word_embeddings.weight': 'cls.predictions.decoder.weight',
  });
  assert.equal(bytes.byteLength, 8 + Number(Buffer.from(bytes).readBigUInt64LE(0)) + (6 + 2) * 4);
  // same tensors differently shaped cannot be tied
  tensors.set('z.bad', { shape: [6], data: w });
  assert.throws(() => safetensorsToBytes(tensors), (e: unknown) => e instanceof CheckpointError && e.tensor === 'z.bad');
});

test('writer rejects bad input clearly', () => {
  const bad = (m: Map<string, ArrayToSave>, re: RegExp): void => assert.throws(() => safetensorsToBytes(m), re);
  bad(new Map([['x', { shape: [2, 2], data: new Float32Array(3) }]]), /tensor "x": shape \[2,2\] does not match data length 3/);
  bad(new Map([['x', { shape: [2], data: new Float64Array(2) as unknown as Float32Array }]]), /Float32Array or Int32Array/);
  bad(new Map([['__metadata__', { shape: [1], data: new Float32Array(1) }]]), /reserved/);
});
