// Tests of src/io/checkpoint.ts: bit-exact round trip of every part, tied weights, pruning, the latest pointer,
// kill-safety (temp dirs of dead writers are ignored and cleaned; a real writer SIGKILLed mid-save never leaves a
// checkpoint that fails to load), and clear errors for corrupt checkpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkpointName, listCheckpoints, loadCheckpoint, loadLatestCheckpoint, saveCheckpoint, type CheckpointData, type TrainerState,
} from '../../src/io/checkpoint.js';
import { CheckpointError } from '../../src/io/errors.js';

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function state(step: number): TrainerState {
  return {
    step, rngState: [0xdeadbeef, step, 0, 0xffffffff],
    optimizer: { name: 'adamw', lr: 3e-5, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01 },
    schedule: { name: 'linear', warmupSteps: 10, totalSteps: 1000 },
    indexSnapshotId: `snap-${step}`,
    extra: { cursor: { shard: 3, offset: 17 }, losses: [1.5, 1.25] },
  };
}

function data(step: number): CheckpointData {
  const emb = Float32Array.from({ length: 12 }, (_, i) => Math.fround(step + i / 7));
  const bias = Float32Array.from({ length: 4 }, (_, i) => -i);
  return {
    model: new Map([
      ['realm.embeddings.word_embeddings.weight', { shape: [4, 3], data: emb }],
      ['cls.predictions.decoder.weight', { shape: [4, 3], data: emb }], // tied
      ['cls.predictions.bias', { shape: [4], data: bias }],
      ['realm.embeddings.position_ids', { shape: [1, 5], data: Int32Array.from([0, 1, 2, 3, 4]) }],
    ]),
    config: { hidden_size: 3, vocab_size: 4, model_type: 'realm' },
    state: state(step),
    optimizer: new Map([
      ['cls.predictions.bias', { expAvg: bias.map((x) => x / 3), expAvgSq: bias.map((x) => x * x) }],
      ['realm.embeddings.word_embeddings.weight', { expAvg: emb.map((x) => -x), expAvgSq: emb.map((x) => x * 1e-8) }],
    ]),
  };
}

test('save → load round trip is bit-exact for every part; tied weights stay tied', withDir((dir) => {
  const d = data(7);
  const path = saveCheckpoint(dir, d);
  assert.equal(path, join(dir, 'checkpoint-7'));
  assert.deepEqual(readdirSync(path).sort(), ['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json']);
  assert.equal(readFileSync(join(dir, 'latest'), 'utf8'), 'checkpoint-7\n');
  const c = loadLatestCheckpoint(dir)!;
  assert.equal(c.step, 7);
  assert.deepEqual(c.config, d.config);
  const { savedAt, ...st } = c.state as TrainerState & { savedAt: string };
  assert.deepEqual(st, d.state);
  assert.ok(!Number.isNaN(Date.parse(savedAt)));
  for (const [name, t] of d.model) {
    assert.deepEqual(c.model.get(name)!.data, t.data, name);
    assert.deepEqual(c.model.get(name)!.shape, t.shape, name);
  }
  assert.equal(c.model.get('cls.predictions.decoder.weight')!.data, c.model.get('realm.embeddings.word_embeddings.weight')!.data);
  assert.deepEqual([...c.optimizer.keys()].sort(), [...d.optimizer!.keys()].sort());
  for (const [name, m] of d.optimizer!) {
    assert.deepEqual(c.optimizer.get(name)!.expAvg, m.expAvg, name);
    assert.deepEqual(c.optimizer.get(name)!.expAvgSq, m.expAvgSq, name);
  }
}));

test('keeps the last N, moves the pointer, re-saving a step replaces it', withDir((dir) => {
  assert.equal(loadLatestCheckpoint(join(dir, 'none')), null);
  assert.equal(loadLatestCheckpoint(dir), null);
  for (const step of [10, 20, 30, 40]) saveCheckpoint(dir, data(step), { keepLast: 2 });
  assert.deepEqual(listCheckpoints(dir).map((c) => c.step), [30, 40]);
  assert.deepEqual(readdirSync(dir).sort(), ['checkpoint-30', 'checkpoint-40', 'latest']);
  assert.equal(readFileSync(join(dir, 'latest'), 'utf8'), 'checkpoint-40\n');
  const d = data(40);
  d.state.extra = { replaced: true };
  saveCheckpoint(dir, d, { keepLast: 2 });
  assert.deepEqual(loadLatestCheckpoint(dir)!.state.extra, { replaced: true });
  assert.deepEqual(readdirSync(dir).sort(), ['checkpoint-30', 'checkpoint-40', 'latest']);
}));

