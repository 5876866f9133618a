// Error cases of src/io/safetensors.ts: truncated files (cut at many points), corrupt headers, bad offsets, dtypes
// and shapes. Each must raise a CheckpointError naming the file (and the tensor where one is involved).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadSafetensors, openSafetensors, parseSafetensors, safetensorsToBytes, type ArrayToSave,
} from '../../src/io/safetensors.js';
import { CheckpointError } from '../../src/io/errors.js';

const FIX = new URL('../fixtures/io/', import.meta.url).pathname;

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'st-err-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A file image from a raw header string and a data section. */
function image(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = Buffer.from(header, 'utf8');
  const out = Buffer.alloc(8 + h.length + data.length);
  out.writeBigUInt64LE(BigInt(h.length), 0);
  h.copy(out, 8);
  out.set(data, 8 + h.length);
  return out;
}

function rejects(bytes: Uint8Array, re: RegExp, tensor?: string): void {
  assert.throws(() => parseSafetensors(bytes, 'x.safetensors'), (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `CheckpointError expected, got ${e}`);
    assert.equal(e.file, 'x.safetensors');
    assert.match(e.message, re);
    assert.match(e.message, /^x\.safetensors: /);
    if (tensor !== undefined) assert.equal(e.tensor, tensor);
    return true;
  });
}

const T = (o: Record<string, unknown>): string => JSON.stringify(o);
const f32 = (shape: number[], offs: number[]): Record<string, unknown> => ({ dtype: 'F32', shape, data_offsets: offs });

test('a file truncated at any point is rejected with a clear error (file on disk and in memory)', () => {
  const tensors = new Map<string, ArrayToSave>([
    ['a', { shape: [3, 4], data: new Float32Array(12).fill(1) }],
    ['b', { shape: [5], data: new Float32Array(5).fill(2) }],
  ]);
  const full = safetensorsToBytes(tensors, { k: 'v' });
  const headerEnd = 8 + Number(Buffer.from(full).readBigUInt64LE(0));
  const cuts = [0, 1, 7, 8, 9, 20, headerEnd - 1, headerEnd, headerEnd + 1, headerEnd + 20, full.length - 4, full.length - 1];
  withDir((dir) => {
    for (const cut of cuts) {
      const p = join(dir, `cut${cut}.safetensors`);
      writeFileSync(p, full.subarray(0, cut));
      const expect = cut < 8 ? /too short/ : cut < headerEnd ? /header length \d+ goes beyond the end of the file/
        : /outside the data section|tensors cover/;
      assert.throws(() => loadSafetensors(p), (e: unknown) =>
        e instanceof CheckpointError && e.file === p && expect.test(e.message), `cut at ${cut}`);
      rejects(full.subarray(0, cut), expect);
    }
  });
});

test('lazy reader: a file truncated after opening fails on get, not with garbage', () => {
  withDir((dir) => {
    const p = join(dir, 'm.safetensors');
    writeFileSync(p, safetensorsToBytes(new Map([['w', { shape: [64], data: new Float32Array(64) }]])));
    const f = openSafetensors(p);
    try {
      truncateSync(p, readFileSync(p).length - 10);
      assert.throws(() => f.get('w'), /unexpected end of file while reading tensor "w"/);
    } finally {
      f.close();
    }
  });
});

test('missing file', () => {
  assert.throws(() => loadSafetensors('/nonexistent/m.safetensors'), /m\.safetensors: cannot open \(ENOENT\)/);
});

test('corrupt headers', () => {
  const good = image(T({ a: f32([1], [0, 4]) }), new Uint8Array(4));
  const notJson = Buffer.from(good);
  notJson[8] = 0x78; // '{' → 'x'
  rejects(notJson, /header is not valid JSON/);
  const badUtf8 = Buffer.from(good);
  badUtf8[10] = 0xff;
  rejects(badUtf8, /not valid UTF-8/);
  const huge = Buffer.from(good);
  huge.writeBigUInt64LE(1n << 40n, 0);
  rejects(huge, /exceeds the 100000000-byte limit/);
  rejects(image('[1,2]'), /not an object/);
  rejects(image(T({ a: 5 })), /entry is not an object/, 'a');
  rejects(image(T({ __metadata__: { k: 1 } })), /__metadata__\["k"\] is not a string/);
  rejects(image(T({ __metadata__: [] })), /__metadata__ must be an object/);
});

test('bad dtype, shape and byte lengths', () => {
  rejects(image(T({ a: { dtype: 'F99', shape: [1], data_offsets: [0, 4] } }), new Uint8Array(4)), /unknown dtype "F99"/, 'a');
  rejects(image(T({ a: { shape: [1], data_offsets: [0, 4] } }), new Uint8Array(4)), /unknown dtype undefined/, 'a');
  rejects(image(T({ a: f32([-1], [0, 4]) }), new Uint8Array(4)), /invalid shape/, 'a');
  rejects(image(T({ a: f32([1.5], [0, 4]) }), new Uint8Array(4)), /invalid shape/, 'a');
  rejects(image(T({ a: f32([2], [0, 4]) }), new Uint8Array(4)), /byte length 4 does not match dtype F32 × shape \[2\] = 8/, 'a');
  rejects(image(T({ a: { dtype: 'F16', shape: [3], data_offsets: [0, 4] } }), new Uint8Array(4)), /= 6/, 'a');
  // right length but wrong dtype claimed for the reader's conversion: U8 is a valid format dtype we do not read
  rejects(image(T({ a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] } }), new Uint8Array(4)), /dtype U8 is not supported/, 'a');
});

test('offsets outside, overlapping, misordered, with gaps or trailing bytes', () => {
  const d8 = new Uint8Array(8);
  rejects(image(T({ a: f32([1], [0, 4, 8]) }), d8), /invalid data_offsets/, 'a');
  rejects(image(T({ a: f32([1], [4, 0]) }), d8), /invalid data_offsets/, 'a');
  rejects(image(T({ a: f32([2], [4, 12]) }), d8), /outside the data section \(8 bytes/, 'a');
  rejects(image(T({ a: f32([1], [0, 4]), b: f32([1], [0, 4]) }), d8), /overlap the previous tensor/);
  rejects(image(T({ a: f32([2], [0, 8]), b: f32([1], [4, 8]) }), d8), /overlap/, 'b');
  rejects(image(T({ a: f32([1], [4, 8]) }), d8), /leave a gap after byte 0/, 'a');
  rejects(image(T({ a: f32([1], [0, 4]) }), d8), /data section is 8 bytes but the tensors cover 4 \(trailing bytes\)/);
  // header order need not follow data order (the reference accepts this too): b's data comes first
  const ok = parseSafetensors(image(T({ a: f32([1], [4, 8]), b: f32([1], [0, 4]) }), new Uint8Array(new Float32Array([1, 2]).buffer)));
  assert.deepEqual(Array.from(ok.tensors.get('a')!.data), [2]);
  assert.deepEqual(Array.from(ok.tensors.get('b')!.data), [1]);
});

test('a corrupt fixture from the reference writer is rejected, the intact one accepted', () => {
  const bytes = readFileSync(join(FIX, 'f16.safetensors'));
  parseSafetensors(bytes);
  const shorter = Buffer.from(bytes);
  shorter.writeBigUInt64LE(shorter.readBigUInt64LE(0) - 8n, 0); // header cut mid-JSON
  rejects(shorter, /not valid JSON|not valid UTF-8/);
  rejects(bytes.subarray(0, bytes.length - 2), /outside the data section/);
});
