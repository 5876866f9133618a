/**
 * p(y|z,x) of one joint row as inference sees it (Guu et al. 2020, §2.3): the distribution over fillings y = (y_1..y_M)
 * of the M masked positions given one candidate document z. `fill` (./fill.ts) and the held-out evaluation
 * (./evaluate.ts) take candidate fillings from every document's `top` and rescore each candidate exactly by the
 * marginal Σ_z p(z|x) p(y|z,x), so a head only has to say how probable a filling is and which fillings are worth
 * trying; `rankFillings` does that for both.
 * - `ProductSpanDistribution`: the MLM head (with or without the token copy head, ./copyHead.ts): the positions are
 *   independent given z, p(y|z,x) = Π_j p(y_j|z,x), and `top` is an exact beam over positions.
 * - The span copy head's mixture lives in ./spanCopyHead.ts.
 */

import { logSumExp64 } from './loss.js';

/** A row's distribution over fillings of its M masked positions. */
export interface SpanDistribution {
  /** Number of masked positions M. */
  readonly length: number;
  /** log p(y|z,x) of a filling y [M]. */
  logProb(y: readonly number[]): number;
  /** Up to about n candidate fillings worth scoring (most probable first within each source), none with a banned id. */
  top(n: number, banned: (id: number) => boolean): number[][];
}

/** Top-n sequences of independent per-position log-prob rows lp [M, V] (exact beam over positions). */
export function topSequences(lp: Float32Array, V: number, M: number, n: number, banned: (id: number) => boolean): Array<{ ids: number[]; score: number }> {
  let beam: Array<{ ids: number[]; score: number }> = [{ ids: [], score: 0 }];
  for (let m = 0; m < M; m++) {
    const row = lp.subarray(m * V, (m + 1) * V);
    const best: Array<[number, number]> = [];
    for (let v = 0; v < V; v++) {
      if (banned(v)) continue;
      if (best.length < n) best.push([v, row[v]]);
      else if (row[v] > best[best.length - 1][1]) best[best.length - 1] = [v, row[v]];
      else continue;
      best.sort((a, b) => b[1] - a[1]);
    }
    const next: Array<{ ids: number[]; score: number }> = [];
    for (const s of beam) for (const [v, l] of best) next.push({ ids: [...s.ids, v], score: s.score + l });
    next.sort((a, b) => b.score - a.score);
    beam = next.slice(0, n);
  }
  return beam;
}

/** Independent positions: log-prob rows lp [M, V] (a view; not copied), p(y|z,x) = Π_j p(y_j|z,x). */
export class ProductSpanDistribution implements SpanDistribution {
  constructor(private readonly lp: Float32Array, private readonly vocab: number, readonly length: number) {
    if (lp.length !== vocab * length) throw new RangeError(`ProductSpanDistribution: ${lp.length} log-probs for ${length} x ${vocab}`);
  }

  logProb(y: readonly number[]): number {
    if (y.length !== this.length) throw new RangeError(`ProductSpanDistribution: filling of ${y.length} for ${this.length} positions`);
    let s = 0;
    for (let m = 0; m < this.length; m++) s += this.lp[m * this.vocab + y[m]];
    return s;
  }

  top(n: number, banned: (id: number) => boolean): number[][] {
    return topSequences(this.lp, this.vocab, this.length, n, banned).map((s) => s.ids);
  }
}

/** log p(y|x) = log Σ_c p(z_c|x) p(y|z_c,x) of a filling y, from each candidate's log p(z|x) [C] and distribution [C]. */
export function marginalLogProb(dists: readonly SpanDistribution[], logPz: readonly number[], y: readonly number[]): number {
  return logSumExp64(dists.map((d, c) => logPz[c] + d.logProb(y)));
}

/** Every candidate document's top-n fillings, each scored exactly by the marginal; best first (ties: proposal order). */
export function rankFillings(
  dists: readonly SpanDistribution[], logPz: readonly number[], n: number, banned: (id: number) => boolean,
): Array<{ ids: number[]; logp: number }> {
  const seen = new Map<string, number[]>();
  for (const d of dists) for (const y of d.top(n, banned)) seen.set(y.join(','), y);
  return [...seen.values()].map((ids) => ({ ids, logp: marginalLogProb(dists, logPz, ids) })).sort((a, b) => b.logp - a.logp);
}
