// Tests of answer matching (DrQA has_answer-style normalised token containment, CuratedTREC regexes) and of
// recall@k against hand-computed values, plus the QA loaders on the staged benchmark files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerMatcher, compileAnswerRegexes, hasAnswer, normalizeForMatch, regexMatch } from '../../src/eval/answers.js';
import { loadQaFile, loadQaSet, QaDataError, type QaExample } from '../../src/eval/qa.js';
import { recallAtK } from '../../src/eval/recall.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataDir = process.env.REALM_DATA_DIR ?? join(repoRoot, '..', 'shared', 'data');

test('hasAnswer: case, punctuation, accents, articles, whole tokens only', () => {
  const passage = 'The Beatles were formed in Liverpool in 1960; Pelé played for Santos F.C. in São Paulo.';
  assert.equal(hasAnswer(passage, ['the beatles']), true);
  assert.equal(hasAnswer(passage, ['Beatles']), true);
  assert.equal(hasAnswer(passage, ['A Beatles']), true, 'articles stripped from answer and passage');
  assert.equal(hasAnswer(passage, ['Pele']), true, 'accents stripped');
  assert.equal(hasAnswer(passage, ['sao paulo']), true);
  assert.equal(hasAnswer(passage, ['Santos FC']), false, '"F.C." tokenises to "f c", not "fc"');
  assert.equal(hasAnswer(passage, ['Santos F.C.']), true);
  assert.equal(hasAnswer(passage, ['pool']), false, 'no match inside a word');
  assert.equal(hasAnswer(passage, ['196']), false);
  assert.equal(hasAnswer(passage, ['London', '1960']), true, 'any answer');
  assert.equal(hasAnswer(passage, ['the', '...']), false, 'answers that normalise to nothing never match');
  assert.equal(hasAnswer('They play the the Who.', ['The Who'], { stripArticles: false }), true);
  assert.equal(hasAnswer('Formed in Liverpool.', ['in Liverpool'], { stripArticles: false }), true);
  assert.equal(normalizeForMatch('  Émile — Zola!  '), ' emile zola ');
});

test('regex answers: case-insensitive substring search; invalid patterns never match and warn', () => {
  const text = 'Mount Everest is 8,848 metres high; it was first climbed in 1953 by Hillary.';
  assert.equal(regexMatch(text, ['mt\\.?|mount everest']), true);
  assert.equal(regexMatch(text, ['8,?848 (m|metres)']), true);
  assert.equal(regexMatch(text, ['^1953']), false);
  assert.equal(regexMatch(text, ['Hillary|Tenzing']), true);
  const warnings: string[] = [];
  assert.equal(regexMatch(text, ['Sievert \\(Sv\\)\\'], (m) => warnings.push(m)), false, 'trailing backslash is invalid');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /invalid answer regex/);
  assert.equal(compileAnswerRegexes(['(', 'ok'], () => {}).length, 1);
  const m = answerMatcher(['K2|Everest', '['], 'regex', { warn: () => {} });
  assert.equal(m.matches(text), true);
  assert.equal(m.matches('Nothing here'), false);
});

test('recallAtK: hand-computed recall at each cutoff, regex and string questions', async () => {
  const passages = ['alpha beta', 'gamma delta', 'the answer is paris', 'Rome is here', 'nothing'];
  // fixed rankings per question; first hit ranks: q0 → 0, q1 → 2, q2 → none, q3 (regex) → 1
  const rankings: Record<string, number[]> = { q0: [2, 0, 1], q1: [0, 1, 3, 2], q2: [4, 0, 1], q3: [0, 3, 4] };
  const questions: QaExample[] = [
    { question: 'q0', answers: ['Paris'], answerType: 'string' },
    { question: 'q1', answers: ['rome'], answerType: 'string' },
    { question: 'q2', answers: ['london'], answerType: 'string' },
    { question: 'q3', answers: ['^rome'], answerType: 'regex' },
  ];
  const retrieve = (q: string, k: number) => rankings[q].slice(0, k).map((id) => ({ id, text: passages[id] }));
  const r = await recallAtK(retrieve, questions, [1, 2, 3, 10]);
  assert.equal(r.n, 4);
  assert.deepEqual(Array.from(r.firstHit), [0, 2, -1, 1]);
  assert.deepEqual(r.recall, { 1: 1 / 4, 2: 2 / 4, 3: 3 / 4, 10: 3 / 4 });
  await assert.rejects(recallAtK(retrieve, [], [1]), RangeError);
  await assert.rejects(recallAtK(retrieve, questions, [0]), RangeError);
  const asyncRetrieve = async (q: string, k: number) => retrieve(q, k);
  assert.deepEqual((await recallAtK(asyncRetrieve, questions, [1, 2, 3, 10])).recall, r.recall);
});

test('QA loaders: staged files load with the right answer types; bad lines name file:line', () => {
  const ct = loadQaSet('ct_test', dataDir);
  const ctLines = readFileSync(join(dataDir, 'qa', 'curatedtrec', 'test.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
  assert.equal(ct.length, ctLines.length);
  assert.ok(ct.every((q) => q.answerType === 'regex' && q.answers.length > 0));
  const warnings: string[] = [];
  for (const q of ct) compileAnswerRegexes(q.answers, (w) => warnings.push(w));
  assert.deepEqual(warnings, [], 'every CuratedTREC test regex compiles in JavaScript');
  const wq = loadQaSet('wq_test', dataDir);
  assert.ok(wq.length > 2000 && wq.every((q) => q.answerType === 'string'));
  const dir = mkdtempSync(join(tmpdir(), 'realm-qa-'));
  try {
    writeFileSync(join(dir, 'bad.jsonl'), '{"question":"q","answers":["a"]}\n{"question":"q","answers":"a"}\n');
    assert.throws(() => loadQaFile(join(dir, 'bad.jsonl')), (e: unknown) => e instanceof QaDataError && /bad\.jsonl:2:/.test(e.message));
    writeFileSync(join(dir, 'empty.jsonl'), '\n');
    assert.throws(() => loadQaFile(join(dir, 'empty.jsonl')), /no question/);
    assert.throws(() => loadQaFile(join(dir, 'missing.jsonl')), /cannot read/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
