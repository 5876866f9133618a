// Turns a trained REALM model directory (what `realm-lm pretrain` exports) into the packaged default model
// (models/default): weights re-written as F16 safetensors (same HF names, tied tensors once; loading widens them to
// F32 exactly), config.json with `realm_corpus` naming the knowledge corpus that Realm.load builds and caches on first
// use (src/api/corpusCache.ts), vocab.txt. The document store and index are not copied (built on first use).
// Usage: node --import tsx scripts/package-default-model.ts --from runs/realm-default/model [--to models/default]
//   [--corpus wordnet] [--dtype F16|F32]
// `--weights-only` re-writes one weights file instead (--from FILE|DIR --to FILE), as scripts/reproduce-realm.sh's
// stage outputs in models/stages/ were made.
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomicSync } from '../src/io/atomic.js';
import { resolveAliases } from '../src/io/aliases.js';
import { loadSafetensors, saveSafetensors, type ArrayToSave } from '../src/io/safetensors.js';

function option(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`package-default-model: --${name} is required`);
  return v;
}

const weightsOnly = process.argv.includes('--weights-only');
const from = option('from');
const to = option('to', weightsOnly ? undefined : 'models/default');
const corpus = option('corpus', 'wordnet');
const dtype = option('dtype', 'F16');
if (dtype !== 'F16' && dtype !== 'F32') throw new Error(`package-default-model: --dtype must be F16 or F32 (got ${dtype})`);
const weightsFile = weightsOnly && !statSync(from).isDirectory() ? from : join(from, 'model.safetensors');
mkdirSync(weightsOnly ? dirname(to) : to, { recursive: true });
const loaded = loadSafetensors(weightsFile);
const stored = resolveAliases(loaded);
// keep the tie: the decoder weight is the word embedding (written once under one name, as HF does)
const out = new Map<string, ArrayToSave>();
for (const [name, t] of stored) {
  if (!(t.data instanceof Float32Array)) throw new Error(`${from}: tensor ${name} is not float`);
  out.set(name, { shape: t.shape, data: t.data, dtype: dtype as 'F16' | 'F32' });
}
saveSafetensors(weightsOnly ? to : join(to, 'model.safetensors'), out, { ...(loaded.metadata ?? {}), format: 'pt' });
if (weightsOnly) {
  process.stderr.write(`package-default-model: ${weightsFile} → ${to} (${dtype} weights)\n`);
} else {
  const cfg = JSON.parse(readFileSync(join(from, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileAtomicSync(join(to, 'config.json'), `${JSON.stringify({ ...cfg, realm_corpus: corpus }, null, 2)}\n`);
  copyFileSync(join(from, 'vocab.txt'), join(to, 'vocab.txt'));
  process.stderr.write(`package-default-model: ${from} → ${to} (${dtype} weights, corpus ${corpus})\n`);
}
