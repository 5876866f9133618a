// ICT warm start of the REALM retriever (ORQA §4, REALM §3.4) on a shared Wikipedia corpus: trains (or loads) our own
// WordPiece vocabulary on the corpus, tokenises every passage by sentence, builds a RealmScorer (separate BERT-mini
// query and document embedders) and runs the IctTrainer with checkpoints in <work>/ict (a killed run resumes from the
// newest one). Writes <out>/{model.safetensors,config.json,vocab.txt} (default out: <work>/ict-final) when the run
// stops (all steps done or --max-minutes reached), then creates the empty file --done if given.
// `--init <dir>` starts from an MLM warm-up model directory (model.safetensors + config.json + vocab.txt, as the
// pretrain pipeline exports it): its vocabulary, its architecture (config.json) and its trunk for BOTH embedders, so the
// result loads as `retrieverInit` of a REALM config built on the same MLM model (configs/realm-default.json).
// Usage:
//   node --import tsx scripts/train-ict.ts [--work bench/.data/retrieval] [--corpus enwiki2015_first300_p100]
//     [--init <mlm model dir>] [--out <dir>] [--done <file>] [--vocab-size 16000] [--steps 1000] [--batch 64]
//     [--lr 1e-4] [--warmup 100] [--block-len 128] [--query-len 48] [--remove-prob 0.9] [--logit-scale 1]
//     [--layers 2] [--hidden 256] [--heads 4] [--ffn 1024] [--max-minutes 60] [--warm-start bert.safetensors] [--seed 1]
//     [--checkpoint-every 50] [--threads N] [--dropout 0.1]
// (--layers/--hidden/--heads/--ffn/--vocab-size are ignored with --init: the model directory decides.)
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, getBackend } from '../src/engine/index.js';
import { writeFileAtomicSync } from '../src/io/atomic.js';
import { readConfig, writeConfig } from '../src/model/config.js';
import { RealmScorer } from '../src/retriever/scorer.js';
import type { SharedCorpusName } from '../src/corpus/shared.js';
import { IctTrainer, type IctStepStats } from '../src/train/ict.js';
import { IctCorpus } from '../src/train/ictData.js';
import { loadOrTrainVocab, readPassageBlocks, retrieverConfig, warmStartTrunks } from '../src/train/ictSetup.js';
import { scriptArgs } from './lib/args.js';

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
  /** MLM model directory to start from ('' = none). */
  init: string;
  /** Output directory of the final weights ('' = <work>/ict-final). */
  out: string;
  /** Empty file created after the final weights are written ('' = none). */
  done: string;
  removeProb: number;
  logitScale: number;
}

function parseArgs(argv: string[]): TrainIctArgs {
  const { get, num } = scriptArgs(argv);
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
    init: get('init', ''),
    out: get('out', ''),
    done: get('done', ''),
    removeProb: num('remove-prob', 0.9),
    logitScale: num('logit-scale', 1),
  };
}

