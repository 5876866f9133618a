/**
 * Shared set-up of pre-training runs and model export (REALM §3.4; §B): the tokenizer (a given vocab.txt, or a
 * WordPiece vocabulary trained on the corpus and saved in the output directory), the training documents, the model
 * config (BERT-mini plus overrides), warm-start weight loading, and `exportModelDir` which writes the user-facing
 * model directory (config.json, model.safetensors, vocab.txt; src/api/modelDir.ts reads it).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openCorpus } from '../corpus/shared.js';
import type { CorpusDoc } from '../corpus/types.js';
import type { Tensor } from '../engine/index.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import { resolveAliases } from '../io/aliases.js';
import { CheckpointError } from '../io/errors.js';
import { loadSafetensors, saveSafetensors, type ArrayToSave, type NamedArrays } from '../io/safetensors.js';
import { bertMiniConfig, parseConfig, type RealmConfig } from '../model/config.js';
import { BertTokenizer } from '../tokenizer/bertTokenizer.js';
import { trainWordPiece } from '../tokenizer/trainer.js';
import type { PretrainConfig } from './pretrainConfig.js';

/** Reads up to `maxDocs` documents (0 = all) of each corpus spec into memory, in order. */
export async function readDocs(specs: string | readonly string[], maxDocs: number): Promise<CorpusDoc[]> {
  const out: CorpusDoc[] = [];
  for (const spec of typeof specs === 'string' ? [specs] : specs) {
    let n = 0;
    for await (const d of openCorpus(spec, { onError: 'stop' })) {
      out.push(d);
      if (++n === maxDocs) break;
    }
    if (n === 0) throw new CheckpointError(spec, 'the corpus has no documents');
  }
  return out;
}

/** The run's tokenizer: `model.vocab`, else `<outputDir>/vocab.txt` (trained on the documents the first time). */
export async function runTokenizer(cfg: PretrainConfig, docs: readonly CorpusDoc[], log: (l: string) => void): Promise<BertTokenizer> {
  if (cfg.model.vocab) {
    if (!existsSync(cfg.model.vocab)) throw new CheckpointError(cfg.model.vocab, 'vocabulary file not found (model.vocab)');
    return BertTokenizer.fromVocabFile(cfg.model.vocab);
  }
  const path = join(cfg.outputDir, 'vocab.txt');
  if (existsSync(path)) return BertTokenizer.fromVocabFile(path);
  mkdirSync(cfg.outputDir, { recursive: true });
  function* texts(): Generator<string> {
    for (const d of docs) {
      yield d.title;
      yield d.text;
    }
  }
  const tok = await trainWordPiece(texts(), { vocabSize: cfg.model.vocabSize, minFrequency: 2, limitAlphabet: 1000 });
  tok.saveVocabTxt(path);
  log(`vocab: trained ${tok.vocabSize} wordpieces on ${docs.length} documents → ${path}`);
  return tok;
}

/** BERT-mini over the tokenizer's vocabulary with the config file's overrides (validated). */
export function runModelConfig(cfg: PretrainConfig, tok: BertTokenizer): RealmConfig {
  return parseConfig(bertMiniConfig({ vocab_size: tok.vocabSize, pad_token_id: tok.padId, ...cfg.model.config }), 'model.config');
}

/** Loads a warm-start file: a .safetensors file or a directory holding model.safetensors. */
export function loadWeightsFile(path: string): NamedArrays {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'model.safetensors') : path;
  if (!existsSync(file)) throw new CheckpointError(file, 'weights file not found');
  return resolveAliases(loadSafetensors(file));
}

/** Copies every tensor of `src` whose (renamed) name exists in `dst` with the same size; returns how many. */
export function copyMatching(dst: ReadonlyMap<string, Tensor>, src: NamedArrays, rename: (name: string) => string = (n) => n): number {
  let n = 0;
  for (const [name, arr] of src) {
    const t = dst.get(rename(name));
    if (!t || !(arr.data instanceof Float32Array) || arr.data.length !== t.size) continue;
    t.data.set(arr.data);
    n++;
  }
  return n;
}

/** Writes a model directory: config.json, model.safetensors (state dict, tied tensors once), vocab.txt. */
export function exportModelDir(dir: string, config: object, state: ReadonlyMap<string, Tensor>, tok: BertTokenizer, extraConfig: object = {}): void {
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, ArrayToSave>();
  for (const [name, t] of state) tensors.set(name, { shape: t.shape, data: t.data });
  saveSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  writeFileAtomicSync(join(dir, 'config.json'), `${JSON.stringify({ ...config, ...extraConfig }, null, 2)}\n`);
  tok.saveVocabTxt(join(dir, 'vocab.txt'));
}
