// ICT warm start of the REALM retriever (ORQA §4, REALM §3.4) on a shared Wikipedia corpus: trains (or loads) our own
// WordPiece vocabulary on the corpus, tokenises every passage by sentence, builds a RealmScorer (separate BERT-mini
// query and document embedders) and runs the IctTrainer with checkpoints in <work>/ict (a killed run resumes from the
// newest one). Writes <work>/ict-final/{model.safetensors,config.json} when the run completes. Usage:
//   node --import tsx scripts/train-ict.ts [--work bench/.data/retrieval] [--corpus enwiki2015_first300_p100]
//     [--vocab-size 16000] [--steps 1000] [--batch 64] [--lr 1e-4] [--warmup 100] [--block-len 160] [--query-len 48]
//     [--layers 2] [--hidden 256] [--heads 4] [--ffn 1024] [--max-minutes 60] [--warm-start bert.safetensors] [--seed 1]
//     [--checkpoint-every 50] [--threads N] [--dropout 0.1]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, getBackend } from '../src/engine/index.js';
import { writeConfig } from '../src/model/config.js';
import { RealmScorer } from '../src/retriever/scorer.js';
import type { SharedCorpusName } from '../src/corpus/shared.js';
import { IctTrainer } from '../src/train/ict.js';
import { IctCorpus } from '../src/train/ictData.js';
import { loadOrTrainVocab, readPassageBlocks, retrieverConfig, warmStartTrunks } from '../src/train/ictSetup.js';

/** Parsed command line of the ICT training script. */
export interface TrainIctArgs {
  work: string;
  corpus: SharedCorpusName;
  vocabSize: number;
  steps: number;
  batch: number;
  lr: number;
  warmup: number;
  blockLen: number;
  queryLen: number;
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  maxMinutes: number;
  warmStart: string;
  seed: number;
  checkpointEvery: number;
  threads: number;
  dropout: number;
}

function parseArgs(argv: string[]): TrainIctArgs {
  const get = (name: string, def: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
  };
  const num = (name: string, def: number): number => {
    const v = Number(get(name, String(def)));
    if (!Number.isFinite(v)) throw new TypeError(`--${name} must be a number`);
    return v;
  };
  return {
    work: get('work', 'bench/.data/retrieval'),
    corpus: get('corpus', 'enwiki2015_first300_p100') as SharedCorpusName,
    vocabSize: num('vocab-size', 16000),
    steps: num('steps', 1000),
    batch: num('batch', 64),
    lr: num('lr', 1e-4),
    warmup: num('warmup', 100),
    blockLen: num('block-len', 160),
    queryLen: num('query-len', 48),
    layers: num('layers', 2),
    hidden: num('hidden', 256),
    heads: num('heads', 4),
    ffn: num('ffn', 1024),
    maxMinutes: num('max-minutes', 1e9),
    warmStart: get('warm-start', ''),
    seed: num('seed', 1),
    checkpointEvery: num('checkpoint-every', 50),
    threads: num('threads', 0),
    dropout: num('dropout', 0.1),
  };
}

/** Runs ICT training as configured; returns the final step. */
export async function trainIct(a: TrainIctArgs, log: (l: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  if (a.threads > 0) getBackend().setThreads(a.threads);
  log(`backend ${getBackend().name}, threads ${getBackend().getThreads()}`);
  const blocks = await readPassageBlocks(a.corpus);
  const tok = await loadOrTrainVocab(a.work, blocks, a.vocabSize, log);
  let t0 = performance.now();
  const corpus = IctCorpus.fromBlocks(tok, blocks);
  log(`ict corpus: ${corpus.size} blocks, ${corpus.eligible.length} with >= 2 sentences (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const cfg = retrieverConfig(tok.config.vocab.length, tok.padId, {
    num_hidden_layers: a.layers, hidden_size: a.hidden, num_attention_heads: a.heads, intermediate_size: a.ffn,
    hidden_dropout_prob: a.dropout, attention_probs_dropout_prob: a.dropout,
  });
  const rng = new Rng(a.seed);
  const scorer = new RealmScorer(cfg, rng);
  if (a.warmStart) log(`warm start: ${warmStartTrunks(scorer, a.warmStart)} trunk tensors per embedder from ${a.warmStart}`);
  const trainer = new IctTrainer(scorer, tok, corpus, rng, {
    steps: a.steps, batchSize: a.batch, lr: a.lr, warmupSteps: a.warmup, blockLen: a.blockLen, queryLen: a.queryLen,
    seed: a.seed, checkpointDir: join(a.work, 'ict'), checkpointEvery: a.checkpointEvery, keepLast: 2, logEvery: 10,
  }, log);
  const resumed = trainer.resume();
  if (resumed > 0) log(`resumed from step ${resumed}`);
  t0 = performance.now();
  const deadline = t0 + a.maxMinutes * 60_000;
  while (trainer.step < a.steps && performance.now() < deadline) trainer.train({ maxSteps: 10 });
  if (trainer.step % a.checkpointEvery !== 0) trainer.save();
  const out = join(a.work, 'ict-final');
  mkdirSync(out, { recursive: true });
  scorer.save(join(out, 'model.safetensors'), { step: String(trainer.step) });
  writeConfig(join(out, 'config.json'), cfg, ['RealmScorer']);
  log(`ict: stopped at step ${trainer.step}/${a.steps}; weights in ${out}`);
  return trainer.step;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  trainIct(parseArgs(process.argv.slice(2))).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
