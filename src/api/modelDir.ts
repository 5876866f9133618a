/**
 * The REALM model directory (what `realm-lm fill` and `Realm.load` read, what `realm-lm pretrain` exports):
 *   config.json         HF RealmConfig fields + `realm_pretrain` (k, lengths, null document, ...)
 *   model.safetensors   RealmPretrainModel state dict with HF names (`embedder.*`, `query_embedder.*`, `realm.*`,
 *                       `cls.predictions.*`, `null_document_score`)
 *   vocab.txt           WordPiece vocabulary
 *   blocks.docs         document store of the knowledge corpus (src/corpus/docstore.ts)
 *   index.bin           MIPS index of the blocks' document embeddings (FlatIndex or ScannIndex file)
 * The package's default model lives in `<package>/models/default/`.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlatIndex } from '../index/flat.js';
import { ScannIndex } from '../index/scann.js';
import { IndexFileError, type Index } from '../index/types.js';
import { findPackageRoot } from '../packageRoot.js';

/** File names inside a model directory. */
export const MODEL_FILES = {
  config: 'config.json',
  weights: 'model.safetensors',
  vocab: 'vocab.txt',
  docs: 'blocks.docs',
  index: 'index.bin',
} as const;

/** A model directory (or one of its files) that is missing or unusable. */
export class ModelDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelDirError';
  }
}

/** The package root (see src/packageRoot.ts), from src/ or dist/src/. */
export function packageRoot(): string {
  return findPackageRoot() ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** `<package>/models/default` (REALM_MODEL_DIR overrides). */
export function defaultModelDir(): string {
  return process.env.REALM_MODEL_DIR ? resolve(process.env.REALM_MODEL_DIR) : join(packageRoot(), 'models', 'default');
}

/** Checks that `dir` holds a model (config, weights, vocab); throws a ModelDirError naming what is missing. */
export function checkModelDir(dir: string, isDefault = false): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelDirError(isDefault
      ? `the default model is not installed (${dir} does not exist); train one with \`realm-lm pretrain --config configs/realm-default.json\` or pass --model DIR`
      : `model directory ${dir} does not exist`);
  }
  const missing = [MODEL_FILES.config, MODEL_FILES.weights, MODEL_FILES.vocab].filter((f) => !existsSync(join(dir, f)));
  if (missing.length) throw new ModelDirError(`model directory ${dir} is incomplete: missing ${missing.join(', ')}`);
}

/** Loads an index file of either kind (FlatIndex or ScannIndex). */
export function loadIndexFile(path: string, expectDim?: number): Index {
  if (!existsSync(path)) throw new ModelDirError(`index file ${path} not found`);
  try {
    return FlatIndex.load(path, { expectDim });
  } catch (e) {
    if (e instanceof IndexFileError && /holds a scann index/.test(e.message)) return ScannIndex.load(path, { expectDim });
    throw e;
  }
}