test('a temp dir left by a killed writer is ignored and cleaned; a stale pointer does not hide a newer checkpoint', withDir((dir) => {
  saveCheckpoint(dir, data(1));
  const dead = spawnSync(process.execPath, ['-e', '']).pid!; // a pid that has exited
  const leftover = join(dir, `.checkpoint-2.tmp-${dead}-0123abcd`);
  mkdirSync(leftover);
  writeFileSync(join(leftover, 'model.safetensors'), 'partial');
  const mine = join(dir, `.checkpoint-3.tmp-${process.pid}-00ff00ff`);
  mkdirSync(mine);
  const c = loadLatestCheckpoint(dir)!;
  assert.equal(c.step, 1);
  assert.ok(!existsSync(leftover) && !existsSync(mine));
  // crash after the directory rename but before the pointer update: the newest complete one wins
  saveCheckpoint(dir, data(2));
  writeFileSync(join(dir, 'latest'), 'checkpoint-1\n');
  assert.equal(loadLatestCheckpoint(dir)!.step, 2);
  // a checkpoint-N dir missing a file (e.g. hand-copied) is not complete and is skipped
  mkdirSync(join(dir, checkpointName(9)));
  writeFileSync(join(dir, checkpointName(9), 'config.json'), '{}');
  assert.equal(loadLatestCheckpoint(dir)!.step, 2);
}));

test('a writer SIGKILLed mid-save never leaves a checkpoint that fails to load', (t) => withDir(async (dir) => {
  const child = new URL('./checkpoint-child.ts', import.meta.url).pathname;
  let last = -1;
  let interrupted = 0;
  const delays = [5, 60, 150, 400];
  for (let round = 0; round < delays.length; round++) {
    const first = (round + 1) * 100;
    const p = spawn(process.execPath, ['--import', 'tsx', child, dir, String(first)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => p.stdout.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, delays[round]));
    p.kill('SIGKILL');
    await new Promise((r) => p.once('exit', r));
    const temps = readdirSync(dir).filter((n) => n.startsWith('.'));
    if (temps.length) interrupted++;
    const c = loadLatestCheckpoint(dir);
    if (!c) {
      assert.equal(last, -1, `round ${round}: checkpoints vanished`); // killed before the first save completed
      continue;
    }
    assert.ok(c.step >= last, `round ${round}: step went back from ${last} to ${c.step}`);
    assert.ok(c.step === last || c.step >= first, `round ${round}`);
    const w = c.model.get('w')!.data;
    assert.equal(w.length, 1024 * 1024);
    assert.ok(w.every((x) => x === c.step), `round ${round}: model of step ${c.step} is intact`);
    assert.ok(c.optimizer.get('w')!.expAvgSq.every((x) => x === c.step));
    assert.ok(readdirSync(dir).every((n) => !n.startsWith('.')), 'temp dirs cleaned');
    last = c.step;
  }
  assert.ok(last >= 0, 'at least one save completed');
  t.diagnostic(`${interrupted} of ${delays.length} kills left a half-written temp dir behind`);
})());

test('corrupt checkpoints give errors naming the file', withDir((dir) => {
  const path = saveCheckpoint(dir, data(5));
  writeFileSync(join(path, 'trainer_state.json'), '{"step": 5,');
  assert.throws(() => loadLatestCheckpoint(dir), (e: unknown) =>
    e instanceof CheckpointError && e.file.endsWith('trainer_state.json') && /not valid JSON/.test(e.message));
  writeFileSync(join(path, 'trainer_state.json'), JSON.stringify({ ...state(6) }));
  assert.throws(() => loadCheckpoint(path), /step 6 does not match the directory name/);
  writeFileSync(join(path, 'trainer_state.json'), JSON.stringify({ ...state(5), rngState: [-1] }));
  assert.throws(() => loadCheckpoint(path), /"rngState" must be an array of uint32 words/);
  writeFileSync(join(path, 'trainer_state.json'), JSON.stringify(state(5)));
  const opt = readFileSync(join(path, 'optimizer.safetensors'));
  writeFileSync(join(path, 'optimizer.safetensors'), opt.subarray(0, opt.length - 3));
  assert.throws(() => loadCheckpoint(path), (e: unknown) =>
    e instanceof CheckpointError && e.file.endsWith('optimizer.safetensors'));
  assert.throws(() => saveCheckpoint(dir, { ...data(6), optimizer: new Map([['x', { expAvg: new Float32Array(2), expAvgSq: new Float32Array(3) }]]) }),
    (e: unknown) => e instanceof CheckpointError && e.tensor === 'x');
  assert.throws(() => saveCheckpoint(dir, { ...data(6), state: { ...state(6), step: -1 } }), /"step" must be a non-negative integer/);
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.')), []);
}));
