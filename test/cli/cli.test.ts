/**
 * CLI tests (spawned as `node --import tsx src/cli/main.ts`): help and version; bad input — unknown command or flag,
 * text without [MASK], missing model, missing or invalid config — gives exactly one error line and exit code 2 (no
 * stack unless REALM_DEBUG=1); fill prints predictions and evidence (text and --json, honouring --k/--top) on a tiny
 * trained model; tokenize; embed builds a store + index that fill can use via --corpus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTinyRealmModel, ROOT, runCliSync } from '../train/helpers.js';

function oneErrorLine(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.status, 2, `exit code 2 expected, got ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n').filter((l) => !/native backend unavailable/.test(l));
  assert.equal(lines.length, 1, `one error line expected:\n${r.stderr}`);
  assert.match(lines[0], /^realm-lm: /);
  assert.match(lines[0], pattern);
}

test('the package bin (dist/src/cli/main.js, built at install) is an executable node script', () => {
  const bin = join(ROOT, JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).bin['realm-lm']);
  assert.ok(existsSync(bin), `${bin} is missing: npm install (or npm run build) builds it`);
  assert.ok((statSync(bin).mode & 0o111) !== 0, `${bin} is not executable, so npx realm-lm fails with "Permission denied"`);
  assert.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});

test('help, version and usage errors', () => {
  const h = runCliSync(['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /Usage:[\s\S]*realm-lm fill/);
  const v = runCliSync(['--version']);
  assert.equal(v.status, 0);
  assert.equal(v.stdout.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  oneErrorLine(runCliSync(['frobnicate']), /unknown command "frobnicate"/);
  oneErrorLine(runCliSync(['fill', 'a [MASK]', '--bogus']), /fill: .*--bogus/);
  oneErrorLine(runCliSync(['fill', 'no mask here']), /no \[MASK\]/);
  oneErrorLine(runCliSync(['fill', 'x [MASK]', '--k', 'many']), /--k must be an integer/);
  oneErrorLine(runCliSync(['fill', 'x [MASK]', '--model', '/nonexistent/model']), /\/nonexistent\/model does not exist/);
  oneErrorLine(runCliSync(['fill', 'x [MASK]'], { REALM_MODEL_DIR: '/nonexistent/default' }), /default model is not installed/);
  oneErrorLine(runCliSync(['pretrain']), /--config FILE is required/);
  oneErrorLine(runCliSync(['pretrain', '--config', '/nonexistent/c.json']), /\/nonexistent\/c\.json: cannot read config file/);
  oneErrorLine(runCliSync(['index', 'rebuild']), /unknown index sub-command/);
  const dbg = runCliSync(['fill', 'x [MASK]', '--model', '/nonexistent/model'], { REALM_DEBUG: '1' });
  assert.equal(dbg.status, 2);
  assert.match(dbg.stderr, /\n\s+at /, 'REALM_DEBUG=1 prints the stack');
});

test('fill, tokenize, embed and a bad config on a tiny trained model', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-cli-'));
  try {
    const { modelDir, corpus, vocab } = await makeTinyRealmModel(dir);
    const j = runCliSync(['fill', 'Marie Curie was born in [MASK].', '--model', modelDir, '--json', '--k', '2', '--top', '4']);
    assert.equal(j.status, 0, j.stderr);
    const out = JSON.parse(j.stdout);
    assert.equal(out.predictions.length, 4);
    assert.equal(out.evidence.length, 2);
    const total = out.nullProb + out.evidence.reduce((s: number, e: { prob: number }) => s + e.prob, 0);
    assert.ok(Math.abs(total - 1) < 1e-5, 'p(z|x) over the passages and the null document sums to 1');
    const support = out.nullSupport + out.evidence.reduce((s: number, e: { support: number }) => s + e.support, 0);
    assert.ok(Math.abs(support - 1) < 1e-5, `the support p(z|x,ŷ) over the passages and the null document sums to 1 (${support})`);
    const t = runCliSync(['fill', 'Marie Curie was born in [MASK].', '--model', modelDir, '--top', '2', '--k', '3']);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /Predictions \(p\(y\|x\)\):\n\s+1\. .+\n\s+2\. /);
    assert.match(t.stdout, /Evidence \(p\(z\|x\) = retrieval probability; support = p\(z\|x,ŷ\)/);
    assert.match(t.stdout, /\n  p\(z\|x\)  support\n  \d\.\d{4}  \d\.\d{4}  \[\d+\] /);
    const shown = [...t.stdout.matchAll(/^  \d\.\d{4}  (\d\.\d{4})  \[\d+\] /gm)].map((m) => Number(m[1]));
    assert.equal(shown.length, 3, 'every passage is listed (k = 3)');
    assert.deepEqual(shown, [...shown].sort((a, b) => b - a), 'passages are listed by support');

    const tk = runCliSync(['tokenize', 'Marie Curie [MASK]', '--vocab', vocab, '--json']);
    assert.equal(tk.status, 0, tk.stderr);
    assert.equal(JSON.parse(tk.stdout).tokens.at(-2), '[MASK]');

    const idx = join(dir, 'idx');
    const e = runCliSync(['embed', '--model', modelDir, '--corpus', corpus, '--out', idx, '--kind', 'flat', '--quiet']);
    assert.equal(e.status, 0, e.stderr);
    assert.ok(existsSync(join(idx, 'blocks.docs')) && existsSync(join(idx, 'index.bin')));
    const f2 = runCliSync(['fill', 'Alan Turing worked on [MASK].', '--model', modelDir, '--corpus', join(idx, 'blocks.docs'), '--json']);
    assert.equal(f2.status, 0, f2.stderr);
    assert.ok(JSON.parse(f2.stdout).evidence.length > 0);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ task: 'realm', optim: { learningRate: 1 } }));
    oneErrorLine(runCliSync(['pretrain', '--config', bad]), /"optim\.learningRate": unknown setting/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
