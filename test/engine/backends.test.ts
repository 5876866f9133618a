/**
 * Backend selection tests (in child processes, since the choice is process-wide): REALM_BACKEND=js, an invalid
 * value, and the default (native when the addon loads, otherwise js with exactly one warning line on stderr).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nativeBackendOrNull, setBackend, getBackend, jsBackend, BackendError } from '../../src/engine/index.js';

const indexUrl = new URL('../../src/engine/index.ts', import.meta.url).href;
const root = fileURLToPath(new URL('../..', import.meta.url));

function child(env: Record<string, string | undefined>): { out: string; err: string; status: number | null } {
  const code = `const E = await import(${JSON.stringify(indexUrl)}); try { const a = E.getBackend(); const b = E.getBackend(); console.log(a.name, a === b); } catch (e) { console.log('ERR', e.name, e.message); }`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { out: r.stdout.trim(), err: r.stderr.trim(), status: r.status };
}

test('REALM_BACKEND=js selects the JS backend silently', () => {
  const r = child({ REALM_BACKEND: 'js' });
  assert.equal(r.out, 'js true');
  assert.equal(r.err, '');
});

test('an unknown REALM_BACKEND value is a clear BackendError', () => {
  const r = child({ REALM_BACKEND: 'cuda' });
  assert.match(r.out, /^ERR BackendError REALM_BACKEND=cuda/);
});

test('default selection: native if it loads, else js with one warning line', () => {
  const r = child({ REALM_BACKEND: undefined });
  if (nativeBackendOrNull()) {
    assert.equal(r.out, 'native true');
    assert.equal(r.err, '');
  } else {
    assert.equal(r.out, 'js true');
    assert.equal(r.err.split('\n').length, 1);
    assert.match(r.err, /native backend unavailable/);
  }
});

test('setBackend accepts names and objects', () => {
  setBackend('js');
  assert.equal(getBackend(), jsBackend);
  if (nativeBackendOrNull()) {
    setBackend('native');
    assert.equal(getBackend().name, 'native');
  } else {
    assert.throws(() => setBackend('native'), BackendError);
  }
  setBackend(jsBackend);
  assert.equal(getBackend(), jsBackend);
});
