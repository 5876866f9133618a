// `npm install` hook: compiles the native addon (native/, binding.gyp) with node-gyp.
// A failed build is not fatal: realm-lm then runs on its pure TypeScript backend and says so once at load.
// `--strict` (npm run build:native) makes a failed build exit non-zero, for development and CI diagnostics.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');
if (process.env.REALM_SKIP_NATIVE === '1') {
  console.log('realm-lm: REALM_SKIP_NATIVE=1, not building the native addon (the TypeScript backend will be used)');
  process.exit(0);
}
if (!existsSync(join(root, 'binding.gyp'))) process.exit(0);
// npm puts its bundled node-gyp on PATH for lifecycle scripts; fall back to npm_config_node_gyp or npx.
const gypJs = process.env.npm_config_node_gyp;
const cmd = gypJs ? process.execPath : 'node-gyp';
const args = gypJs ? [gypJs, 'rebuild', '--jobs=max'] : ['rebuild', '--jobs=max'];
const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: !gypJs });
if (r.status !== 0) {
  const msg = 'realm-lm: the native addon did not build; falling back to the (much slower) TypeScript backend.';
  if (strict) {
    console.error(msg);
    process.exit(r.status ?? 1);
  }
  console.warn(msg);
}
