/**
 * The package version, read from realm-lm's package.json (for `realm-lm --version` and the HTTP API's health route).
 */
import { readFileSync } from 'node:fs';

/** The package version from package.json ('unknown' when it cannot be read). */
export function packageVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pj = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pj.name === 'realm-lm' && pj.version) return pj.version;
    } catch {
      // try the next candidate (src/ vs dist/src/)
    }
  }
  return 'unknown';
}
