/**
 * The contract between the generic pre-training loop (./trainer.ts) and what it trains (REALM §3.4 pre-training,
 * or a plain MLM warm-up of the encoder, REALM §B "initialise from BERT"): a `TrainTask` owns a model, the random
 * generator that drives its dropout and data sampling, a data cursor, and computes the loss of its next batch.
 * Optional hooks let a task run work between steps (the asynchronous index refresh) and add its own state to
 * checkpoints (index snapshot id, pending refresh), so a resumed run continues exactly where the killed one stopped.
 */
import type { Rng, Tensor } from '../engine/index.js';
import type { JsonValue } from '../io/checkpoint.js';

/** A model the trainer can optimise and checkpoint. */
export interface TrainableModel {
  /** Trainable parameters by (HF) name — the tensors AdamW updates. */
  parameters(): Map<string, Tensor>;
  /** Every tensor a checkpoint holds, by name (tied tensors may appear under one name only). */
  stateDict(): Map<string, Tensor>;
}

/** What one step's loss function returns. */
export interface StepOutput {
  /** Scalar loss with autograd (the trainer calls backward on it). */
  loss: Tensor;
  /** Extra scalar metrics for the log, e.g. { topDocProb, nullProb } (finite numbers only). */
  metrics?: Record<string, number>;
}

/** State a task adds to a checkpoint. */
export interface TaskCheckpointState {
  /** Id of the MIPS index snapshot in use (null when the task has no index). */
  indexSnapshotId: string | null;
  /** Anything else the task needs to resume (JSON). */
  extra: Record<string, JsonValue>;
}

/** A trainable job: model, data and loss. */
export interface TrainTask {
  /** Short name for logs ("mlm", "realm"). */
  readonly name: string;
  /** The model (its parameters are optimised). */
  readonly model: TrainableModel;
  /** The generator behind dropout, masking and sampling; its state is saved and restored with checkpoints. */
  readonly rng: Rng;
  /** config.json of checkpoints and of the exported model. */
  configJson(): object;
  /**
   * Loss of the next batch (advances the data cursor). `step` is the 0-based index of the step being taken. The
   * trainer recycles the loss graph's intermediate buffers after backward: report metrics as numbers computed here, and
   * keep no graph tensor for later.
   */
  step(step: number): StepOutput;
  /** Position in the data stream (JSON), saved in checkpoints. */
  cursor(): JsonValue;
  /** Restores a position returned by `cursor()`. */
  restoreCursor(cursor: JsonValue): void;
  /** Called before step `step` (0-based) runs; may wait (e.g. for an index refresh due now). */
  beforeStep?(step: number): Promise<void>;
  /** Called after `completed` steps are done (weights updated); may start background work. */
  afterStep?(completed: number): Promise<void>;
  /** Extra state for a checkpoint taken after `completed` steps. */
  checkpointState?(completed: number): TaskCheckpointState;
  /** Restores `checkpointState` after the weights are loaded (before the first resumed step). */
  restoreState?(state: TaskCheckpointState, completed: number): Promise<void>;
  /** Metrics logged once per step besides loss (e.g. index staleness); merged into the JSONL record. */
  statusMetrics?(): Record<string, number | string | null>;
  /** Releases workers and files. */
  close?(): Promise<void>;
}
