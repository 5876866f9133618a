/**
 * Index factory strings (faiss `index_factory` style) naming the ScaNN stages (Guo et al. 2020; REALM §3.4 MIPS):
 * a comma-separated list, one token per stage, parsed into ScannOptions, or "Flat" for exact search.
 *
 *   Flat                  exact FlatIndex
 *   IVF<leaves>[s]        stage 1, k-means partition into <leaves> leaves ("s": spherical assignment); optional
 *                         "_it<n>" Lloyd iterations, e.g. IVF1000_it12
 *   AH[<T>] | PQ          stage 2, 4-bit product quantisation of the residuals with 2 dims x 16 centres per block:
 *                         AH = anisotropic loss with threshold T (default 0.2, ScaNN's), PQ = plain reconstruction loss
 *   RR<reorder>           stage 3, exact re-rank of the best <reorder> candidates (RR0 = approximate scores only)
 *   NP<leavesToSearch>    default number of leaves probed per query (search-time parameter)
 *
 * Example: "IVF1000,AH0.2,RR100,NP32". Stage order is free, each stage at most once; IVF is required for ScaNN.
 */
import { FlatIndex } from './flat.js';
import type { KernelChoice } from './native.js';
import { ScannIndex, type ScannOptions } from './scann.js';
import { IndexArgumentError, type Metric } from './types.js';

/** A parsed factory string. */
export type FactorySpec = { kind: 'flat' } | { kind: 'scann'; options: Omit<ScannOptions, 'dim' | 'metric' | 'kernels'> };

/** Options shared by every index the factory builds. */
export interface FactoryOptions {
  /** Vector dimension. */
  dim: number;
  /** 'ip' (default) or 'cosine'. */
  metric?: Metric;
  /** Kernel implementation: 'auto' (native when built), 'native' or 'js'. */
  kernels?: KernelChoice;
  /** Seed of the quantiser's sampling (ScannIndex only). */
  seed?: number;
}

const bad = (spec: string, why: string): never => {
  throw new IndexArgumentError(`index factory "${spec}": ${why}`);
};

/** Parses a factory string (grammar in the file comment); errors name the offending token. */
export function parseFactory(spec: string): FactorySpec {
  if (typeof spec !== 'string' || spec.trim() === '') return bad(String(spec), 'empty factory string');
  const tokens = spec.split(',').map((t) => t.trim());
  if (tokens.length === 1 && tokens[0] === 'Flat') return { kind: 'flat' };
  const options: Omit<ScannOptions, 'dim' | 'metric' | 'kernels'> = {};
  const seen = new Set<string>();
  const once = (stage: string, tok: string): void => {
    if (seen.has(stage)) bad(spec, `stage ${stage} given twice (token "${tok}")`);
    seen.add(stage);
  };
  const posInt = (s: string, tok: string, min: number): number => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < min) bad(spec, `token "${tok}" needs an integer >= ${min}`);
    return n;
  };
  for (const tok of tokens) {
    let m: RegExpMatchArray | null;
    if ((m = /^IVF(\d+)(s?)(?:_it(\d+))?$/.exec(tok))) {
      once('IVF', tok);
      options.partition = { leaves: posInt(m[1]!, tok, 1), spherical: m[2] === 's' };
      if (m[3] !== undefined) options.partition.iterations = posInt(m[3], tok, 1);
    } else if ((m = /^AH([0-9.]*)$/.exec(tok))) {
      once('quantiser', tok);
      const t = m[1] === '' ? 0.2 : Number(m[1]);
      if (!Number.isFinite(t) || t < 0 || t >= 1) bad(spec, `token "${tok}": threshold T must be in [0, 1)`);
      options.quantize = { anisotropicThreshold: t };
    } else if (tok === 'PQ') {
      once('quantiser', tok);
      options.quantize = { anisotropicThreshold: null };
    } else if ((m = /^RR(\d+)$/.exec(tok))) {
      once('RR', tok);
      options.rerank = { reorder: posInt(m[1]!, tok, 0) };
    } else if ((m = /^NP(\d+)$/.exec(tok))) {
      once('NP', tok);
      options.search = { leavesToSearch: posInt(m[1]!, tok, 1) };
    } else if (tok === 'Flat') {
      bad(spec, '"Flat" cannot be combined with other stages');
    } else {
      bad(spec, `unknown token "${tok}" (expected Flat, IVF<n>[s][_it<n>], AH[<T>], PQ, RR<n>, NP<n>)`);
    }
  }
  if (!seen.has('IVF')) bad(spec, 'a ScaNN index needs a partition stage IVF<leaves>');
  return { kind: 'scann', options };
}

/**
 * Builds the index a factory string describes over vectors [n, dim] under ids: a FlatIndex for "Flat", else a
 * trained ScannIndex.
 */
export function buildIndex(spec: string, vectors: Float32Array, ids: ArrayLike<number>, opts: FactoryOptions): FlatIndex | ScannIndex {
  const f = parseFactory(spec);
  if (f.kind === 'flat') {
    const ix = new FlatIndex({ dim: opts.dim, metric: opts.metric, kernels: opts.kernels });
    ix.add(ids, vectors);
    return ix;
  }
  return ScannIndex.build(vectors, ids, { ...f.options, dim: opts.dim, metric: opts.metric, kernels: opts.kernels, seed: opts.seed });
}
