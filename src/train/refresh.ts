/**
 * Asynchronous index refresh for REALM pre-training (Guu et al. 2020 §3.4: the document embeddings go stale as
 * Embed_doc trains, so a background job re-embeds the corpus and rebuilds the MIPS index every few hundred steps while
 * training continues). Every `every` steps `afterStep` copies the document embedder's weights into a
 * SharedArrayBuffer (the snapshot, also saved as `snapshot-<id>.safetensors` so a resumed run can redo a refresh that
 * was in flight) and posts it to a worker thread (./refreshWorker.ts). The new index is swapped in between steps —
 * in 'deterministic' mode exactly `lag` steps after its snapshot (waiting if the worker is late, so runs and resumes
 * are reproducible), in 'asap' mode as soon as it is ready. Logged: staleness (steps since the snapshot the index in
 * use was built from) and top-k churn (share of a fixed probe set's top-k ids that changed at the last swap).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { JsonValue } from '../io/checkpoint.js';
import { listCheckpoints } from '../io/checkpoint.js';
import { loadSafetensors, saveSafetensors, type ArrayToSave } from '../io/safetensors.js';
import type { Index } from '../index/types.js';
import { loadIndexFile } from '../api/modelDir.js';
import type { RealmEmbedder } from '../model/embedder.js';
import type { IndexKind } from './embedCorpus.js';
import { snapshotWeights, topkChurn, weightLayout, type WeightLayout } from './refreshJob.js';
import type { RefreshReply, RefreshRequest, RefreshWorkerData } from './refreshWorker.js';

/** Refresh settings. */
export interface RefreshOptions {
  /** Snapshot + rebuild every this many steps (0 = never). */
  every: number;
  /** 'deterministic' (swap exactly `lag` steps after the snapshot) or 'asap' (swap when ready). */
  swap: 'deterministic' | 'asap';
  /** Steps from snapshot to swap in deterministic mode. */
  lag: number;
  /** Worker tensor backend. */
  workerBackend: 'js' | 'native';
  /** Worker GEMM threads when workerBackend is 'native'. */
  workerThreads: number;
  /** Index type. */
  indexKind: IndexKind;
  /** Largest flat index in auto mode. */
  flatMaxBlocks: number;
  /** Blocks per embedding batch. */
  batchSize: number;
  /** Top-k used for the churn measure. */
  churnK: number;
}

/** What the refresher needs to know about the model and corpus. */
export interface RefreshSetup {
  /** The live document embedder (its weights are snapshotted). */
  docEmbedder: RealmEmbedder;
  /** vocab.txt of the tokenizer. */
  vocabPath: string;
  /** Document store of the knowledge corpus. */
  docStorePath: string;
  /** Block input length (`[CLS] title [SEP] text [SEP]`). */
  blockMaxLen: number;
  /** Directory for index snapshots and snapshot weights. */
  dir: string;
  /** Checkpoint directory (index files referenced by checkpoints are kept). */
  checkpointDir: string | null;
  /** Fixed probe query vectors for churn [n * dim] (computed lazily; null = no churn measure). */
  probes: (() => Float32Array) | null;
  /** Status messages. */
  log: (line: string) => void;
}

interface Pending {
  snapshotId: string;
  step: number;
  swapAt: number;
  result: Promise<{ path: string; vectors: Float32Array; seconds: number }>;
  ready: boolean;
}

/** Snapshot id of a refresh taken after `step` steps. */
export function snapshotIdFor(step: number): string {
  return `s${String(step).padStart(7, '0')}`;
}

