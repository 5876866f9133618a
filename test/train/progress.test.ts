/**
 * Progress line tests: the fields (step/total, steps/s, loss, p(z|x) of the top document, ETA = remaining / rate),
 * periodic full lines when not on a TTY, in-place redraws (carriage return + clear) on a TTY, duration formatting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, formatProgress, ProgressLine } from '../../src/train/progress.js';

test('formatProgress shows step, rate, loss, p(z|x), lr and ETA = remaining steps / rate', () => {
  const s = formatProgress({ step: 100, total: 1000, loss: 2.5, stepsPerSec: 2, lr: 1e-4, topDocProb: 0.4321, staleness: 7 });
  assert.match(s, /^step 100\/1000 \| 2\.00 step\/s \| loss 2\.5000 \| p\(z\|x\) top 0\.432 \| index age 7 \| lr 1\.00e-4 \| ETA 7m30s$/);
  assert.equal(formatDuration(59.6), '1m00s');
  assert.equal(formatDuration(3 * 3600 + 125), '3h02m');
  assert.equal(formatDuration(NaN), '?');
});

test('ProgressLine: periodic lines off a TTY, in-place redraws on a TTY', () => {
  const out: string[] = [];
  const plain = new ProgressLine({ stream: { write: (s: string) => out.push(s), isTTY: false }, every: 5 });
  for (let i = 1; i <= 12; i++) plain.update({ step: i, total: 12, loss: 1, stepsPerSec: 1, lr: 1 });
  assert.deepEqual(out.map((l) => /step (\d+)/.exec(l)![1]), ['5', '10', '12']);
  assert.ok(out.every((l) => l.endsWith('\n')));
  const tty: string[] = [];
  const t = new ProgressLine({ stream: { write: (s: string) => tty.push(s), isTTY: true }, minIntervalMs: 0 });
  t.update({ step: 1, total: 2, loss: 1, stepsPerSec: 1, lr: 1 });
  t.message('hello');
  t.update({ step: 2, total: 2, loss: 1, stepsPerSec: 1, lr: 1 });
  t.done();
  assert.ok(tty[0].startsWith('\r\x1b[2Kstep 1/2'));
  assert.equal(tty[1], '\r\x1b[2Khello\n');
  assert.ok(tty[2].startsWith('\r\x1b[2Kstep 2/2'));
  assert.equal(tty[3], '\n');
});
