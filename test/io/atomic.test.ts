// Tests of src/io/atomic.ts: whole-file and streaming atomic writes, failure in the middle leaves the old file and
// no temp file, stale temp cleanup by owner pid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  isProcessAlive, openAtomicWriter, removeStaleTemps, tempPathFor, writeFileAtomic, writeFileAtomicSync,
} from '../../src/io/atomic.js';

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('sync writes: string, bytes, chunks; replaces an existing file; no temp left', withDir((dir) => {
  const p = join(dir, 'f.txt');
  writeFileAtomicSync(p, 'héllo');
  assert.equal(readFileSync(p, 'utf8'), 'héllo');
  writeFileAtomicSync(p, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...readFileSync(p)], [1, 2, 3]);
  writeFileAtomicSync(p, [new Uint8Array([4]), new Uint8Array(0), new Uint8Array([5, 6])]);
  assert.deepEqual([...readFileSync(p)], [4, 5, 6]);
  assert.deepEqual(readdirSync(dir), ['f.txt']);
}));

test('a failure mid-write keeps the old file and removes the temp file (sync and async)', withDir(async (dir) => {
  const p = join(dir, 'f.bin');
  writeFileSync(p, 'old');
  function* failing(): Generator<Uint8Array> {
    yield new Uint8Array(1000);
    throw new Error('producer died');
  }
  assert.throws(() => writeFileAtomicSync(p, failing()), /producer died/);
  assert.equal(readFileSync(p, 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir), ['f.bin']);
  async function* failingAsync(): AsyncGenerator<Uint8Array> {
    yield new Uint8Array(10);
    throw new Error('async producer died');
  }
  await assert.rejects(writeFileAtomic(p, failingAsync()), /async producer died/);
  assert.equal(readFileSync(p, 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir), ['f.bin']);
  await assert.rejects(writeFileAtomic(join(dir, 'missing', 'x'), 'x'), /ENOENT/);
  assert.throws(() => writeFileAtomicSync(join(dir, 'missing', 'x'), 'x'), /ENOENT/);
}));

test('async writes of strings, bytes and async streams', withDir(async (dir) => {
  const p = join(dir, 'a.bin');
  await writeFileAtomic(p, 'abc');
  assert.equal(readFileSync(p, 'utf8'), 'abc');
  async function* gen(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 100; i++) yield new Uint8Array(1000).fill(i);
  }
  await writeFileAtomic(p, gen());
  const b = readFileSync(p);
  assert.equal(b.length, 100000);
  assert.ok(b.every((x, i) => x === Math.floor(i / 1000)));
  assert.deepEqual(readdirSync(dir), ['a.bin']);
}));

test('streaming writer: typed-array views written as raw bytes; abort discards; nothing visible before commit', withDir((dir) => {
  const p = join(dir, 'big.bin');
  const w = openAtomicWriter(p);
  const f = new Float32Array([1, 2, 3, 4]);
  w.write(f.subarray(1, 3));
  w.write('!');
  assert.equal(w.bytesWritten, 9);
  assert.deepEqual(readdirSync(dir).filter((n) => n === 'big.bin'), []); // not visible yet
  w.commit();
  const b = readFileSync(p);
  assert.deepEqual([b.readFloatLE(0), b.readFloatLE(4), b[8]], [2, 3, 0x21]);
  assert.throws(() => w.write('x'), /after commit/);
  const w2 = openAtomicWriter(p);
  w2.write('junk');
  w2.abort();
  assert.deepEqual(readdirSync(dir), ['big.bin']);
  assert.equal(readFileSync(p).length, 9);
}));

test('removeStaleTemps deletes temps of dead owners only (own ones when asked)', withDir((dir) => {
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  assert.equal(isProcessAlive(dead), false);
  assert.equal(isProcessAlive(process.pid), true);
  const deadTemp = `.x.bin.tmp-${dead}-abcdef`;
  writeFileSync(join(dir, deadTemp), 'partial');
  mkdirSync(join(dir, `.ckpt.tmp-${dead}-0a0b`));
  const own = tempPathFor(join(dir, 'y.bin'));
  writeFileSync(own, 'mine');
  const live = `.z.tmp-${process.ppid}-abc`; // the parent (test runner) is alive
  writeFileSync(join(dir, live), '');
  writeFileSync(join(dir, 'normal.tmp-1-a'), ''); // not hidden: not ours
  assert.deepEqual(removeStaleTemps(dir).sort(), [`.ckpt.tmp-${dead}-0a0b`, deadTemp].sort());
  assert.deepEqual(removeStaleTemps(dir, true), [own.split('/').pop()]);
  assert.deepEqual(readdirSync(dir).sort(), [live, 'normal.tmp-1-a'].sort());
}));
