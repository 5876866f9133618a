/**
 * Training checkpoints that survive a kill at any instant (REALM pre-training runs for many hours and refreshes its
 * MIPS index asynchronously, §3.4, so the index snapshot id is saved with the weights).
 *
 * A checkpoint is a directory `<dir>/checkpoint-<step>` holding
 *   model.safetensors      parameters (tied tensors written once, restored on load),
 *   config.json            the model config (any JSON object; validate it with model/config.ts `parseConfig`),
 *   trainer_state.json     step, RNG state, optimiser hyper-parameters, LR schedule, index snapshot id, extra JSON,
 *   optimizer.safetensors  AdamW moments as `<param>.exp_avg` / `<param>.exp_avg_sq`.
 * It is written into a hidden temp directory (every file fsynced), which is then renamed into place and the parent
 * fsynced, so a `checkpoint-<step>` directory is always complete; then the `latest` pointer file is replaced
 * atomically and all but the newest `keepLast` checkpoints are removed (renamed away first, then deleted). Loading
 * picks the highest complete step (so a kill between the rename and the pointer update loses nothing) and deletes temp
 * directories left by dead writers. Generic on purpose: Float32Array maps and JSON, no engine types.
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, removeStaleTemps, tempPathFor, writeFileAtomicSync } from './atomic.js';
import { resolveAliases } from './aliases.js';
import { CheckpointError } from './errors.js';
import { loadSafetensors, saveSafetensors, type ArrayToSave, type NamedArrays } from './safetensors.js';

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Contents of trainer_state.json. */
export interface TrainerState {
  /** Optimisation steps completed (names the directory). */
  step: number;
  /** PRNG state words (uint32) to continue the same random stream. */
  rngState: number[];
  /** Optimiser hyper-parameters (e.g. { name: "adamw", lr, beta1, beta2, eps, weightDecay }). */
  optimizer: Record<string, JsonValue>;
  /** Learning-rate schedule (e.g. { name: "linear", warmupSteps, totalSteps }). */
  schedule: Record<string, JsonValue>;
  /** Id of the MIPS index snapshot the retriever used at this step (null before the first build). */
  indexSnapshotId: string | null;
  /** Anything else to restore (data cursor, metrics, …). */
  extra: Record<string, JsonValue>;
}

/** AdamW first and second moments of one parameter (same length as the parameter). */
export interface AdamMoments {
  expAvg: Float32Array;
  expAvgSq: Float32Array;
}

/** What `saveCheckpoint` writes. */
export interface CheckpointData {
  /** Parameters (and int buffers); the same Float32Array under two names is stored once. */
  model: ReadonlyMap<string, ArrayToSave>;
  /** config.json contents. */
  config: object;
  /** trainer_state.json contents. */
  state: TrainerState;
  /** Optimiser moments per parameter name (omit for none). */
  optimizer?: ReadonlyMap<string, AdamMoments>;
}

/** Options of `saveCheckpoint`. */
export interface SaveCheckpointOptions {
  /** Complete checkpoints to keep, newest by step (default 3, minimum 1). */
  keepLast?: number;
}

/** A loaded checkpoint. */
export interface LoadedCheckpoint {
  /** The checkpoint directory. */
  path: string;
  step: number;
  /** Parameters with tied aliases restored (aliases share one data object). */
  model: NamedArrays;
  config: Record<string, unknown>;
  state: TrainerState;
  optimizer: Map<string, AdamMoments>;
}

export const MODEL_FILE = 'model.safetensors';
export const CONFIG_FILE = 'config.json';
export const STATE_FILE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const LATEST_FILE = 'latest';
const REQUIRED = [MODEL_FILE, CONFIG_FILE, STATE_FILE, OPTIMIZER_FILE];
const DIR_RE = /^checkpoint-(\d+)$/;

