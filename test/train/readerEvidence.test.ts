/**
 * Reader warm-up evidence (src/train/readerEvidence.ts): the best-ranked answer-bearing block is the evidence, the
 * best-ranked blocks without the answer are the distractors (in rank order, at most the number asked for, never an
 * answer-bearing block), and an example without an answer-bearing candidate gives nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickEvidence } from '../../src/train/readerEvidence.js';

const answerIn = new Set([12, 30]);
const contains = (id: number): boolean => answerIn.has(id);

test('evidence = best-ranked answer-bearing block; distractors = best-ranked others, in rank order', () => {
  assert.deepEqual(pickEvidence([7, 12, 3, 30, 9], contains, 2), { evidence: 12, distractors: [7, 3] });
  assert.deepEqual(pickEvidence([30, 12, 4], contains, 5), { evidence: 30, distractors: [4] });
  assert.deepEqual(pickEvidence([7, 12, 3], contains, 0), { evidence: 12, distractors: [] });
});

test('no answer-bearing candidate gives no rows; a bad count is refused', () => {
  assert.equal(pickEvidence([1, 2, 3], contains, 1), null);
  assert.equal(pickEvidence([], contains, 1), null);
  assert.throws(() => pickEvidence([12], contains, -1), /distractors must be an integer >= 0/);
  assert.throws(() => pickEvidence([12], contains, 1.5), /distractors/);
});
