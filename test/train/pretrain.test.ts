/**
 * Trainer tests on the MLM task: the loss falls on a tiny corpus; a run SIGKILLed (kill -9) in a child process after
 * a checkpoint resumes at that checkpoint's step and ends bit-identical to an uninterrupted run (weights and the
 * per-step JSONL losses); config validation names the bad field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listCheckpoints } from '../../src/io/checkpoint.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { MetricsLog } from '../../src/train/metricsLog.js';
import { parsePretrainConfig, PretrainConfigError } from '../../src/train/pretrainConfig.js';
import { runPretrain } from '../../src/train/pretrain.js';
import { runCliSync, spawnCli, TINY_MODEL, writeTinyCorpus } from './helpers.js';

function mlmConfig(dir: string, corpus: string, vocab: string, out: string, extra: Record<string, unknown> = {}) {
  return {
    task: 'mlm', seed: 7, outputDir: out, threads: 1,
    model: { vocab, config: TINY_MODEL },
    data: { corpus, seqLen: 24, dataSeed: 3 },
    optim: { steps: 12, batchSize: 4, lr: 3e-3, warmupSteps: 2 },
    checkpoint: { every: 4, keepLast: 2 },
    log: { every: 1, quiet: true, throttleMs: 0 },
    ...extra,
  };
}

test('MLM pre-training lowers the loss on a tiny corpus', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-mlm-'));
  try {
    const { corpus, vocab } = await writeTinyCorpus(dir);
    const cfg = parsePretrainConfig(mlmConfig(dir, corpus, vocab, join(dir, 'out'), { optim: { steps: 60, batchSize: 8, lr: 5e-3, warmupSteps: 5 } }), 'test', dir);
    const r = await runPretrain(cfg);
    assert.equal(r.step, 60);
    const recs = MetricsLog.read(join(dir, 'out', 'metrics.jsonl'));
    assert.deepEqual(recs.map((x) => x.step), Array.from({ length: 60 }, (_, i) => i + 1));
    const mean = (a: typeof recs): number => a.reduce((s, x) => s + (x.loss as number), 0) / a.length;
    const first = mean(recs.slice(0, 10));
    const last = mean(recs.slice(-10));
    assert.ok(last < first - 0.5, `loss should fall: first 10 steps ${first.toFixed(3)}, last 10 ${last.toFixed(3)}`);
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt']) assert.ok(existsSync(join(dir, 'out', 'model', f)), f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 after a checkpoint, resume: same steps, bit-identical to an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-kill-'));
  try {
    const { corpus, vocab } = await writeTinyCorpus(dir);
    const cfgA = join(dir, 'a.json');
    const cfgB = join(dir, 'b.json');
    writeFileSync(cfgA, JSON.stringify(mlmConfig(dir, corpus, vocab, join(dir, 'A'), { log: { every: 1, quiet: true, throttleMs: 250 } })));
    writeFileSync(cfgB, JSON.stringify(mlmConfig(dir, corpus, vocab, join(dir, 'B'))));

    // run A in a child and SIGKILL it once checkpoint-4 exists
    const child = spawnCli(['pretrain', '--config', cfgA]);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const killedAt = await new Promise<number[]>((resolve, reject) => {
      const timer = setInterval(() => {
        const cks = listCheckpoints(join(dir, 'A', 'checkpoints'));
        if (cks.some((c) => c.step >= 4)) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve(cks.map((c) => c.step));
        }
      }, 20);
      child.on('exit', (code) => {
        clearInterval(timer);
        if (code !== null) reject(new Error(`child exited with ${code} before the kill: ${stderr}`));
      });
    });
    await new Promise((r) => child.once('close', r));
    assert.equal(child.signalCode, 'SIGKILL');
    const before = listCheckpoints(join(dir, 'A', 'checkpoints')).map((c) => c.step);
    assert.ok(before.length > 0 && Math.max(...before) < 12, `killed mid-run (checkpoints ${before}, seen ${killedAt})`);
    const resumeStep = Math.max(...before);

    // resume A to the end, run B uninterrupted
    const a = runCliSync(['pretrain', '--config', cfgA]);
    assert.equal(a.status, 0, a.stderr);
    const b = runCliSync(['pretrain', '--config', cfgB]);
    assert.equal(b.status, 0, b.stderr);

    const recA = MetricsLog.read(join(dir, 'A', 'metrics.jsonl'));
    const recB = MetricsLog.read(join(dir, 'B', 'metrics.jsonl'));
    assert.deepEqual(recA.map((r) => r.step), Array.from({ length: 12 }, (_, i) => i + 1), 'one record per step after resume');
    assert.deepEqual(recA.map((r) => r.loss), recB.map((r) => r.loss), 'identical per-step losses');
    const wa = loadSafetensors(join(dir, 'A', 'model', 'model.safetensors')).tensors;
    const wb = loadSafetensors(join(dir, 'B', 'model', 'model.safetensors')).tensors;
    assert.deepEqual([...wa.keys()].sort(), [...wb.keys()].sort());
    for (const [name, t] of wa) assert.deepEqual(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength), Buffer.from(wb.get(name)!.data.buffer, wb.get(name)!.data.byteOffset, wb.get(name)!.data.byteLength), name);
    const st = JSON.parse(readFileSync(join(dir, 'A', 'checkpoints', 'checkpoint-12', 'trainer_state.json'), 'utf8'));
    assert.equal(st.step, 12);
    assert.ok(resumeStep >= 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--stop-after at a step between checkpoints writes a checkpoint there; resuming ends as an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-stop-'));
  try {
    const { corpus, vocab } = await writeTinyCorpus(dir);
    const a = parsePretrainConfig(mlmConfig(dir, corpus, vocab, join(dir, 'A')), 'a', dir);
    const b = parsePretrainConfig(mlmConfig(dir, corpus, vocab, join(dir, 'B')), 'b', dir);
    const first = await runPretrain(a, { stopAfter: 6 }); // checkpoint.every 4: 6 is not on the schedule
    assert.equal(first.step, 6);
    assert.equal(first.modelDir, null);
    assert.deepEqual(listCheckpoints(join(dir, 'A', 'checkpoints')).map((c) => c.step).sort((x, y) => x - y), [4, 6]);
    assert.equal((await runPretrain(a)).resumedFrom, 6);
    await runPretrain(b);
    const wa = loadSafetensors(join(dir, 'A', 'model', 'model.safetensors')).tensors;
    const wb = loadSafetensors(join(dir, 'B', 'model', 'model.safetensors')).tensors;
    for (const [n, t] of wa) assert.deepEqual(t.data, wb.get(n)!.data, n);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config errors name the field', () => {
  assert.throws(() => parsePretrainConfig({ optim: { stepz: 3 } }, 'c.json'), (e: Error) => e instanceof PretrainConfigError && /optim\.stepz/.test(e.message));
  assert.throws(() => parsePretrainConfig({ optim: { lr: 'fast' } }, 'c.json'), /"optim.lr": must be a number/);
  assert.throws(() => parsePretrainConfig({ task: 'gpt' }, 'c.json'), /"task": must be one of realm, mlm/);
  assert.throws(() => parsePretrainConfig({ refresh: { every: 10, lag: 11 } }, 'c.json'), /refresh\.lag/);
  assert.throws(() => parsePretrainConfig({ realm: { calibrateNullScore: true } }, 'c.json'), /realm\.calibrateNullScore.*data\.index/);
  assert.throws(() => parsePretrainConfig({ realm: { learnLexicalScoreWeight: true } }, 'c.json'), /realm\.learnLexicalScoreWeight.*non-zero/);
  assert.equal(parsePretrainConfig({ realm: { lexicalScoreWeight: 0.1, learnLexicalScoreWeight: true } }, 'c.json').realm.lexicalScoreWeight, 0.1);
  assert.doesNotThrow(() => parsePretrainConfig({ realm: { calibrateNullScore: true, k: 0 } }, 'c.json')); // null document only: nothing to calibrate
  const c = parsePretrainConfig({ outputDir: 'x/y' }, 'c.json', '/base');
  assert.equal(c.outputDir, '/base/x/y');
  assert.equal(c.optim.batchSize, 8);
});
