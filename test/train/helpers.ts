/**
 * Test fixtures shared by the trainer, refresh and CLI tests: a tiny synthetic corpus of templated facts, a WordPiece
 * vocabulary trained on it, tiny model configs and a child-process runner for the CLI (`node --import tsx`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RetrieverTokenizer } from '../../src/retriever/inputs.js';
import { BertTokenizer } from '../../src/tokenizer/bertTokenizer.js';
import { trainWordPiece } from '../../src/tokenizer/trainer.js';

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const PEOPLE = ['Ada Lovelace', 'Alan Turing', 'Marie Curie', 'Isaac Newton', 'Niels Bohr', 'Emmy Noether', 'Carl Gauss', 'Rosalind Franklin'];
const CITIES = ['London', 'Manchester', 'Paris', 'Woolsthorpe', 'Copenhagen', 'Erlangen', 'Brunswick', 'Notting'];
const FIELDS = ['mathematics', 'computing', 'chemistry', 'physics', 'physics', 'algebra', 'geometry', 'crystallography'];

/** Small documents: each person's birthplace, field and a year, written in a few templates. */
export function tinyDocs(): Array<{ id: string; title: string; text: string }> {
  return PEOPLE.map((p, i) => ({
    id: `doc${i}`,
    title: p,
    text: `${p} was born in ${CITIES[i]} in ${1800 + 13 * i}. ${p} worked on ${FIELDS[i]} for many years. ` +
      `The work of ${p} in ${FIELDS[i]} is famous. ${CITIES[i]} remembers ${p} with a statue.`,
  }));
}

/** Writes the tiny corpus as JSONL and a vocabulary trained on it; returns their paths. */
export async function writeTinyCorpus(dir: string): Promise<{ corpus: string; vocab: string; tok: BertTokenizer }> {
  mkdirSync(dir, { recursive: true });
  const docs = tinyDocs();
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(corpus, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const tok = await trainWordPiece(docs.flatMap((d) => [d.title, d.text]), { vocabSize: 200, minFrequency: 1 });
  const vocab = join(dir, 'vocab.txt');
  tok.saveVocabTxt(vocab);
  return { corpus, vocab, tok: BertTokenizer.fromVocabFile(vocab) };
}

/** A tiny BERT shape (RealmConfig overrides). */
export const TINY_MODEL = {
  hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, retriever_proj_size: 16,
  max_position_embeddings: 128, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
};

/** Arguments to run the CLI from source. */
export function cliArgs(args: string[]): string[] {
  return ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args];
}

/** Runs the CLI to completion. */
export function runCliSync(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, cliArgs(args), { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the CLI in the background. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, cliArgs(args), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Trains a tiny REALM for `steps` steps on the tiny corpus and returns its exported model directory. */
export async function makeTinyRealmModel(dir: string, steps = 2): Promise<{ modelDir: string; corpus: string; vocab: string }> {
  const { runPretrain } = await import('../../src/train/pretrain.js');
  const { parsePretrainConfig } = await import('../../src/train/pretrainConfig.js');
  const { corpus, vocab } = await writeTinyCorpus(dir);
  const cfg = parsePretrainConfig({
    task: 'realm', seed: 3, outputDir: join(dir, 'run'), threads: 1,
    model: { vocab, config: TINY_MODEL },
    data: { corpus, masking: 'salient', dataSeed: 2 },
    optim: { steps, batchSize: 2, lr: 2e-3, warmupSteps: 0 },
    checkpoint: { every: 100, keepLast: 1 },
    log: { every: 1, quiet: true, throttleMs: 0 },
    realm: { k: 2, queryMaxLen: 32, blockMaxLen: 48, jointMaxLen: 80 },
    refresh: { every: 0, lag: 1, batchSize: 8, probeQueries: 0 },
  }, 'tiny-realm', dir);
  const r = await runPretrain(cfg);
  return { modelDir: r.modelDir!, corpus, vocab };
}

/** A tiny REALM run config (k = 2 + null document, refresh every 3 steps swapped 1 step later). */
export function tinyRealmConfig(corpus: string, vocab: string, out: string, steps = 8) {
  return {
    task: 'realm', seed: 3, outputDir: out, threads: 1,
    model: { vocab, config: { ...TINY_MODEL, hidden_dropout_prob: 0.1 } },
    data: { corpus, masking: 'salient', dataSeed: 2 },
    optim: { steps, batchSize: 2, lr: 2e-3, warmupSteps: 1 },
    checkpoint: { every: 4, keepLast: 2 },
    log: { every: 1, quiet: true, throttleMs: 0 },
    realm: { k: 2, queryMaxLen: 32, blockMaxLen: 48, jointMaxLen: 80 },
    refresh: { every: 3, lag: 1, batchSize: 8, probeQueries: 4 },
  };
}

/** Word-level tokenizer over a fixed vocabulary (ids 0..4 are [PAD] [UNK] [CLS] [SEP] [MASK]; words from 5). */
export function wordTokenizer(words: string[]): RetrieverTokenizer {
  const vocab = new Map(words.map((w, i) => [w, 5 + i]));
  return {
    clsId: 2, sepId: 3, padId: 0,
    encodeSequence: (text: string) => ({ ids: text.toLowerCase().split(/\s+/).filter(Boolean).map((w) => vocab.get(w) ?? 1) }),
  };
}
