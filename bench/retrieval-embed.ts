// Corpus-embedding throughput (REALM §3.4: every block is embedded with Embed_doc before MIPS): embeds the first N
// passages of enwiki2015_first300_p100 with a document embedder (the trained one from --model, else a randomly
// initialised one of the given shape: the cost does not depend on the weights) through the production path
// (src/train/embedCorpus.embedBlocks: length-sorted batches, dynamic padding, no mask on unpadded batches, last layer
// on the [CLS] rows only), and projects the minutes for the whole 78,686-passage corpus. `--full-forward` times the
// plain BERT forward instead (every row through every layer), for comparison. Prints one JSON line.
// Usage:
//   node --import tsx bench/retrieval-embed.ts --vocab <vocab.txt> [--model <scorer.safetensors>] [--blocks 2000]
//     [--block-len 128] [--batch 64] [--max-tokens 8192] [--threads 2] [--hidden 256] [--layers 2] [--heads 4]
//     [--ffn 1024] [--full-forward]
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { getBackend, noGrad, Rng } from '../src/engine/index.js';
import { bertMiniConfig, readConfig } from '../src/model/config.js';
import { RealmScorer } from '../src/retriever/scorer.js';
import { embedBlocks } from '../src/train/embedCorpus.js';
import { readPassageBlocks } from '../src/train/ictSetup.js';
import { BertTokenizer } from '../src/tokenizer/bertTokenizer.js';
import { encodeBlock } from '../src/retriever/inputs.js';
import { benchOption, exitOnHelp } from './lib/help.js';
import { machineInfo } from './lib/report.js';

exitOnHelp(import.meta.url);

const num = (name: string, def: number): number => Number(benchOption(name) ?? def);
const vocabPath = benchOption('vocab');
const modelPath = benchOption('model');
const nBlocks = num('blocks', 2000);
const blockLen = num('block-len', 128);
const batchSize = num('batch', 64);
const maxBatchTokens = num('max-tokens', 8192);
const threads = num('threads', 0);
const CORPUS_BLOCKS = 78_686;

async function main(): Promise<void> {
  if (!vocabPath || !existsSync(vocabPath)) throw new Error('--vocab <vocab.txt> is required');
  if (threads > 0) getBackend().setThreads(threads);
  const tok = BertTokenizer.fromVocabFile(vocabPath);
  const cfg = modelPath
    ? readConfig(join(dirname(modelPath), 'config.json'))
    : bertMiniConfig({
      vocab_size: tok.config.vocab.length, pad_token_id: tok.padId, max_position_embeddings: Math.max(256, blockLen),
      hidden_size: num('hidden', 256), num_hidden_layers: num('layers', 2), num_attention_heads: num('heads', 4), intermediate_size: num('ffn', 1024),
    });
  const scorer = new RealmScorer(cfg, new Rng(1), { init: !modelPath });
  if (modelPath) scorer.load(modelPath);
  const blocks = (await readPassageBlocks('enwiki2015_first300_p100')).slice(0, nBlocks);
  const lens = blocks.map((b) => encodeBlock(tok, b.title, b.text, 100_000).ids.length);
  const meanLen = lens.reduce((a, b) => a + b, 0) / lens.length;
  const truncated = lens.filter((l) => l > blockLen).length / lens.length;
  const emb = scorer.docEmbedder;
  if (benchOption('full-forward')) {
    // same batches, plain forward (all rows through all layers)
    const orig = emb.embed.bind(emb);
    emb.embed = (x) => noGrad(() => emb.forward(x, false)).data;
    void orig;
  }
  embedBlocks(emb, tok, blocks.slice(0, 128), { batchSize, maxBatchTokens, blockLen }); // warm-up
  const t0 = performance.now();
  embedBlocks(emb, tok, blocks, { batchSize, maxBatchTokens, blockLen });
  const s = (performance.now() - t0) / 1000;
  const bps = blocks.length / s;
  console.log(JSON.stringify({
    backend: getBackend().name, threads: getBackend().getThreads(), loadavg_1m: machineInfo().loadavg_1m,
    path: benchOption('full-forward') ? 'full-forward' : 'cls-only-last-layer',
    model: { layers: cfg.num_hidden_layers, hidden: cfg.hidden_size, heads: cfg.num_attention_heads, ffn: cfg.intermediate_size, vocab: cfg.vocab_size },
    blocks: blocks.length, block_len: blockLen, mean_wordpieces_untruncated: Math.round(meanLen * 10) / 10,
    share_truncated: Math.round(truncated * 1000) / 1000, batch: batchSize, seconds: Math.round(s * 10) / 10,
    blocks_per_s: Math.round(bps * 10) / 10, projected_minutes_78686: Math.round((CORPUS_BLOCKS / bps / 60) * 10) / 10,
  }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