/** Directory name of the checkpoint at `step`. */
export function checkpointName(step: number): string {
  return `checkpoint-${step}`;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function validateState(file: string, s: unknown): TrainerState {
  const bad = (field: string, want: string): never => {
    throw new CheckpointError(file, `trainer state field "${field}" must be ${want}`);
  };
  if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new CheckpointError(file, 'trainer state must be an object');
  const o = s as Record<string, unknown>;
  if (!Number.isSafeInteger(o.step) || (o.step as number) < 0) bad('step', 'a non-negative integer');
  if (!Array.isArray(o.rngState) || !o.rngState.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
    bad('rngState', 'an array of uint32 words');
  }
  for (const f of ['optimizer', 'schedule', 'extra']) {
    const v = o[f];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(f, 'an object');
  }
  if (o.indexSnapshotId !== null && typeof o.indexSnapshotId !== 'string') bad('indexSnapshotId', 'a string or null');
  return o as unknown as TrainerState;
}

/** Complete checkpoints in `dir` (all four files present), ascending by step. */
export function listCheckpoints(dir: string): { step: number; path: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: { step: number; path: string }[] = [];
  for (const name of names) {
    const m = DIR_RE.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    if (REQUIRED.every((f) => existsSync(join(path, f)))) out.push({ step: Number(m[1]), path });
  }
  return out.sort((a, b) => a.step - b.step);
}

function buildOptimizerTensors(
  dir: string, model: ReadonlyMap<string, ArrayToSave>, optimizer: ReadonlyMap<string, AdamMoments>,
): Map<string, ArrayToSave> {
  const out = new Map<string, ArrayToSave>();
  for (const [name, { expAvg, expAvgSq }] of optimizer) {
    const param = model.get(name);
    const shape = param ? param.shape : [expAvg.length];
    const n = param ? param.data.length : expAvg.length;
    if (!(expAvg instanceof Float32Array) || !(expAvgSq instanceof Float32Array) || expAvg.length !== n || expAvgSq.length !== n) {
      throw new CheckpointError(dir, `optimizer moments must be Float32Arrays of the parameter's length ${n}`, name);
    }
    out.set(`${name}.exp_avg`, { shape, data: expAvg });
    out.set(`${name}.exp_avg_sq`, { shape, data: expAvgSq });
  }
  return out;
}

/**
 * Write `<dir>/checkpoint-<state.step>` atomically, point `<dir>/latest` at it and prune old checkpoints.
 * Returns the checkpoint directory. Re-saving an existing step replaces it atomically.
 */
export function saveCheckpoint(dir: string, data: CheckpointData, opts: SaveCheckpointOptions = {}): string {
  const keepLast = Math.max(1, opts.keepLast ?? 3);
  const state = validateState(`${dir} (state to save)`, data.state);
  if (data.config === null || typeof data.config !== 'object' || Array.isArray(data.config)) {
    throw new CheckpointError(dir, 'config must be a JSON object');
  }
  const optTensors = buildOptimizerTensors(dir, data.model, data.optimizer ?? new Map());
  mkdirSync(dir, { recursive: true });
  removeStaleTemps(dir);
  const name = checkpointName(state.step);
  const final = join(dir, name);
  const tmp = tempPathFor(final);
  mkdirSync(tmp);
  try {
    saveSafetensors(join(tmp, MODEL_FILE), data.model, { format: 'pt' });
    saveSafetensors(join(tmp, OPTIMIZER_FILE), optTensors, { format: 'pt' });
    writeFileAtomicSync(join(tmp, CONFIG_FILE), json(data.config));
    writeFileAtomicSync(join(tmp, STATE_FILE), json({ ...state, savedAt: new Date().toISOString() }));
    fsyncDir(tmp);
    if (existsSync(final)) {
      const trash = tempPathFor(final);
      renameSync(final, trash);
      renameSync(tmp, final);
      rmSync(trash, { recursive: true, force: true });
    } else {
      renameSync(tmp, final);
    }
    fsyncDir(dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(final, `saving failed (${(e as Error).message})`);
  }
  writeFileAtomicSync(join(dir, LATEST_FILE), `${name}\n`);
  const all = listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keepLast))) {
    if (old.path === final) continue;
    const trash = tempPathFor(old.path);
    renameSync(old.path, trash); // disappears atomically, then is deleted
    rmSync(trash, { recursive: true, force: true });
  }
  fsyncDir(dir);
  return final;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CheckpointError(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(file, `not valid JSON (${(e as Error).message})`);
  }
}

/** Load one checkpoint directory (all four files validated). */
export function loadCheckpoint(path: string): LoadedCheckpoint {
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new CheckpointError(path, 'no such checkpoint directory');
  for (const f of REQUIRED) if (!existsSync(join(path, f))) throw new CheckpointError(path, `incomplete checkpoint: ${f} is missing`);
  const stateFile = join(path, STATE_FILE);
  const state = validateState(stateFile, readJson(stateFile));
  const m = DIR_RE.exec(path.split(/[\\/]/).filter(Boolean).pop() ?? '');
  if (m && Number(m[1]) !== state.step) {
    throw new CheckpointError(stateFile, `step ${state.step} does not match the directory name`);
  }
  const configFile = join(path, CONFIG_FILE);
  const config = readJson(configFile);
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new CheckpointError(configFile, 'config must be a JSON object');
  }
  const model = resolveAliases(loadSafetensors(join(path, MODEL_FILE)));
  const optFile = join(path, OPTIMIZER_FILE);
  const opt = resolveAliases(loadSafetensors(optFile));
  const optimizer = new Map<string, AdamMoments>();
  for (const [key, t] of opt) {
    const base = key.endsWith('.exp_avg') ? key.slice(0, -8) : key.endsWith('.exp_avg_sq') ? key.slice(0, -11) : null;
    if (base === null) throw new CheckpointError(optFile, 'not an optimizer moment (<param>.exp_avg or .exp_avg_sq)', key);
    const a = opt.get(`${base}.exp_avg`);
    const b = opt.get(`${base}.exp_avg_sq`);
    if (!a || !b) throw new CheckpointError(optFile, 'exp_avg and exp_avg_sq must both be present', base);
    if (!(a.data instanceof Float32Array) || !(b.data instanceof Float32Array)) {
      throw new CheckpointError(optFile, 'optimizer moments must be floating point', base);
    }
    optimizer.set(base, { expAvg: a.data, expAvgSq: b.data });
  }
  return { path, step: state.step, model, config: config as Record<string, unknown>, state, optimizer };
}

/**
 * The newest complete checkpoint in `dir`, or null when there is none. Temp directories of dead (or this) process's
 * interrupted saves are deleted first. A corrupt newest checkpoint is an error, not silently skipped.
 */
export function loadLatestCheckpoint(dir: string): LoadedCheckpoint | null {
  if (!existsSync(dir)) return null;
  removeStaleTemps(dir, true);
  const all = listCheckpoints(dir);
  if (all.length === 0) return null;
  return loadCheckpoint(all[all.length - 1].path);
}
