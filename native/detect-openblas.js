// Build-time OpenBLAS detection for binding.gyp: finds cblas.h + libopenblas and proves they compile and link with
// a tiny test program. Prints gyp list items for the requested part (nothing when OpenBLAS is unusable):
//   node native/detect-openblas.js defines|include|libs
// REALM_NO_OPENBLAS=1 disables it; REALM_OPENBLAS_DIR=<prefix> (with include/ and lib/) is searched first.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const prefixes = [process.env.REALM_OPENBLAS_DIR, '/usr', '/usr/local', '/opt/homebrew/opt/openblas',
  '/usr/local/opt/openblas', '/opt/OpenBLAS'].filter(Boolean);
const multiarch = ['x86_64-linux-gnu', 'aarch64-linux-gnu'];
const incDirs = prefixes.flatMap((p) => [join(p, 'include/openblas'),
  ...multiarch.map((m) => join(p, 'include', m, 'openblas-pthread')), join(p, 'include'),
  ...multiarch.map((m) => join(p, 'include', m))]);
const libDirs = prefixes.flatMap((p) => [join(p, 'lib'), join(p, 'lib64'), ...multiarch.map((m) => join(p, 'lib', m)),
  ...multiarch.map((m) => join(p, 'lib', m, 'openblas-pthread'))]);

function detect() {
  if (process.env.REALM_NO_OPENBLAS === '1') return null;
  const inc = incDirs.find((d) => existsSync(join(d, 'cblas.h')) && existsSync(join(d, 'openblas_config.h')));
  const lib = libDirs.find((d) => ['libopenblas.so', 'libopenblas.dylib', 'libopenblas.a'].some((f) => existsSync(join(d, f))));
  if (!inc || !lib) return null;
  const dir = mkdtempSync(join(tmpdir(), 'realm-openblas-'));
  try {
    const src = join(dir, 't.cc');
    writeFileSync(src, '#include <cblas.h>\nint main(){float a=1,b=2,c=0;' +
      'cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,1,1,1,1.f,&a,1,&b,1,0.f,&c,1);' +
      'openblas_set_num_threads(1);return c==2.f?0:1;}\n');
    const cxx = process.env.CXX || 'c++';
    const r = spawnSync(cxx, [src, '-I' + inc, '-L' + lib, '-lopenblas', '-o', join(dir, 't')], { stdio: 'ignore' });
    return r.status === 0 ? { inc, lib } : null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const found = detect();
const part = process.argv[2];
if (found && part === 'defines') console.log('REALM_HAVE_OPENBLAS');
else if (found && part === 'include') console.log(found.inc);
else if (found && part === 'libs') console.log(`-L${found.lib} -Wl,-rpath,${found.lib} -lopenblas`);