/** Runs ICT training as configured; returns the final step. */
export async function trainIct(a: TrainIctArgs, log: (l: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  if (a.threads > 0) getBackend().setThreads(a.threads);
  log(`backend ${getBackend().name}, threads ${getBackend().getThreads()}`);
  const blocks = await readPassageBlocks(a.corpus);
  if (a.init) {
    // the MLM model's vocabulary is the vocabulary (a work directory holding another one is an error)
    for (const f of ['vocab.txt', 'config.json', 'model.safetensors']) {
      if (!existsSync(join(a.init, f))) throw new Error(`--init ${a.init}: missing ${f}`);
    }
    mkdirSync(a.work, { recursive: true });
    const wv = join(a.work, 'vocab.txt');
    if (!existsSync(wv)) copyFileSync(join(a.init, 'vocab.txt'), wv);
    else if (readFileSync(wv, 'utf8') !== readFileSync(join(a.init, 'vocab.txt'), 'utf8')) {
      throw new Error(`${wv} differs from ${join(a.init, 'vocab.txt')}: use a fresh --work directory`);
    }
  }
  const tok = await loadOrTrainVocab(a.work, blocks, a.vocabSize, log);
  let t0 = performance.now();
  const corpus = IctCorpus.fromBlocks(tok, blocks);
  log(`ict corpus: ${corpus.size} blocks, ${corpus.eligible.length} with >= 2 sentences (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const dropout = { hidden_dropout_prob: a.dropout, attention_probs_dropout_prob: a.dropout };
  // the architecture as saved (dropout of the saved config is the model's default; ICT's own dropout is --dropout)
  const base = a.init
    ? readConfig(join(a.init, 'config.json'))
    : retrieverConfig(tok.config.vocab.length, tok.padId, {
      num_hidden_layers: a.layers, hidden_size: a.hidden, num_attention_heads: a.heads, intermediate_size: a.ffn,
    });
  const cfg = { ...base, ...dropout };
  if (cfg.vocab_size !== tok.config.vocab.length) throw new Error(`model vocab_size ${cfg.vocab_size} != ${tok.config.vocab.length} wordpieces`);
  if (a.blockLen > cfg.max_position_embeddings) throw new Error(`--block-len ${a.blockLen} > max_position_embeddings ${cfg.max_position_embeddings}`);
  const rng = new Rng(a.seed);
  const scorer = new RealmScorer(cfg, rng);
  const warm = a.init ? join(a.init, 'model.safetensors') : a.warmStart;
  if (warm) {
    log(`warm start: ${warmStartTrunks(scorer, warm)} trunk tensors per embedder from ${warm}`);
    // both sides start as the same function (same trunk, same projection): initial scores are the MLM encoder's own
    // [CLS] similarities instead of products of two unrelated random projections
    scorer.tieQueryToDoc();
  }
  const trainer = new IctTrainer(scorer, tok, corpus, rng, {
    steps: a.steps, batchSize: a.batch, lr: a.lr, warmupSteps: a.warmup, blockLen: a.blockLen, queryLen: a.queryLen,
    removeProb: a.removeProb, logitScale: a.logitScale,
    seed: a.seed, checkpointDir: join(a.work, 'ict'), checkpointEvery: a.checkpointEvery, keepLast: 2, logEvery: 10,
  }, log);
  const resumed = trainer.resume();
  if (resumed > 0) log(`resumed from step ${resumed}`);
  t0 = performance.now();
  const deadline = t0 + a.maxMinutes * 60_000;
  const recent: IctStepStats[] = [];
  while (trainer.step < a.steps && performance.now() < deadline) {
    for (const st of trainer.train({ maxSteps: 10 })) {
      recent.push(st);
      if (recent.length > 50) recent.shift();
    }
  }
  const wallMinutes = (performance.now() - t0) / 60_000;
  if (trainer.step % a.checkpointEvery !== 0) trainer.save();
  const out = a.out || join(a.work, 'ict-final');
  mkdirSync(out, { recursive: true });
  scorer.save(join(out, 'model.safetensors'), { step: String(trainer.step), init: a.init || a.warmStart || 'random' });
  writeConfig(join(out, 'config.json'), base, ['RealmScorer']);
  tok.saveVocabTxt(join(out, 'vocab.txt'));
  // what the run was, for the benchmark report (bench/retrieval.ts reads it next to the weights)
  const mean = (f: (x: IctStepStats) => number): number | null => (recent.length ? recent.reduce((acc, x) => acc + f(x), 0) / recent.length : null);
  writeFileAtomicSync(join(out, 'ict.json'), `${JSON.stringify({
    init: a.init || a.warmStart || 'random', steps: trainer.step, planned_steps: a.steps, batch: a.batch, lr: a.lr, warmup: a.warmup,
    block_len: a.blockLen, query_len: a.queryLen, remove_prob: a.removeProb, logit_scale: a.logitScale, dropout: a.dropout,
    threads: getBackend().getThreads(), examples: trainer.step * a.batch, wall_minutes_this_run: Math.round(wallMinutes * 10) / 10,
    last50_loss: mean((x) => x.loss), last50_in_batch_acc: mean((x) => x.accuracy), chance_loss: Math.log(a.batch),
    corpus: a.corpus, command: `node --import tsx scripts/train-ict.ts ${process.argv.slice(2).join(' ')}`,
  }, null, 2)}\n`);
  log(`ict: stopped at step ${trainer.step}/${a.steps}; weights in ${out}`);
  if (a.done) writeFileAtomicSync(a.done, '');
  return trainer.step;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  trainIct(parseArgs(process.argv.slice(2))).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
