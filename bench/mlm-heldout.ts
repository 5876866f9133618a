// Held-out masked-LM loss of MLM checkpoints (issue 5 / issue 6 trunks): the cross-entropy per masked wordpiece on the
// documents an MLM config holds out of training (its data.heldoutFraction hash split — the same documents REALM's
// held-out sentences come from), in the config's own layout (single sequences, or segment pairs with its
// pairQueryLen / pairOwnShare / pairMaskSecond), masked with a fixed seed so every model is scored on the SAME masks.
// No dropout, no gradient. The training log's loss is on training batches, which a model that has seen the corpus
// several times can drive down by memorising it; this is the figure that says whether the trunk still generalises.
// Usage:
//   node --import tsx bench/mlm-heldout.ts --config <mlm config.json> --model <dir or .safetensors> [--model ...]
//     [--batch 64] [--seed 1] [--max-seqs N] [--threads 2] [--out <json>]
// A model directory or checkpoint directory (model.safetensors + config.json; the architecture comes from its
// config.json when present, else from the run config). Writes only --out (never BENCHMARKS.md).
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Rng, getBackend, noGrad } from '../src/engine/index.js';
import { readConfig } from '../src/model/config.js';
import { BertForMaskedLM } from '../src/model/mlm.js';
import { mlmPairsOf, mlmTokensOf } from '../src/train/pretrain.js';
import { readPretrainConfig } from '../src/train/pretrainConfig.js';
import { chunkDocuments, MlmTask } from '../src/train/mlmTask.js';
import { isHeldOut } from '../src/train/realmData.js';
import { copyMatching, loadWeightsFile, readDocs, runModelConfig, runTokenizer } from '../src/train/setup.js';
import { benchOption, benchOptions, exitOnHelp } from './lib/help.js';
import { writeJson } from './lib/report.js';

exitOnHelp(import.meta.url);
const one = (name: string, def: string): string => benchOption(name) ?? def;

async function main(): Promise<void> {
  const cfgPath = one('config', '');
  const models = benchOptions('model');
  if (!cfgPath || models.length === 0) throw new Error('--config and at least one --model are required (see --help)');
  const batch = Number(one('batch', '64'));
  const seed = Number(one('seed', '1'));
  const maxSeqs = Number(one('max-seqs', 'Infinity'));
  getBackend().setThreads(Number(one('threads', '2')));
  const cfg = readPretrainConfig(cfgPath);
  if (cfg.task !== 'mlm') throw new Error(`${cfgPath}: task is ${cfg.task}, not mlm`);
  const docs = (await readDocs(cfg.data.corpus, cfg.data.maxDocs)).filter((d) => isHeldOut(d.id, cfg.data.heldoutFraction));
  if (docs.length === 0) throw new Error(`${cfgPath}: no held-out documents (data.heldoutFraction ${cfg.data.heldoutFraction})`);
  const tok = await runTokenizer(cfg, docs, () => {});
  const baseCfg = runModelConfig(cfg, tok);
  const q = cfg.data.pairQueryLen;
  const maxLen = Math.min(cfg.data.seqLen, baseCfg.max_position_embeddings - (q > 0 ? 3 : 2));
  const chunked = chunkDocuments(docs.map((d) => tok.encodeSequence(`${d.title}. ${d.text}`).ids), maxLen);
  const n = Math.min(chunked.sequences.length, maxSeqs);
  const sequences = chunked.sequences.slice(0, n);
  const docOf = chunked.docOf.subarray(0, n);
  const batches = Math.ceil(n / batch);
  process.stderr.write(`mlm-heldout: ${docs.length} held-out documents, ${n} sequences of <= ${maxLen} wordpieces, ${batches} batches of ${batch}\n`);
  const results: { model: string; loss: number; masked_tokens: number }[] = [];
  for (const m of models) {
    const file = existsSync(m) && statSync(m).isDirectory() ? join(m, 'model.safetensors') : m;
    const own = join(dirname(file), 'config.json');
    const mcfg = existsSync(own) ? readConfig(own) : baseCfg;
    const model = new BertForMaskedLM(mcfg, new Rng(1), 'bert');
    const copied = copyMatching(model.parameters(), loadWeightsFile(file), (name) => name.replace(/^realm\./, 'bert.'));
    if (copied !== model.parameters().size) throw new Error(`${file}: filled ${copied} of the model's ${model.parameters().size} tensors (another architecture?)`);
    // the same masks for every model: a fresh task over the held-out sequences with the fixed seed, read in order
    const task = new MlmTask(model, new Rng(seed), mcfg, mlmTokensOf(tok), sequences, {
      batchSize: batch, maskProb: cfg.data.maskProb, dataSeed: seed, pairs: mlmPairsOf(cfg, maxLen, docOf),
    });
    let sum = 0;
    let count = 0;
    const t0 = performance.now();
    for (let b = 0; b < batches; b++) {
      const x = task.nextBatch();
      const loss = noGrad(() => model.loss(x.inputs, x.positions, x.labels, false)).item();
      sum += loss * x.labels.length;
      count += x.labels.length;
    }
    results.push({ model: m, loss: sum / count, masked_tokens: count });
    process.stderr.write(`  ${m}: held-out MLM loss ${(sum / count).toFixed(4)} over ${count} masked wordpieces (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  const out = one('out', '');
  if (out) writeJson(out, { bench: 'mlm-heldout', config: cfgPath, heldout_documents: docs.length, sequences: n, batch, seed, layout: q > 0 ? { pairQueryLen: q, pairOwnShare: cfg.data.pairOwnShare, pairMaskSecond: cfg.data.pairMaskSecond } : 'single', results });
}

main().catch((e: Error) => {
  process.stderr.write(`mlm-heldout: ${e.message}\n`);
  process.exit(1);
});
