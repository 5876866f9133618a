// Runs one benchmark peer in its own process (so its resident memory is attributable) and collects the result
// records it prints (`@@MIPS_RESULT {json}` lines on stdout; progress goes to stderr, passed through). Node peers run
// bench/peers/run.ts under tsx with --expose-gc; faiss runs bench/peers/faiss_peer.py in a Python virtualenv.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULT_MARK, type PeerRecord } from './peer.js';

/** Repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Spawns cmd args in ROOT; resolves with the result records (a failed process yields one skipped record). */
export function runProcess(label: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<PeerRecord[]> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const recs: PeerRecord[] = [];
    let buf = '';
    const other: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith(RESULT_MARK)) recs.push(JSON.parse(line.slice(RESULT_MARK.length)) as PeerRecord);
        else if (line.trim()) { other.push(line); process.stderr.write(`[${label}] ${line}\n`); }
      }
    });
    child.on('error', (e) => resolve([{ peer: label, skipped: `could not start ${cmd}: ${e.message}` }]));
    child.on('close', (code, signal) => {
      if (code !== 0 && recs.length === 0) {
        recs.push({ peer: label, skipped: `process exited with ${signal ?? code}: ${other.slice(-3).join(' | ')}` });
      }
      resolve(recs);
    });
  });
}

/** Runs a Node peer (hnswlib, usearch, scann, flat, exactjs) on the set `name` in `dir`. */
export function runNodePeer(peer: string, dir: string, name: string, extra: string[] = []): Promise<PeerRecord[]> {
  const script = join(ROOT, 'bench', 'peers', 'run.ts');
  return runProcess(peer, process.execPath, ['--expose-gc', '--import', 'tsx', script, '--peer', peer, '--dir', dir, '--name', name, ...extra]);
}

/** The faiss Python: $FAISS_PYTHON, else /tmp/fvenv/bin/python (see faiss_peer.py), else null. */
export function faissPython(): string | null {
  const cands = [process.env.FAISS_PYTHON, '/tmp/fvenv/bin/python'].filter((p): p is string => !!p);
  return cands.find((p) => existsSync(p)) ?? null;
}

/** Runs bench/peers/faiss_peer.py single-threaded; a missing Python/faiss gives one skipped record. */
export async function runFaissPeer(dir: string, name: string, extra: string[] = []): Promise<PeerRecord[]> {
  const py = faissPython();
  const how = 'python3 -m venv --system-site-packages /tmp/fvenv && /tmp/fvenv/bin/pip install faiss-cpu (or set FAISS_PYTHON)';
  if (!py) return [{ peer: 'faiss', skipped: `no faiss Python found: ${how}` }];
  // one process per index type, so each one's resident memory is attributable (freed memory is not returned to the OS)
  const recs: PeerRecord[] = [];
  for (const only of ['flat', 'ivfpqfs', 'hnsw']) {
    recs.push(...await runProcess('faiss', py, [join(ROOT, 'bench', 'peers', 'faiss_peer.py'), dir, name, '--only', only, ...extra],
      { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' }));
    if (recs.some((r) => r.peer === 'faiss' && r.skipped)) break;
  }
  for (const r of recs) if (r.skipped && r.peer === 'faiss') r.skipped += ` — ${how}`;
  return recs;
}
