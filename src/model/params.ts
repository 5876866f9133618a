/**
 * Named-parameter registry of a model: every trainable tensor under its Hugging Face name (`bert.embeddings.…`,
 * `realm.encoder.layer.0.…`, `cls.predictions.…`), so checkpoints move both ways between HF's PyTorch models and ours.
 *
 * `stateDict()` returns the name → tensor map (tied tensors appear once, under their owner's name); `loadStateDict()`
 * copies a loaded map into the parameters in place after filling known tie aliases (HF's MLM decoder ↔ word
 * embeddings, `cls.predictions.decoder.bias` ↔ `cls.predictions.bias`) and checking names and shapes like torch's
 * `load_state_dict(strict)`. `save()` / `load()` go through src/io's safetensors reader/writer (atomic writes).
 */
import { Tensor, TensorError } from '../engine/index.js';
import { assignTensors, mlmTiedAliases, resolveAliases, type AliasRule } from '../io/aliases.js';
import { loadSafetensors, saveSafetensors, type ArrayToSave, type NamedArrays } from '../io/safetensors.js';

/** How `init.ts` initialises a parameter (BERT's `_init_weights`). */
export type ParamKind = 'weight' | 'embedding' | 'bias' | 'lnWeight' | 'lnBias';

/** Options of `ParamStore.loadStateDict`. */
export interface LoadStateOptions {
  /** Missing or unexpected names are errors (default true). Shape mismatches always are. */
  strict?: boolean;
  /** Extra tie rules (alias, kept) on top of the MLM ties of every registered trunk prefix. */
  aliases?: readonly AliasRule[];
  /** Name used in error messages for an in-memory map. */
  file?: string;
}

/** Names that HF state dicts carry but that are buffers, not parameters (ignored on load). */
const BUFFER_SUFFIXES = ['.position_ids', '.token_type_ids'];

/** An ordered name → parameter registry shared by the modules of one model. */
export class ParamStore {
  /** Parameters in registration order. */
  readonly params = new Map<string, Tensor>();
  /** Init kind of each parameter. */
  readonly kinds = new Map<string, ParamKind>();
  /** Trunk prefixes registered (for the MLM tie aliases on load). */
  readonly prefixes = new Set<string>();

  /** Registers a new zero-filled trainable tensor. Throws on a duplicate name. */
  add(name: string, shape: readonly number[], kind: ParamKind): Tensor {
    if (this.params.has(name)) throw new TensorError(`ParamStore: duplicate parameter name "${name}"`);
    const t = Tensor.zeros(shape);
    t.requiresGrad = true;
    t.name = name;
    this.params.set(name, t);
    this.kinds.set(name, kind);
    return t;
  }

  /** The named parameter; throws naming it when absent. */
  get(name: string): Tensor {
    const t = this.params.get(name);
    if (!t) throw new TensorError(`ParamStore: no parameter named "${name}"`);
    return t;
  }

  /** Name → parameter (the live tensors, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map(this.params);
  }

  /** Total number of scalars. */
  numel(): number {
    let n = 0;
    for (const t of this.params.values()) n += t.size;
    return n;
  }

  /**
   * Copies tensors from a loaded map (e.g. `loadSafetensors(path).tensors`) into the parameters, in place.
   * Returns the expected names that were absent and the loaded names not used (both empty under strict loading).
   */
  loadStateDict(loaded: NamedArrays | ReadonlyMap<string, Tensor>, opts: LoadStateOptions = {}): { missing: string[]; unexpected: string[] } {
    const arrays: NamedArrays = new Map();
    for (const [name, t] of loaded) {
      if (BUFFER_SUFFIXES.some((s) => name.endsWith(s))) continue;
      if (t instanceof Tensor) arrays.set(name, { dtype: 'F32', shape: t.shape.slice(), data: t.data });
      else arrays.set(name, t);
    }
    const rules: AliasRule[] = [...(opts.aliases ?? [])];
    for (const p of this.prefixes) rules.push(...mlmTiedAliases(p));
    const resolved = resolveAliases({ tensors: arrays }, rules);
    // Alias names filled only to reach a kept tensor are not "unexpected".
    for (const [a, b] of rules) {
      for (const n of [a, b]) if (!n.endsWith('.') && !this.params.has(n)) resolved.delete(n);
    }
    const expected = new Map<string, readonly number[]>();
    for (const [name, t] of this.params) expected.set(name, t.shape);
    const { tensors, missing, unexpected } = assignTensors(expected, resolved, { strict: opts.strict ?? true, file: opts.file });
    for (const [name, arr] of tensors) {
      if (!(arr.data instanceof Float32Array)) {
        throw new TensorError(`${opts.file ?? '<state dict>'}: tensor "${name}" is ${arr.dtype}, expected a float tensor`);
      }
      this.get(name).data.set(arr.data);
    }
    return { missing, unexpected };
  }

  /** Writes every parameter as F32 safetensors (atomically) with optional string metadata. */
  save(path: string, metadata?: Readonly<Record<string, string>>): void {
    const out = new Map<string, ArrayToSave>();
    for (const [name, t] of this.params) out.set(name, { shape: t.shape, data: t.data });
    saveSafetensors(path, out, metadata);
  }

  /** Loads a safetensors file written by `save()` or by HF (`model.safetensors`). */
  load(path: string, opts: Omit<LoadStateOptions, 'file'> = {}): { missing: string[]; unexpected: string[] } {
    const f = loadSafetensors(path);
    const withMeta = resolveAliases(f, []);
    return this.loadStateDict(withMeta, { ...opts, file: path });
  }
}
