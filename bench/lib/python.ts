// Finding a Python with PyTorch for the bench-only PyTorch peers (bench/peers/*.py): $TORCH_PYTHON, the project's
// .venv, the usual scratch virtualenvs, then python3. npm test never needs it.
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
