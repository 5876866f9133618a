// Tests of bench/lib/report.ts (BENCHMARKS.md section updates) and bench/lib/fvecs.ts (vecs round trip, bad files),
// and bench/lib/glove.ts numpyNorm32 against hand-derived float32 values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { updateMarkdownSection, markdownTable } from '../../../bench/lib/report.js';
import { readFvecs, readIvecs, writeVecs, VecsFormatError } from '../../../bench/lib/fvecs.js';
import { numpyNorm32 } from '../../../bench/lib/glove.js';

const tmp = mkdtempSync(join(tmpdir(), 'bench-lib-'));

test('updateMarkdownSection creates, appends and replaces only its own section', () => {
  const p = join(tmp, 'B.md');
  updateMarkdownSection(p, 'a', 'first');
  assert.equal(readFileSync(p, 'utf8'), '# Benchmarks\n\n<!-- a:start -->\nfirst\n<!-- a:end -->\n');
  writeFileSync(p, readFileSync(p, 'utf8') + '\nhand-written text\n');
  updateMarkdownSection(p, 'b', 'other');
  updateMarkdownSection(p, 'a', 'second');
  const t = readFileSync(p, 'utf8');
  assert.ok(t.includes('<!-- a:start -->\nsecond\n<!-- a:end -->'));
  assert.ok(!t.includes('first'));
  assert.ok(t.includes('hand-written text') && t.includes('<!-- b:start -->\nother\n<!-- b:end -->'));
  writeFileSync(p, '<!-- c:start -->\n');
  assert.throws(() => updateMarkdownSection(p, 'c', 'x'), /unbalanced/);
});

test('markdownTable renders header, rule and dashes for missing cells', () => {
  assert.equal(markdownTable(['a', 'b'], [[1, null]]), '| a | b |\n|---|---|\n| 1 | – |');
});

test('vecs files round trip and bad files raise VecsFormatError', () => {
  const f = join(tmp, 'x.fvecs'), i = join(tmp, 'x.ivecs');
  const x = Float32Array.from({ length: 7 * 3 }, (_, j) => j / 3 - 2);
  writeVecs(f, x, 7, 3);
  const r = readFvecs(f);
  assert.deepEqual([r.n, r.d], [7, 3]);
  assert.deepEqual(Array.from(r.data), Array.from(x));
  assert.deepEqual(Array.from(readFvecs(f, 2).data), Array.from(x.subarray(0, 6)));
  writeVecs(i, Int32Array.from([5, -1, 7, 9]), 2, 2);
  assert.deepEqual(Array.from(readIvecs(i).data), [5, -1, 7, 9]);
  writeFileSync(join(tmp, 'bad.fvecs'), readFileSync(f).subarray(0, 30));
  assert.throws(() => readFvecs(join(tmp, 'bad.fvecs')), VecsFormatError);
  assert.throws(() => writeVecs(f, x, 8, 3), VecsFormatError);
});

test('numpyNorm32 equals float32 sqrt of the float32 sum of squares', () => {
  assert.equal(numpyNorm32(new Float32Array(100).fill(1), 0, 100), 10);
  assert.equal(numpyNorm32(Float32Array.from([3, 4]), 0, 2), 5);
  // 1 + 99 * 2^-24: each tiny square is lost against 1 when added one by one, but pairwise sums keep them
  const v = new Float32Array(100).fill(2 ** -12);
  v[0] = 1;
  const seq = Math.fround(Math.sqrt(1)); // sequential float32 order would give exactly 1
  assert.ok(numpyNorm32(v, 0, 100) > seq);
});
