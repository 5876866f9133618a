/**
 * Backend selection: the process-wide kernel backend used by every autograd op.
 *
 * `getBackend()` picks the native C++ addon unless `REALM_BACKEND=js` is set or the addon cannot be loaded; in the
 * latter case it prints exactly one warning line to stderr and falls back to the pure-TypeScript reference backend.
 * `REALM_BACKEND=native` makes a missing addon a hard error instead. `setBackend` overrides the choice (tests use it
 * to run the same op suite on every available backend).
 */
import type { Backend } from '../backend.js';
import { jsBackend } from './js.js';
import { tryLoadNative } from './native.js';

export { jsBackend };

/** Raised when a requested backend is unknown or cannot be loaded. */
export class BackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendError';
  }
}

let current: Backend | null = null;
let nativeResult: { backend: Backend } | { error: string } | null = null;

function loadNative(): { backend: Backend } | { error: string } {
  if (nativeResult === null) {
    try {
      nativeResult = tryLoadNative();
    } catch (e) {
      nativeResult = { error: e instanceof Error ? e.message : String(e) };
    }
  }
  return nativeResult;
}

/** The native backend if it loads, else null (never warns; for tests and benchmarks). */
export function nativeBackendOrNull(): Backend | null {
  const r = loadNative();
  return 'backend' in r ? r.backend : null;
}

/** Every backend that can run in this process: js always, native when the addon loads. */
export function availableBackends(): Backend[] {
  const nb = nativeBackendOrNull();
  return nb ? [jsBackend, nb] : [jsBackend];
}

/** The active backend (chosen on first call; see the file comment for the rules). */
export function getBackend(): Backend {
  if (current) return current;
  const want = (process.env.REALM_BACKEND ?? '').trim().toLowerCase();
  if (want === 'js') {
    current = jsBackend;
  } else if (want === '' || want === 'auto' || want === 'native') {
    const r = loadNative();
    if ('backend' in r) {
      current = r.backend;
    } else if (want === 'native') {
      throw new BackendError(`REALM_BACKEND=native but the native addon failed to load: ${r.error}`);
    } else {
      process.stderr.write(`realm-lm: native backend unavailable (${r.error}); using the slow pure-JS backend\n`);
      current = jsBackend;
    }
  } else {
    throw new BackendError(`REALM_BACKEND=${want}: expected "js", "native" or "auto"`);
  }
  return current;
}

/** Selects the active backend: a Backend object, or 'js' / 'native' (the latter throws if the addon is missing). */
export function setBackend(b: Backend | 'js' | 'native'): void {
  if (b === 'js') {
    current = jsBackend;
  } else if (b === 'native') {
    const r = loadNative();
    if (!('backend' in r)) throw new BackendError(`setBackend('native'): native addon failed to load: ${r.error}`);
    current = r.backend;
  } else {
    current = b;
  }
}