/** Manages the refresh worker and the index in use. */
export class IndexRefresher {
  /** The index in use (swapped atomically between steps). */
  index: Index | null = null;
  /** Its snapshot id. */
  indexId: string | null = null;
  /** Step of the snapshot it was built from. */
  indexStep = 0;
  /** Top-k churn at the last swap (null before the second index). */
  lastChurn: number | null = null;
  /** Vectors of the index in use, row = block id (for tests and diagnostics). */
  vectors: Float32Array | null = null;
  /** Refreshes completed and swapped in. */
  swaps = 0;
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private pending: Pending | null = null;
  private readonly layout: WeightLayout;
  private readonly waiters = new Map<string, { resolve: (r: { path: string; vectors: Float32Array; seconds: number }) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  constructor(readonly setup: RefreshSetup, readonly opts: RefreshOptions) {
    this.layout = weightLayout(setup.docEmbedder.parameters(), setup.docEmbedder.prefix);
    mkdirSync(setup.dir, { recursive: true });
  }

  private spawn(): void {
    const data: RefreshWorkerData = {
      cfg: this.setup.docEmbedder.cfg, vocabPath: this.setup.vocabPath, docStorePath: this.setup.docStorePath,
      blockMaxLen: this.setup.blockMaxLen, batchSize: this.opts.batchSize, indexKind: this.opts.indexKind,
      flatMaxBlocks: this.opts.flatMaxBlocks, backend: this.opts.workerBackend, threads: this.opts.workerThreads,
      outDir: this.setup.dir, layout: this.layout,
    };
    const here = import.meta.url;
    // from source (tsx) the worker needs tsx's loader registered inside the worker; compiled code loads the .js
    this.worker = here.endsWith('.ts')
      ? new Worker(`import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(new URL('./refreshWorker.ts', here).href)}); })`, { eval: true, workerData: data })
      : new Worker(new URL('./refreshWorker.js', here), { workerData: data });
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker!.on('message', (m: RefreshReply) => {
        if (m.type === 'ready') {
          this.setup.log(`refresh worker: ${m.blocks} blocks tokenised in ${m.seconds.toFixed(1)} s (backend ${this.opts.workerBackend})`);
          resolve();
        } else if (m.type === 'done') {
          const w = this.waiters.get(m.snapshotId);
          this.waiters.delete(m.snapshotId);
          w?.resolve({ path: m.path, vectors: m.vectors, seconds: m.seconds });
        } else {
          this.fail(new Error(`index refresh worker: ${m.message}`), reject);
        }
      });
      this.worker!.on('error', (e) => this.fail(e, reject));
      this.worker!.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`index refresh worker exited with code ${code}`), reject);
      });
    });
  }

  private fail(e: Error, reject?: (e: Error) => void): void {
    this.failure ??= e;
    reject?.(e);
    for (const w of this.waiters.values()) w.reject(e);
    this.waiters.clear();
  }

  /** Starts the worker (tokenising the corpus) and waits until it is ready. */
  async start(): Promise<void> {
    if (!this.worker) this.spawn();
    await this.ready;
  }

  /** Uses an existing index file as the current index (initial index or resume). */
  useIndexFile(path: string, id: string, step: number): void {
    this.index = loadIndexFile(path, this.setup.docEmbedder.cfg.retriever_proj_size);
    this.indexId = id;
    this.indexStep = step;
  }

  /** Posts a snapshot of the current document embedder (taken after `step` steps) to the worker. */
  async request(step: number, swapAt: number, weights?: SharedArrayBuffer): Promise<void> {
    await this.start();
    const snapshotId = snapshotIdFor(step);
    const params = this.setup.docEmbedder.parameters();
    const sab = weights ?? snapshotWeights(params, this.layout);
    if (!weights) this.saveSnapshot(snapshotId, sab);
    const result = new Promise<{ path: string; vectors: Float32Array; seconds: number }>((resolve, reject) => this.waiters.set(snapshotId, { resolve, reject }));
    const p: Pending = { snapshotId, step, swapAt, result, ready: false };
    result.then(() => (p.ready = true), () => {});
    this.pending = p;
    this.worker!.postMessage({ type: 'refresh', snapshotId, step, weights: sab } satisfies RefreshRequest);
  }

  private saveSnapshot(id: string, sab: SharedArrayBuffer): void {
    const flat = new Float32Array(sab);
    const m = new Map<string, ArrayToSave>();
    this.layout.names.forEach((n, i) => m.set(n, { shape: [this.layout.sizes[i]], data: flat.subarray(this.layout.offsets[i], this.layout.offsets[i] + this.layout.sizes[i]) }));
    saveSafetensors(join(this.setup.dir, `snapshot-${id}.safetensors`), m);
  }

  private loadSnapshot(id: string): SharedArrayBuffer {
    const path = join(this.setup.dir, `snapshot-${id}.safetensors`);
    const f = loadSafetensors(path).tensors;
    const sab = new SharedArrayBuffer(this.layout.total * 4);
    const flat = new Float32Array(sab);
    this.layout.names.forEach((n, i) => {
      const t = f.get(n);
      if (!t || t.data.length !== this.layout.sizes[i]) throw new Error(`${path}: tensor ${n} missing or of the wrong size`);
      flat.set(t.data as Float32Array, this.layout.offsets[i]);
    });
    return sab;
  }

  /** Waits for the pending refresh and swaps it in (measuring churn). */
  async swapPending(): Promise<void> {
    const p = this.pending;
    if (!p) return;
    if (this.failure) throw this.failure;
    const r = await p.result;
    const next = loadIndexFile(r.path, this.setup.docEmbedder.cfg.retriever_proj_size);
    if (this.index && this.setup.probes) this.lastChurn = topkChurn(this.index, next, this.setup.probes(), this.opts.churnK);
    this.index = next;
    this.indexId = p.snapshotId;
    this.indexStep = p.step;
    this.vectors = r.vectors;
    this.pending = null;
    this.swaps++;
    this.setup.log(`index refresh: swapped in ${p.snapshotId} (built in ${r.seconds.toFixed(1)} s${this.lastChurn !== null ? `, top-k churn ${this.lastChurn.toFixed(3)}` : ''})`);
    this.prune();
  }

  /** Trainer hook before step `step` (0-based): swap when due. */
  async beforeStep(step: number): Promise<void> {
    if (this.failure) throw this.failure;
    const p = this.pending;
    if (!p) return;
    if (this.opts.swap === 'deterministic' ? step >= p.swapAt : p.ready) await this.swapPending();
  }

  /** Trainer hook after `completed` steps: take a snapshot when one is due. */
  async afterStep(completed: number): Promise<void> {
    if (this.opts.every <= 0 || completed % this.opts.every !== 0 || this.pending) return;
    await this.request(completed, completed + this.opts.lag);
  }

  /** Steps since the snapshot of the index in use. */
  staleness(step: number): number {
    return step - this.indexStep;
  }

  /** Checkpoint state: the index in use and a refresh in flight. */
  checkpointState(): { indexSnapshotId: string | null; extra: Record<string, JsonValue> } {
    return {
      indexSnapshotId: this.indexId,
      extra: {
        indexStep: this.indexStep,
        indexPath: this.indexId ? join(this.setup.dir, `index-${this.indexId}.bin`) : null,
        pending: this.pending ? { snapshotId: this.pending.snapshotId, step: this.pending.step, swapAt: this.pending.swapAt } : null,
        lastChurn: this.lastChurn,
      },
    };
  }

  /** Restores `checkpointState`: reloads the index in use and re-posts a refresh that was in flight. */
  async restore(indexSnapshotId: string | null, extra: Record<string, JsonValue>): Promise<void> {
    if (indexSnapshotId) {
      const path = typeof extra.indexPath === 'string' ? extra.indexPath : join(this.setup.dir, `index-${indexSnapshotId}.bin`);
      if (!existsSync(path)) throw new Error(`checkpoint refers to index snapshot ${indexSnapshotId} but ${path} is missing`);
      this.useIndexFile(path, indexSnapshotId, Number(extra.indexStep ?? 0));
    }
    this.lastChurn = typeof extra.lastChurn === 'number' ? extra.lastChurn : null;
    const p = extra.pending as { snapshotId: string; step: number; swapAt: number } | null | undefined;
    if (p) await this.request(p.step, p.swapAt, this.loadSnapshot(p.snapshotId));
  }

  /** Deletes index and snapshot files no longer referenced by the current index, a pending refresh or a checkpoint. */
  prune(): void {
    const keep = new Set<string>();
    if (this.indexId) keep.add(this.indexId);
    if (this.pending) keep.add(this.pending.snapshotId);
    if (this.setup.checkpointDir) {
      for (const c of listCheckpoints(this.setup.checkpointDir)) {
        try {
          const st = JSON.parse(readFileSync(join(c.path, 'trainer_state.json'), 'utf8')) as { indexSnapshotId?: string; extra?: { task?: { pending?: { snapshotId?: string } } } };
          if (st.indexSnapshotId) keep.add(st.indexSnapshotId);
          const pid = st.extra?.task?.pending?.snapshotId;
          if (pid) keep.add(pid);
        } catch {
          // unreadable state: keep everything to be safe
          return;
        }
      }
    }
    for (const f of readdirSync(this.setup.dir)) {
      const m = /^(?:index|snapshot)-(s\d+)\.(?:bin|safetensors)$/.exec(f);
      if (m && !keep.has(m[1])) rmSync(join(this.setup.dir, f), { force: true });
    }
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
