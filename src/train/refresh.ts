/**
 * Asynchronous index refresh for REALM pre-training (Guu et al. 2020 §3.4: the document embeddings go stale as
 * Embed_doc trains, so a background job re-embeds the corpus and rebuilds the MIPS index every few hundred steps while
 * training continues). Every `every` steps `afterStep` copies the document embedder's weights into a
 * SharedArrayBuffer (the snapshot, also saved as `snapshot-<id>.safetensors` so a resumed run can redo a refresh that
 * was in flight) and posts it to a worker thread or a child process (./refreshWorker.ts). The new index is swapped in between steps —
 * in 'deterministic' mode exactly `lag` steps after its snapshot (waiting if the worker is late, so runs and resumes
 * are reproducible), in 'asap' mode as soon as it is ready. Logged: staleness (steps since the snapshot the index in
 * use was built from) and top-k churn (share of a fixed probe set's top-k ids that changed at the last swap).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { noGrad } from '../engine/index.js';
import type { TokenSeq } from '../retriever/inputs.js';
import type { JsonValue } from '../io/checkpoint.js';
import { listCheckpoints } from '../io/checkpoint.js';
import { loadSafetensors, saveSafetensors, type ArrayToSave } from '../io/safetensors.js';
import type { Index } from '../index/types.js';
import { loadIndexFile } from '../api/modelDir.js';
import type { RealmEmbedder } from '../model/embedder.js';
import type { IndexKind } from './embedCorpus.js';
import { refreshIndex, snapshotWeights, topkChurn, weightLayout, type WeightLayout } from './refreshJob.js';
import { formatDuration } from './progress.js';
import type { RefreshReply, RefreshRequest, RefreshWorkerData } from './refreshWorker.js';

/** Refresh settings. */
export interface RefreshOptions {
  /** Snapshot + rebuild every this many steps (0 = never). */
  every: number;
  /** 'deterministic' (swap exactly `lag` steps after the snapshot) or 'asap' (swap when ready). */
  swap: 'deterministic' | 'asap';
  /** Steps from snapshot to swap in deterministic mode. */
  lag: number;
  /** Where the refresh runs: a worker thread or a child process (own native thread pool). */
  runner: 'thread' | 'process';
  /** Worker tensor backend (a thread must use 'js' unless the native pool is re-entrant; a process can use 'native'). */
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
  result: Promise<{ path: string; vectors: Float32Array | null; seconds: number }>;
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
  private chan: { post(m: RefreshRequest): void; terminate(): Promise<unknown> } | null = null;
  private ready: Promise<void> | null = null;
  private pending: Pending | null = null;
  private readonly layout: WeightLayout;
  private readonly waiters = new Map<string, { resolve: (r: { path: string; vectors: Float32Array | null; seconds: number }) => void; reject: (e: Error) => void }>();
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
    const fromSource = here.endsWith('.ts');
    const entry = new URL(fromSource ? './refreshWorker.ts' : './refreshWorker.js', here);
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: RefreshReply): void => {
        if (m.type === 'ready') {
          this.setup.log(`refresh ${this.opts.runner}: ${m.blocks} blocks tokenised in ${m.seconds.toFixed(1)} s (backend ${this.opts.workerBackend})`);
          resolve();
        } else if (m.type === 'done') {
          const w = this.waiters.get(m.snapshotId);
          this.waiters.delete(m.snapshotId);
          w?.resolve({ path: m.path, vectors: m.vectors, seconds: m.seconds });
        } else {
          this.fail(new Error(`index refresh ${this.opts.runner}: ${m.message}`), reject);
        }
      };
      const onExit = (code: number | null): void => {
        if (this.chan && code !== 0) this.fail(new Error(`index refresh ${this.opts.runner} exited with code ${code}`), reject);
      };
      if (this.opts.runner === 'process') {
        // own process, own native thread pool; from source it needs tsx's loader
        const child = fork(fileURLToPath(entry), [], { execArgv: fromSource ? ['--import', 'tsx'] : [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        child.on('message', (m) => onMessage(m as RefreshReply));
        child.on('error', (e) => this.fail(e, reject));
        child.on('exit', onExit);
        child.send({ type: 'init', data } satisfies RefreshRequest);
        this.chan = {
          post: (m) => void child.send(m),
          terminate: () => new Promise((r) => {
            if (child.exitCode !== null || child.signalCode !== null) return r(null);
            child.once('exit', r);
            child.kill();
          }),
        };
      } else {
        // from source (tsx) the worker needs tsx's loader registered inside the worker; compiled code loads the .js
        const worker = fromSource
          ? new Worker(`import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true, workerData: data })
          : new Worker(entry, { workerData: data });
        worker.on('message', onMessage);
        worker.on('error', (e) => this.fail(e, reject));
        worker.on('exit', onExit);
        this.chan = { post: (m) => worker.postMessage(m), terminate: () => worker.terminate() };
      }
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
    if (!this.chan) this.spawn();
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
    const result = new Promise<{ path: string; vectors: Float32Array | null; seconds: number }>((resolve, reject) => this.waiters.set(snapshotId, { resolve, reject }));
    const p: Pending = { snapshotId, step, swapAt, result, ready: false };
    result.then(() => (p.ready = true), () => {});
    this.pending = p;
    if (this.opts.runner === 'process') this.chan!.post({ type: 'refresh', snapshotId, step, weightsPath: this.snapshotPath(snapshotId) });
    else this.chan!.post({ type: 'refresh', snapshotId, step, weights: sab });
  }

  private saveSnapshot(id: string, sab: SharedArrayBuffer): void {
    const flat = new Float32Array(sab);
    const m = new Map<string, ArrayToSave>();
    this.layout.names.forEach((n, i) => m.set(n, { shape: [this.layout.sizes[i]], data: flat.subarray(this.layout.offsets[i], this.layout.offsets[i] + this.layout.sizes[i]) }));
    saveSafetensors(this.snapshotPath(id), m);
  }

  private snapshotPath(id: string): string {
    return join(this.setup.dir, `snapshot-${id}.safetensors`);
  }

  private loadSnapshot(id: string): SharedArrayBuffer {
    const path = this.snapshotPath(id);
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

  /**
   * Builds the index from the current document embedder right here, synchronously (the initial index at step 0,
   * when there is no training to overlap with: the trainer's own backend and threads do it fastest).
   */
  buildNow(step: number, seqs: readonly TokenSeq[], padId: number): void {
    const id = snapshotIdFor(step);
    const t0 = performance.now();
    let last = t0;
    const progress = (done: number): void => {
      const now = performance.now();
      if (now - last < 10_000 || done === seqs.length) return;
      last = now;
      const rate = done / ((now - t0) / 1000);
      this.setup.log(`index: ${done}/${seqs.length} blocks embedded, ${rate.toFixed(0)} blocks/s, ETA ${formatDuration((seqs.length - done) / rate)}`);
    };
    const { vectors, index } = noGrad(() => refreshIndex(this.setup.docEmbedder, seqs, padId, this.opts.batchSize, { kind: this.opts.indexKind, flatMaxBlocks: this.opts.flatMaxBlocks }, progress));
    index.save(join(this.setup.dir, `index-${id}.bin`));
    this.index = index;
    this.indexId = id;
    this.indexStep = step;
    this.vectors = vectors;
    this.setup.log(`index: ${seqs.length} blocks embedded and indexed in ${((performance.now() - t0) / 1000).toFixed(1)} s (${id})`);
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    const c = this.chan;
    this.chan = null;
    if (c) await c.terminate();
  }
}
