/**
 * Background side of the asynchronous index refresh (REALM §3.4), run either in a worker thread or in a child
 * process: opened once with the model config, vocabulary and document store, it tokenises every block, then for each
 * `refresh` request loads the snapshot weights (a SharedArrayBuffer from a thread's parent, or the snapshot file for
 * a child process), re-embeds the corpus, builds the index (Flat or ScaNN by size), writes it atomically as
 * `index-<snapshotId>.bin` and replies with the vectors (transferred to a thread, cloned over a child's IPC). Threads use the 'js' backend
 * by default (the native addon's thread pool is process-wide, so a second thread must not drive it concurrently);
 * a child process has its own native pool and runs with `threads` GEMM threads, leaving the rest to the trainer.
 */
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { DocStore } from '../corpus/docstore.js';
import { nativeBackendOrNull, setBackend } from '../engine/index.js';
import { loadSafetensors } from '../io/safetensors.js';
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

/** Main → worker. A thread gets `weights`; a child process reads the snapshot file `weightsPath`. */
export type RefreshRequest =
  | { type: 'init'; data: RefreshWorkerData }
  | { type: 'refresh'; snapshotId: string; step: number; weights?: SharedArrayBuffer; weightsPath?: string }
  | { type: 'stop' };

/** Worker → main. */
export type RefreshReply =
  | { type: 'ready'; blocks: number; seconds: number }
  | { type: 'done'; snapshotId: string; step: number; path: string; vectors: Float32Array | null; seconds: number }
  | { type: 'error'; message: string; stack?: string };

function fromFile(path: string, layout: WeightLayout): ArrayBuffer {
  const f = loadSafetensors(path).tensors;
  const flat = new Float32Array(layout.total);
  layout.names.forEach((n, i) => {
    const t = f.get(n);
    if (!t || t.data.length !== layout.sizes[i]) throw new Error(`${path}: snapshot tensor ${n} missing or of the wrong size`);
    flat.set(t.data as Float32Array, layout.offsets[i]);
  });
  return flat.buffer;
}

/** Sets up the refresh service and returns its request handler. */
function service(d: RefreshWorkerData, post: (m: RefreshReply, transfer?: ArrayBuffer[]) => void): (m: RefreshRequest) => void {
  const t0 = performance.now();
  // 'native' falls back to the JS backend when the addon is not built (as getBackend() does)
  const native = d.backend === 'native' ? nativeBackendOrNull() : null;
  setBackend(native ?? 'js');
  if (native) native.setThreads(d.threads);
  const tok = BertTokenizer.fromVocabFile(d.vocabPath);
  const store = DocStore.open(d.docStorePath);
  const seqs = tokenizeBlocks(tok, [...store], d.blockMaxLen);
  store.close();
  const embedder = snapshotEmbedder(d.cfg);
  post({ type: 'ready', blocks: seqs.length, seconds: (performance.now() - t0) / 1000 });
  return (msg) => {
    if (msg.type !== 'refresh') return;
    try {
      const t1 = performance.now();
      loadSnapshot(embedder, d.layout, msg.weights ?? fromFile(msg.weightsPath!, d.layout));
      const { vectors, index } = refreshIndex(embedder, seqs, tok.padId, d.batchSize, { kind: d.indexKind, flatMaxBlocks: d.flatMaxBlocks });
      const path = join(d.outDir, `index-${msg.snapshotId}.bin`);
      index.save(path);
      const seconds = (performance.now() - t1) / 1000;
      post({ type: 'done', snapshotId: msg.snapshotId, step: msg.step, path, vectors, seconds }, msg.weights ? [vectors.buffer as ArrayBuffer] : undefined);
    } catch (e) {
      post({ type: 'error', message: (e as Error).message, stack: (e as Error).stack });
    }
  };
}

function errorReply(e: unknown): RefreshReply {
  return { type: 'error', message: (e as Error).message, stack: (e as Error).stack };
}

if (parentPort) {
  // worker thread
  const port = parentPort;
  try {
    const handle = service(workerData as RefreshWorkerData, (m, t) => port.postMessage(m, t));
    port.on('message', (m: RefreshRequest) => (m.type === 'stop' ? port.close() : handle(m)));
  } catch (e) {
    port.postMessage(errorReply(e));
  }
} else if (process.send) {
  // child process: the parent's first message carries the settings; exit when the parent goes away
  const send = (m: RefreshReply): void => void process.send!(m);
  let handle: ((m: RefreshRequest) => void) | null = null;
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: RefreshRequest) => {
    if (m.type === 'stop') process.exit(0);
    if (m.type === 'init') {
      try {
        handle = service(m.data, send);
      } catch (e) {
        send(errorReply(e));
      }
    } else handle?.(m);
  });
}
