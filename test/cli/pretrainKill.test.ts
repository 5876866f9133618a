/**
 * `realm-lm pretrain` (REALM task, refresh in a child process) killed with SIGKILL after a checkpoint: the refresh
 * process exits with its parent (no orphan), the rerun resumes from the checkpoint and ends bit-identical to an
 * uninterrupted run (same per-step losses and index snapshots, same final weights).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listCheckpoints } from '../../src/io/checkpoint.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { MetricsLog } from '../../src/train/metricsLog.js';
import { runCliSync, spawnCli, tinyRealmConfig, writeTinyCorpus } from '../train/helpers.js';

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('REALM pretrain: kill -9 mid-run, no orphan refresh process, resume is bit-identical', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'realm-kill-realm-'));
  try {
    const { corpus, vocab } = await writeTinyCorpus(dir);
    const cfgA = join(dir, 'a.json');
    const cfgB = join(dir, 'b.json');
    const base = tinyRealmConfig(corpus, vocab, join(dir, 'A'), 10);
    writeFileSync(cfgA, JSON.stringify({ ...base, log: { every: 1, quiet: true, throttleMs: 300 }, refresh: { ...base.refresh, runner: 'process' } }));
    writeFileSync(cfgB, JSON.stringify({ ...tinyRealmConfig(corpus, vocab, join(dir, 'B'), 10), refresh: { ...base.refresh, runner: 'process' } }));
    const child = spawnCli(['pretrain', '--config', cfgA]);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const kids = await new Promise<number[]>((resolve, reject) => {
      const timer = setInterval(() => {
        // after the checkpoint at step 4 the refresh process (snapshot after step 3) exists
        if (listCheckpoints(join(dir, 'A', 'checkpoints')).some((c) => c.step >= 4)) {
          clearInterval(timer);
          const k = childrenOf(child.pid!);
          child.kill('SIGKILL');
          resolve(k);
        }
      }, 20);
      child.on('exit', (code) => {
        clearInterval(timer);
        if (code !== null) reject(new Error(`exited with ${code} before the kill: ${stderr}`));
      });
    });
    await new Promise((r) => child.once('close', r));
    assert.ok(kids.length >= 1, 'the trainer had a refresh child process');
    for (let i = 0; i < 50 && kids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(kids.filter(alive), [], 'the refresh process exits with its parent');
    const steps = listCheckpoints(join(dir, 'A', 'checkpoints')).map((c) => c.step);
    assert.ok(Math.max(...steps) < 10, `killed mid-run (checkpoints ${steps})`);

    const a = runCliSync(['pretrain', '--config', cfgA]);
    assert.equal(a.status, 0, a.stderr);
    const b = runCliSync(['pretrain', '--config', cfgB]);
    assert.equal(b.status, 0, b.stderr);
    const ra = MetricsLog.read(join(dir, 'A', 'metrics.jsonl'));
    const rb = MetricsLog.read(join(dir, 'B', 'metrics.jsonl'));
    assert.deepEqual(ra.map((x) => [x.step, x.loss, x.indexSnapshot]), rb.map((x) => [x.step, x.loss, x.indexSnapshot]));
    const wa = loadSafetensors(join(dir, 'A', 'model', 'model.safetensors')).tensors;
    const wb = loadSafetensors(join(dir, 'B', 'model', 'model.safetensors')).tensors;
    for (const [n, t] of wa) assert.deepEqual(t.data, wb.get(n)!.data, n);
    // A finished run started again has nothing left to do: it says so (no "last loss NaN") and changes nothing.
    const cfgLoud = cfgB.replace(/\.json$/, '-loud.json'); // the same run, with the progress/done lines on
    const c = JSON.parse(readFileSync(cfgB, 'utf8')) as { log: { quiet: boolean } };
    c.log.quiet = false;
    writeFileSync(cfgLoud, JSON.stringify(c));
    const again = runCliSync(['pretrain', '--config', cfgLoud]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /no steps left to run/);
    assert.equal(MetricsLog.read(join(dir, 'B', 'metrics.jsonl')).length, rb.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
