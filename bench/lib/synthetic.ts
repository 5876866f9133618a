// Deterministic clustered synthetic vectors for the MIPS growth benchmark (bench/mips-growth.ts, issue 4
// "Growth"): a Gaussian mixture whose centres are random directions with log-normal norms, points = centre + isotropic
// noise, so inner-product neighbourhoods are clustered and norms vary (true MIPS, not cosine). The stream is
// sequential, so the first n points of a 1M set equal the n-point set (nested sizes share data).

/** Generator settings. */
export interface SyntheticOptions {
  /** dimension */
  d: number;
  /** mixture components */
  clusters: number;
  /** noise standard deviation per coordinate, relative to 1/sqrt(d) */
  noise: number;
  /** standard deviation of the log of the centre norms (norm skew: 0 = all centres unit norm) */
  normSpread: number;
  /** stream seed */
  seed: number;
}

export const GROWTH_DEFAULTS: SyntheticOptions = { d: 128, clusters: 256, noise: 0.4, normSpread: 0.1, seed: 20260427 };

/** mulberry32: a fast 32-bit PRNG (uniform in [0, 1)). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normals by Box-Muller from a uniform source. */
function gaussian(u: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) { const s = spare; spare = null; return s; }
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const th = 2 * Math.PI * u();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
}

/** The mixture centres [clusters, d]. */
function centres(o: SyntheticOptions): Float32Array {
  const g = gaussian(mulberry32(o.seed ^ 0x9e3779b9));
  const c = new Float32Array(o.clusters * o.d);
  for (let i = 0; i < o.clusters; i++) {
    let nrm = 0;
    for (let j = 0; j < o.d; j++) { const v = g(); c[i * o.d + j] = v; nrm += v * v; }
    const scale = Math.exp(o.normSpread * g()) / Math.sqrt(nrm); // unit direction x log-normal norm
    for (let j = 0; j < o.d; j++) c[i * o.d + j] *= scale;
  }
  return c;
}

/**
 * `n` points [n, d] of stream `stream` (0 = database, 1 = queries): point i picks a centre uniformly and adds
 * N(0, (noise / sqrt(d))^2) per coordinate. `labels` (optional, [n]) receives each point's centre.
 */
export function clusteredVectors(n: number, stream: 0 | 1, o: SyntheticOptions = GROWTH_DEFAULTS, labels?: Int32Array): Float32Array {
  const C = centres(o);
  const u = mulberry32((o.seed + 0x51ed27 * (stream + 1)) >>> 0);
  const g = gaussian(u);
  const sd = o.noise / Math.sqrt(o.d);
  const out = new Float32Array(n * o.d);
  for (let i = 0; i < n; i++) {
    const c = Math.min(o.clusters - 1, Math.floor(u() * o.clusters));
    if (labels) labels[i] = c;
    for (let j = 0; j < o.d; j++) out[i * o.d + j] = C[c * o.d + j] + sd * g();
  }
  return out;
}
