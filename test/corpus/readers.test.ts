// Tests of the streaming corpus readers: JSON Lines (plain and gzip), malformed lines (file:line, skip or stop),
// invalid UTF-8, empty corpora, plain-text files/directories and the shared Wikipedia corpus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readJsonlCorpus } from '../../src/corpus/jsonl.js';
import { readTextCorpus } from '../../src/corpus/text.js';
import { openCorpus } from '../../src/corpus/shared.js';
import { CorpusError, type CorpusDoc } from '../../src/corpus/types.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataDir = process.env.REALM_DATA_DIR ?? join(repoRoot, '..', 'shared', 'data');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'realm-corpus-'));

async function collect(it: AsyncIterable<CorpusDoc>): Promise<CorpusDoc[]> {
  const out: CorpusDoc[] = [];
  for await (const d of it) out.push(d);
  return out;
}

const DOCS: CorpusDoc[] = [
  { id: 'a', title: 'Albedo', text: 'Albedo is the measure of the diffuse reflection.' },
  { id: '7', title: 'Zürich', text: 'Zürich — größte Stadt der Schweiz. 東京 too.' },
  { id: 'c', title: '', text: 'No title here.' },
];
const jsonl = DOCS.map((d) => JSON.stringify(d)).join('\n') + '\n';

test('jsonl: plain and gzip files yield the same documents, numeric ids become strings, CRLF ok', async () => {
  const dir = tmp();
  try {
    writeFileSync(join(dir, 'c.jsonl'), jsonl);
    writeFileSync(join(dir, 'c.jsonl.gz'), gzipSync(Buffer.from(jsonl)));
    writeFileSync(join(dir, 'crlf.jsonl'), jsonl.replace(/\n/g, '\r\n'));
    const withNumericId = jsonl.replace('"id":"7"', '"id":7');
    writeFileSync(join(dir, 'num.jsonl'), withNumericId);
    for (const f of ['c.jsonl', 'c.jsonl.gz', 'crlf.jsonl', 'num.jsonl']) {
      assert.deepEqual(await collect(readJsonlCorpus(join(dir, f))), DOCS, f);
    }
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('jsonl: a malformed line is reported as file:line and skipped, or stops the run', async () => {
  const dir = tmp();
  try {
    const lines = jsonl.trimEnd().split('\n');
    lines.splice(1, 0, '{"id": "x", "title": "broken"'); // line 2: invalid JSON
    lines.splice(3, 0, '{"id": "y", "title": "t"}'); // line 4: no text
    const f = join(dir, 'bad.jsonl.gz');
    writeFileSync(f, gzipSync(Buffer.from(lines.join('\n'))));
    const warnings: string[] = [];
    const docs = await collect(readJsonlCorpus(f, { onWarning: (m) => warnings.push(m) }));
    assert.deepEqual(docs, DOCS);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], new RegExp(`${f.replace(/[.]/g, '\\.')}:2: .*invalid JSON`));
    assert.match(warnings[1], /:4: .*"text"/);
    await assert.rejects(collect(readJsonlCorpus(f, { onError: 'stop' })), (e: unknown) => {
      assert.ok(e instanceof CorpusError);
      assert.equal(e.line, 2);
      assert.equal(e.file, f);
      assert.match(e.message, /bad\.jsonl\.gz:2:/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('jsonl: invalid UTF-8 bytes give an error naming file and line', async () => {
  const dir = tmp();
  try {
    const f = join(dir, 'latin1.jsonl');
    const bytes = Buffer.concat([
      Buffer.from(JSON.stringify(DOCS[0]) + '\n'),
      Buffer.from('{"id":"z","title":"Caf'),
      Buffer.from([0xe9]), // Latin-1 é, not UTF-8
      Buffer.from('","text":"x"}\n'),
    ]);
    writeFileSync(f, bytes);
    await assert.rejects(collect(readJsonlCorpus(f)), (e: unknown) => {
      assert.ok(e instanceof CorpusError);
      assert.match(e.message, /latin1\.jsonl:2: invalid UTF-8/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('jsonl: empty corpus, all-malformed corpus and a missing file are clear errors', async () => {
  const dir = tmp();
  try {
    writeFileSync(join(dir, 'empty.jsonl'), '');
    writeFileSync(join(dir, 'blank.jsonl.gz'), gzipSync(Buffer.from('\n\n')));
    writeFileSync(join(dir, 'junk.jsonl'), 'not json\n[1,2]\n');
    for (const f of ['empty.jsonl', 'blank.jsonl.gz', 'junk.jsonl']) {
      await assert.rejects(collect(readJsonlCorpus(join(dir, f), { onWarning: () => {} })), /empty corpus/, f);
    }
    await assert.rejects(collect(readJsonlCorpus(join(dir, 'missing.jsonl'))), (e: unknown) => e instanceof CorpusError && /missing\.jsonl/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('text: a directory of files gives one document per paragraph titled with the file name', async () => {
  const dir = tmp();
  try {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'Aristotle.txt'), 'Aristotle was a Greek philosopher.\nHe taught Alexander.\n\n\n  Second paragraph.  \n');
    writeFileSync(join(dir, 'sub', 'Anarchism.txt'), 'Anarchism is a political philosophy.');
    writeFileSync(join(dir, 'ignored.md'), 'not read');
    const docs = await collect(readTextCorpus(dir));
    assert.deepEqual(docs, [
      { id: 'Aristotle.txt#0', title: 'Aristotle', text: 'Aristotle was a Greek philosopher.\nHe taught Alexander.' },
      { id: 'Aristotle.txt#1', title: 'Aristotle', text: 'Second paragraph.' },
      { id: join('sub', 'Anarchism.txt') + '#0', title: 'Anarchism', text: 'Anarchism is a political philosophy.' },
    ]);
    const single = await collect(readTextCorpus(join(dir, 'ignored.md')));
    assert.deepEqual(single, [{ id: 'ignored.md#0', title: 'ignored', text: 'not read' }]);
    mkdirSync(join(dir, 'empty'));
    await assert.rejects(collect(readTextCorpus(join(dir, 'empty'))), /empty corpus/);
    writeFileSync(join(dir, 'bad.txt'), Buffer.from([0x61, 0x0a, 0xff, 0xfe, 0x0a]));
    await assert.rejects(collect(readTextCorpus(join(dir, 'bad.txt'))), /bad\.txt:2: invalid UTF-8/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('shared corpus: squad paragraphs stream completely and match the raw file', async () => {
  const path = join(dataDir, 'corpus', 'squad_v1.1_dev_paragraphs', 'paragraphs.jsonl');
  const raw = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
  const docs = await collect(openCorpus('squad_v1_1_dev_paragraphs', { dataDir }));
  assert.equal(docs.length, raw.length);
  for (const i of [0, 1, Math.floor(raw.length / 2), raw.length - 1]) {
    assert.deepEqual(docs[i], { id: raw[i].id, title: raw[i].title, text: raw[i].text });
  }
  // the gzip Wikipedia corpus: first record (lead passage of page 12, Anarchism), early stop releases the stream
  for await (const d of openCorpus('enwiki2015_first300_p100', { dataDir })) {
    assert.equal(d.id, 'enwiki2015-12-0');
    assert.equal(d.title, 'Anarchism');
    break;
  }
  assert.throws(() => openCorpus(join(dataDir, 'nope')), CorpusError);
});
