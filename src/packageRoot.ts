/**
 * Locates realm-lm's package root (the nearest ancestor directory whose package.json is named "realm-lm"), so code
 * running from src/ (tsx) or dist/src/ (compiled) finds the native addon build and the packaged models alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root above this file, or null when no realm-lm package.json is found. */
export function findPackageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'realm-lm') return dir;
      } catch {
        // unreadable package.json: keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}
