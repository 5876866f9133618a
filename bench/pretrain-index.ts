// Initial MIPS index of a REALM pre-training run (REALM §3.4: the index holds Embed_doc of every block; at step 0
// that is the ICT warm start): reads a pretrain config (configs/realm-default.json layout), builds the run's document
// store if it is missing, embeds every block with the document embedder of `model.retrieverInit` (resumable chunks,
// progress), and saves an exact FlatIndex. Point `data.index` of the REALM runs that share this store and warm start
// at the file, so the (expensive) embedding is done once for all of them — with `realm.trainDocEmbedder` false it is
// also the final model's index.
// Usage:
//   node --import tsx bench/pretrain-index.ts --config configs/realm-default.json --out <dir>/index.bin [--threads 1]
//     [--batch 64]
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { getBackend, noGrad, Rng } from '../src/engine/index.js';
import { RealmScorer } from '../src/retriever/scorer.js';
import { MODEL_FILES } from '../src/api/modelDir.js';
import { buildIndex, embedCorpus } from '../src/train/embedCorpus.js';
import { readPretrainConfig } from '../src/train/pretrainConfig.js';
import { ensureDocStore } from '../src/train/realmData.js';
import { loadWeightsFile, readDocs, runModelConfig, runTokenizer } from '../src/train/setup.js';
import { benchOption, exitOnHelp } from './lib/help.js';

exitOnHelp(import.meta.url);

async function main(): Promise<void> {
  const configPath = benchOption('config');
  const out = benchOption('out');
  if (!configPath || !out) throw new Error('pretrain-index: --config FILE and --out FILE are required (see --help)');
  const threads = Number(benchOption('threads') ?? 1);
  const batch = Number(benchOption('batch') ?? 64);
  getBackend().setThreads(threads);
  const cfg = readPretrainConfig(configPath);
  const log = (l: string): void => void process.stderr.write(`${l}\n`);
  if (!cfg.model.retrieverInit) throw new Error(`${configPath}: model.retrieverInit is null (nothing to embed with)`);
  const storePath = cfg.data.docStore ?? join(cfg.outputDir, MODEL_FILES.docs);
  const docs = cfg.data.docStore || existsSync(storePath) ? [] : await readDocs(cfg.data.corpus, cfg.data.maxDocs);
  const tok = await runTokenizer(cfg, docs, log);
  mkdirSync(dirname(storePath), { recursive: true });
  const store = await ensureDocStore(storePath, docs, tok, cfg.realm.blockMaxLen, log);
  const scorer = new RealmScorer(runModelConfig(cfg, tok), new Rng(cfg.seed), { init: false });
  const src = loadWeightsFile(cfg.model.retrieverInit);
  const scorerOnly = new Map([...src].filter(([n]) => n.startsWith('embedder.') || n.startsWith('query_embedder.')));
  scorer.loadStateDict(scorerOnly.size ? scorerOnly : src, cfg.model.retrieverInit);
  mkdirSync(dirname(out), { recursive: true });
  const r = noGrad(() => embedCorpus(scorer.docEmbedder, tok, store, {
    outDir: `${out}.chunks`, batchSize: batch, blockLen: cfg.realm.blockMaxLen, log,
  }));
  const index = buildIndex(r.vectors, r.dim, { kind: 'flat' });
  index.save(out);
  log(`pretrain-index: ${store.size} blocks, ${r.seconds.toFixed(1)} s (${r.blocksPerSecond.toFixed(1)} blocks/s) → ${out}`);
  store.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
