/**
 * Tied weights and state-dict assignment for loaded safetensors files.
 *
 * `resolveAliases` restores the names a writer dropped because they share storage: the alias records in the file's
 * metadata (HF `save_model` convention, `alias → kept`) and well-known REALM/BERT ties (HF's RealmKnowledgeAugEncoder
 * ties the MLM decoder to the word embeddings and `cls.predictions.decoder.bias` to `cls.predictions.bias`;
 * RealmScorer's `query_embedder` is by default the same module as `embedder`). Filled names share the SAME data object,
 * so the tie survives into the model. `assignTensors` then matches the file against the names and shapes a model
 * expects, like torch's `load_state_dict(strict)`.
 */

import { CheckpointError } from './errors.js';
import type { LoadedSafetensors, NamedArray, NamedArrays } from './safetensors.js';

/** A pair of names that denote the same tensor; when both end in '.', a pair of prefixes (every name under them). */
export type AliasRule = readonly [string, string];

/** Ties of an HF masked-LM head on a BERT trunk named `<prefix>.` (REALM's encoder: prefix "realm"). */
export function mlmTiedAliases(prefix = 'realm'): AliasRule[] {
  return [
    ['cls.predictions.decoder.bias', 'cls.predictions.bias'],
    ['cls.predictions.decoder.weight', `${prefix}.embeddings.word_embeddings.weight`],
  ];
}

/** RealmScorer: `query_embedder` shares every weight with `embedder` unless a separate one was given. */
export const REALM_SCORER_ALIASES: readonly AliasRule[] = [['query_embedder.', 'embedder.']];

/** Metadata entries that are alias records: key not a stored tensor, value a stored tensor. */
export function aliasesFromMetadata(
  tensors: ReadonlyMap<string, unknown>, metadata: Readonly<Record<string, string>>,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(metadata)) if (!tensors.has(k) && tensors.has(v)) out.set(k, v);
  return out;
}

/**
 * Return a new map with the stored tensors plus every alias that can be filled from the metadata records and the
 * given rules (applied in both directions, repeatedly, so ties chain). Stored tensors are never overwritten.
 */
export function resolveAliases(
  loaded: LoadedSafetensors | { tensors: NamedArrays; metadata?: Record<string, string> },
  rules: readonly AliasRule[] = [],
): NamedArrays {
  const out: NamedArrays = new Map(loaded.tensors);
  const fill = (alias: string, source: string): boolean => {
    const t = out.get(source);
    if (!t || out.has(alias)) return false;
    out.set(alias, { dtype: t.dtype, shape: t.shape.slice(), data: t.data });
    return true;
  };
  for (const [alias, kept] of aliasesFromMetadata(loaded.tensors, loaded.metadata ?? {})) fill(alias, kept);
  for (let changed = true; changed;) {
    changed = false;
    for (const [a, b] of rules) {
      if (a.endsWith('.') && b.endsWith('.')) {
        for (const name of [...out.keys()]) {
          if (name.startsWith(a)) changed = fill(b + name.slice(a.length), name) || changed;
          if (name.startsWith(b)) changed = fill(a + name.slice(b.length), name) || changed;
        }
      } else {
        changed = fill(a, b) || changed;
        changed = fill(b, a) || changed;
      }
    }
  }
  return out;
}

/** Options of `assignTensors`. */
export interface AssignOptions {
  /** Like torch's load_state_dict(strict): missing or unexpected names are errors (default true). */
  strict?: boolean;
  /** Name used in error messages when `loaded` is a bare map (default: the loaded file's path). */
  file?: string;
}

/** Result of matching a loaded state dict against a model's expected names and shapes. */
export interface AssignResult {
  /** Expected names that were found, with matching shapes (data not copied). */
  tensors: Map<string, NamedArray>;
  /** Expected but absent. */
  missing: string[];
  /** Present but not expected. */
  unexpected: string[];
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function listNames(names: string[], max = 20): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, … (${names.length} in all)` : shown;
}

/**
 * Match `loaded` against `expected` (name → shape). Shape mismatches always throw (as in torch); missing and
 * unexpected names throw when `strict` (default), else they are only reported.
 */
export function assignTensors(
  expected: ReadonlyMap<string, readonly number[]>,
  loaded: LoadedSafetensors | NamedArrays,
  opts: AssignOptions = {},
): AssignResult {
  const strict = opts.strict ?? true;
  const tensors = loaded instanceof Map ? loaded : loaded.tensors;
  const file = opts.file ?? (loaded instanceof Map ? '<state dict>' : loaded.path);
  const found = new Map<string, NamedArray>();
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) missing.push(name);
    else if (!sameShape(t.shape, shape)) mismatched.push(`${name} (expected [${shape}], file has [${t.shape}])`);
    else found.set(name, t);
  }
  const unexpected = [...tensors.keys()].filter((n) => !expected.has(n));
  const problems: string[] = [];
  if (mismatched.length) problems.push(`shape mismatch: ${listNames(mismatched)}`);
  if (strict && missing.length) problems.push(`missing tensors: ${listNames(missing)}`);
  if (strict && unexpected.length) problems.push(`unexpected tensors: ${listNames(unexpected)}`);
  if (problems.length) {
    const single = mismatched.length + (strict ? missing.length + unexpected.length : 0) === 1;
    const tensor = single ? (mismatched.length ? mismatched[0].split(' (')[0] : missing[0] ?? unexpected[0]) : undefined;
    throw new CheckpointError(file, `cannot load state dict: ${problems.join('; ')}`, tensor);
  }
  return { tensors: found, missing, unexpected };
}
