// Peer processes of the side-by-side benchmarks: finding a Python with PyTorch for the bench-only PyTorch peers
// (bench/peers/*.py: $TORCH_PYTHON, the project's .venv, the usual scratch virtualenvs, then python3; npm test never
// needs it), and running one peer whose last stdout line is its JSON result.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The first candidate interpreter that can `import torch`, or null. */
export function torchPython(root: string): string | null {
  const candidates = [process.env.TORCH_PYTHON, join(root, '.venv/bin/python'), '/tmp/torchvenv/bin/python', '/tmp/venv/bin/python', 'python3'];
  for (const c of candidates) {
    if (!c || (c.includes('/') && !existsSync(c))) continue;
    const r = spawnSync(c, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  return null;
}

/** Runs a peer process (cwd `root`); its last stdout line is parsed as JSON. A failure becomes a note, never a throw. */
export function runPeer(root: string, label: string, cmd: string, args: string[], timeoutMs: number): { result: Record<string, unknown> | null; note: string } {
  console.error(`running ${label}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 24 });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n').slice(-1)[0];
    return { result: null, note: `${label} skipped: ${why}` };
  }
  const line = r.stdout.trim().split('\n').slice(-1)[0];
  try {
    return { result: JSON.parse(line) as Record<string, unknown>, note: '' };
  } catch {
    return { result: null, note: `${label} skipped: unparsable output ${line.slice(0, 200)}` };
  }
}
