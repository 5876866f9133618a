/**
 * Worker-thread side of the asynchronous index refresh (REALM §3.4): opened once with the model config, vocabulary
 * and document store, it tokenises every block, then for each `refresh` message loads the snapshot weights from a
 * SharedArrayBuffer, re-embeds the corpus, builds the index (Flat or ScaNN by size), writes it atomically as
 * `index-<snapshotId>.bin` and posts the vectors back (transferred). Tensor work runs on its own backend: 'js' by
 * default (single-threaded, independent of the trainer), or 'native' with its GEMM threads set to `threads`.
 */
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { DocStore } from '../corpus/docstore.js';
import { getBackend, setBackend } from '../engine/index.js';
import type { RealmConfig } from '../model/config.js';
import { BertTokenizer } from '../tokenizer/bertTokenizer.js';
import type { IndexKind } from './embedCorpus.js';
import { loadSnapshot, refreshIndex, snapshotEmbedder, tokenizeBlocks, type WeightLayout } from './refreshJob.js';

/** What the worker is started with. */
export interface RefreshWorkerData {
  cfg: RealmConfig;
  vocabPath: string;
  docStorePath: string;
  blockMaxLen: number;
  batchSize: number;
  indexKind: IndexKind;
  flatMaxBlocks: number;
  backend: 'js' | 'native';
  threads: number;
  outDir: string;
  layout: WeightLayout;
}

/** Main → worker. */
export type RefreshRequest = { type: 'refresh'; snapshotId: string; step: number; weights: SharedArrayBuffer } | { type: 'stop' };

/** Worker → main. */
export type RefreshReply =
  | { type: 'ready'; blocks: number; seconds: number }
  | { type: 'done'; snapshotId: string; step: number; path: string; vectors: Float32Array; seconds: number }
  | { type: 'error'; message: string; stack?: string };

const port = parentPort!;
const d = workerData as RefreshWorkerData;
try {
  const t0 = performance.now();
  setBackend(d.backend);
  if (d.backend === 'native') getBackend().setThreads(d.threads);
  const tok = BertTokenizer.fromVocabFile(d.vocabPath);
  const store = DocStore.open(d.docStorePath);
  const ids = Int32Array.from({ length: store.size }, (_, i) => i);
  const seqs = tokenizeBlocks(tok, store.getMany(ids), d.blockMaxLen);
  store.close();
  const embedder = snapshotEmbedder(d.cfg);
  port.postMessage({ type: 'ready', blocks: seqs.length, seconds: (performance.now() - t0) / 1000 } satisfies RefreshReply);
  port.on('message', (msg: RefreshRequest) => {
    if (msg.type === 'stop') {
      port.close();
      return;
    }
    try {
      const t1 = performance.now();
      loadSnapshot(embedder, d.layout, msg.weights);
      const { vectors, index } = refreshIndex(embedder, seqs, tok.padId, d.batchSize, { kind: d.indexKind, flatMaxBlocks: d.flatMaxBlocks });
      const path = join(d.outDir, `index-${msg.snapshotId}.bin`);
      index.save(path);
      const reply: RefreshReply = { type: 'done', snapshotId: msg.snapshotId, step: msg.step, path, vectors, seconds: (performance.now() - t1) / 1000 };
      port.postMessage(reply, [vectors.buffer as ArrayBuffer]);
    } catch (e) {
      port.postMessage({ type: 'error', message: (e as Error).message, stack: (e as Error).stack } satisfies RefreshReply);
    }
  });
} catch (e) {
  port.postMessage({ type: 'error', message: (e as Error).message, stack: (e as Error).stack } satisfies RefreshReply);
}
