// Tests of the on-disk document store: round trip (get, getMany, iteration, size) against the blocks written,
// Unicode text, empty store, atomic build (no temp file left, failed build leaves nothing), and clear errors for
// truncated, corrupted and foreign files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDocStore, DocStore, DocStoreWriter } from '../../src/corpus/docstore.js';
import type { Block } from '../../src/corpus/blocks.js';
import { CorpusError } from '../../src/corpus/types.js';

function makeBlocks(n: number): Block[] {
  const out: Block[] = [];
  let s = 12345;
  const r = (): number => ((s = (s * 1103515245 + 12345) >>> 0) % 1000) / 1000;
  for (let i = 0; i < n; i++) {
    const len = Math.floor(r() * 400);
    const chars = Array.from('aé東😀 \n'); // whole code points (😀 is a surrogate pair)
    const text = Array.from({ length: len }, (_, j) => chars[(i + j) % chars.length]).join('');
    out.push({ docId: `doc-${i >> 2}`, title: i % 3 === 0 ? '' : `Title ${i} Zürich`, text, start: i * 7, end: i * 7 + text.length });
  }
  return out;
}

async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'realm-store-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('docstore: round trip of 3,000 blocks by id, getMany, iteration and size', () =>
  withDir(async (dir) => {
    const blocks = makeBlocks(3000);
    const path = join(dir, 'blocks.rds');
    async function* gen() {
      yield* blocks;
    }
    assert.equal(await buildDocStore(path, gen()), blocks.length);
    assert.deepEqual(readdirSync(dir), ['blocks.rds'], 'no temp file left behind');
    const store = DocStore.open(path, { verify: true });
    try {
      assert.equal(store.size, blocks.length);
      for (const id of [0, 1, 2, 1499, 2999]) assert.deepEqual(store.get(id), { blockId: id, ...blocks[id] });
      const ids = [2999, 5, 5, 100];
      assert.deepEqual(store.getMany(ids), ids.map((id) => ({ blockId: id, ...blocks[id] })));
      assert.deepEqual([...store], blocks.map((b, i) => ({ blockId: i, ...b })));
      assert.deepEqual([...store.iterate(2990)].map((b) => b.blockId), Array.from({ length: 10 }, (_, i) => 2990 + i));
      assert.throws(() => store.get(3000), RangeError);
      assert.throws(() => store.get(-1), RangeError);
      assert.throws(() => store.get(1.5), RangeError);
    } finally {
      store.close();
    }
    assert.throws(() => store.get(0), /closed/);
  }));

test('docstore: empty store, writer ids, and a failed build leaves no file', () =>
  withDir(async (dir) => {
    const empty = join(dir, 'empty.rds');
    assert.equal(await buildDocStore(empty, []), 0);
    const s = DocStore.open(empty, { verify: true });
    assert.equal(s.size, 0);
    assert.deepEqual([...s], []);
    s.close();
    const w = new DocStoreWriter(join(dir, 'w.rds'));
    assert.equal(w.add({ docId: 'd', title: 't', text: 'x', start: 0, end: 1 }), 0);
    assert.equal(w.add({ docId: 'd', title: 't', text: 'y', start: 2, end: 3 }), 1);
    assert.throws(() => w.add({ docId: 'd', title: 't', text: 'y', start: 5, end: 3 }), /bad offsets/);
    assert.throws(() => w.add({ docId: 'd', title: 't', text: 'lone \ud83d', start: 0, end: 6 }), /lone surrogate/);
    w.finish();
    assert.equal(DocStore.open(join(dir, 'w.rds')).get(1).text, 'y');
    async function* failing() {
      yield makeBlocks(1)[0];
      throw new Error('source failed');
    }
    await assert.rejects(buildDocStore(join(dir, 'fail.rds'), failing()), /source failed/);
    assert.equal(existsSync(join(dir, 'fail.rds')), false);
    assert.deepEqual(readdirSync(dir).sort(), ['empty.rds', 'w.rds']);
  }));

test('docstore: truncated, corrupted and foreign files give CorpusErrors naming the file', () =>
  withDir(async (dir) => {
    const path = join(dir, 'ok.rds');
    await buildDocStore(path, makeBlocks(50));
    const bytes = readFileSync(path);
    const variant = (name: string, mutate: (b: Buffer) => Buffer): string => {
      const p = join(dir, name);
      writeFileSync(p, mutate(Buffer.from(bytes)));
      return p;
    };
    const isCorrupt = (p: string, re: RegExp) => (e: unknown) => e instanceof CorpusError && e.message.includes(p) && re.test(e.message);
    const truncated = variant('trunc.rds', (b) => b.subarray(0, b.length - 5));
    assert.throws(() => DocStore.open(truncated), isCorrupt(truncated, /truncated/));
    const tiny = variant('tiny.rds', (b) => b.subarray(0, 10));
    assert.throws(() => DocStore.open(tiny), isCorrupt(tiny, /shorter than/));
    const magic = variant('magic.rds', (b) => (b.write('NOTSTORE', 0, 'latin1'), b));
    assert.throws(() => DocStore.open(magic), isCorrupt(magic, /bad magic/));
    const header = variant('header.rds', (b) => (b[16] ^= 1, b));
    assert.throws(() => DocStore.open(header), isCorrupt(header, /header checksum/));
    const offsets = variant('offsets.rds', (b) => (b[b.length - 20] ^= 0xff, b));
    assert.throws(() => DocStore.open(offsets), isCorrupt(offsets, /offsets checksum/));
    // flip one byte inside the text of block 10: open succeeds (lazy), get(10) and verify() fail, others still read
    const store = DocStore.open(path);
    const at = (() => {
      const s = DocStore.open(path);
      s.close();
      return Number(bytes.readBigUInt64LE(Number(bytes.readBigUInt64LE(24)) + 8 * 11)) - 1; // last byte of block 10
    })();
    store.close();
    const rec = variant('record.rds', (b) => (b[at] ^= 0x01, b));
    const bad = DocStore.open(rec);
    assert.throws(() => bad.get(10), isCorrupt(rec, /checksum mismatch in block 10/));
    assert.deepEqual(bad.get(11), DocStore.open(path).get(11));
    assert.throws(() => bad.verify(), isCorrupt(rec, /records checksum/));
    assert.throws(() => DocStore.open(rec, { verify: true }), /records checksum/);
    bad.close();
    assert.throws(() => DocStore.open(join(dir, 'missing.rds')), isCorrupt(join(dir, 'missing.rds'), /cannot open/));
    truncateSync(path, statSync(path).size + 8);
    assert.throws(() => DocStore.open(path), /header implies/);
  }));
