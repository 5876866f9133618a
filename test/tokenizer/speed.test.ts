// Tokenizer throughput on the SQuAD v1.1 dev paragraphs (254k words): prints words/s for encode() (ids, type ids,
// masks, offsets) measured in CPU time of this process (robust to other jobs sharing the machine), with a loose
// floor that only catches pathological slow-downs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BertTokenizer } from '../../src/tokenizer/bertTokenizer.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = process.env.REALM_DATA_DIR ?? join(repo, '..', 'shared', 'data');

test('encode throughput on SQuAD dev paragraphs', () => {
  const paragraphs = readFileSync(join(dataDir, 'corpus', 'squad_v1.1_dev_paragraphs', 'paragraphs.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { text: string }).text);
  const tok = BertTokenizer.fromTokenizerJson(fileURLToPath(new URL('../fixtures/tokenizer/trained_tokenizer.json', import.meta.url)));
  const words = paragraphs.reduce((s, p) => s + p.split(/\s+/).filter(Boolean).length, 0);
  let tokens = 0;
  for (const p of paragraphs.slice(0, 200)) tokens += tok.encode(p).inputIds.length; // warm-up
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  tokens = 0;
  for (const p of paragraphs) tokens += tok.encode(p, null, { maxLength: 100_000 }).inputIds.length;
  const wall = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const cpu = (cu.user + cu.system) / 1e6;
  console.log(
    `# encode: ${words} words -> ${tokens} tokens; ${(words / cpu / 1e6).toFixed(2)} M words/s CPU ` +
      `(${cpu.toFixed(2)} s), ${(words / wall / 1e6).toFixed(2)} M words/s wall`,
  );
  assert.ok(words / cpu > 100_000, `only ${Math.round(words / cpu)} words/s`);
});
