/**
 * An independent float64 BERT + MLM-head forward written with plain loops (no engine ops), used by the model tests as
 * the reference: it reads weights by their HF names from a name → Float32Array map and follows the BERT paper /
 * HF BertModel formulas directly (scores = q·k / sqrt(d) + mask, softmax, post-LN residuals, erf or tanh GELU).
 */

/** Weights by HF name. */
export type Weights = ReadonlyMap<string, { data: Float32Array; shape: number[] }>;

/** The config fields the reference needs. */
export interface RefConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: string;
  layer_norm_eps: number;
}

type Mat = Float64Array[]; // rows

function w(ws: Weights, name: string): Float32Array {
  const t = ws.get(name);
  if (!t) throw new Error(`reference: missing weight ${name}`);
  return t.data;
}

/** x [n, in] @ W^T + b with W [out, in]. */
function dense(x: Mat, W: Float32Array, b: Float32Array, nOut: number): Mat {
  const nIn = x[0].length;
  return x.map((row) => {
    const o = new Float64Array(nOut);
    for (let j = 0; j < nOut; j++) {
      let s = b[j];
      for (let k = 0; k < nIn; k++) s += row[k] * W[j * nIn + k];
      o[j] = s;
    }
    return o;
  });
}

function layerNorm(x: Mat, g: Float32Array, b: Float32Array, eps: number): Mat {
  return x.map((row) => {
    const n = row.length;
    let mu = 0;
    for (const v of row) mu += v;
    mu /= n;
    let v2 = 0;
    for (const v of row) v2 += (v - mu) * (v - mu);
    const r = 1 / Math.sqrt(v2 / n + eps);
    return row.map((v, i) => (v - mu) * r * g[i] + b[i]);
  });
}

/** erf by Abramowitz–Stegun 7.1.26 refined with a Taylor/continued-fraction pair accurate to ~1e-15. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  let r: number;
  if (ax < 2.5) {
    // Maclaurin series: erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 80; n++) {
      term *= -ax * ax / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // Continued fraction for erfc.
    let f = 0;
    for (let n = 60; n >= 1; n--) f = (n / 2) / (ax + f);
    r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  }
  return x < 0 ? -r : r;
}

function act(x: number, kind: string): number {
  if (kind === 'gelu') return 0.5 * x * (1 + erf(x / Math.SQRT2));
  if (kind === 'gelu_new') return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
  if (kind === 'relu') return Math.max(0, x);
  throw new Error(`reference: unknown act ${kind}`);
}

/** Sequence output [B][T][H] and pooled output [B][H]. */
export function referenceBert(
  cfg: RefConfig, ws: Weights, prefix: string, ids: Int32Array, types: Int32Array, mask: ArrayLike<number>, B: number, T: number,
): { seq: Mat[]; pooled: Mat } {
  const H = cfg.hidden_size;
  const nh = cfg.num_attention_heads;
  const hd = H / nh;
  const p = prefix;
  const seq: Mat[] = [];
  const pooled: Mat = [];
  for (let b = 0; b < B; b++) {
    let x: Mat = [];
    for (let t = 0; t < T; t++) {
      const row = new Float64Array(H);
      const id = ids[b * T + t];
      const ty = types[b * T + t];
      for (let i = 0; i < H; i++) {
        row[i] = w(ws, `${p}.embeddings.word_embeddings.weight`)[id * H + i]
          + w(ws, `${p}.embeddings.position_embeddings.weight`)[t * H + i]
          + w(ws, `${p}.embeddings.token_type_embeddings.weight`)[ty * H + i];
      }
      x.push(row);
    }
    x = layerNorm(x, w(ws, `${p}.embeddings.LayerNorm.weight`), w(ws, `${p}.embeddings.LayerNorm.bias`), cfg.layer_norm_eps);
    for (let l = 0; l < cfg.num_hidden_layers; l++) {
      const L = `${p}.encoder.layer.${l}`;
      const lin = (inp: Mat, name: string, nOut: number): Mat => dense(inp, w(ws, `${L}.${name}.weight`), w(ws, `${L}.${name}.bias`), nOut);
      const q = lin(x, 'attention.self.query', H);
      const k = lin(x, 'attention.self.key', H);
      const v = lin(x, 'attention.self.value', H);
      const ctx: Mat = x.map(() => new Float64Array(H));
      for (let h = 0; h < nh; h++) {
        for (let i = 0; i < T; i++) {
          const s = new Float64Array(T);
          let mx = -Infinity;
          for (let j = 0; j < T; j++) {
            let d = 0;
            for (let c = 0; c < hd; c++) d += q[i][h * hd + c] * k[j][h * hd + c];
            s[j] = d / Math.sqrt(hd) + (mask[b * T + j] ? 0 : -10000);
            mx = Math.max(mx, s[j]);
          }
          let z = 0;
          for (let j = 0; j < T; j++) z += (s[j] = Math.exp(s[j] - mx));
          for (let j = 0; j < T; j++) for (let c = 0; c < hd; c++) ctx[i][h * hd + c] += (s[j] / z) * v[j][h * hd + c];
        }
      }
      const ao = lin(ctx, 'attention.output.dense', H);
      x = layerNorm(x.map((r, i) => r.map((val, c) => val + ao[i][c])),
        w(ws, `${L}.attention.output.LayerNorm.weight`), w(ws, `${L}.attention.output.LayerNorm.bias`), cfg.layer_norm_eps);
      const inter = lin(x, 'intermediate.dense', cfg.intermediate_size).map((r) => r.map((val) => act(val, cfg.hidden_act)));
      const o = lin(inter, 'output.dense', H);
      x = layerNorm(x.map((r, i) => r.map((val, c) => val + o[i][c])),
        w(ws, `${L}.output.LayerNorm.weight`), w(ws, `${L}.output.LayerNorm.bias`), cfg.layer_norm_eps);
    }
    seq.push(x);
    pooled.push(dense([x[0]], w(ws, `${p}.pooler.dense.weight`), w(ws, `${p}.pooler.dense.bias`), H)[0].map(Math.tanh));
  }
  return { seq, pooled };
}

/** MLM logits [M][V] at flat positions and the mean cross-entropy against labels. */
export function referenceMlm(
  cfg: RefConfig, ws: Weights, prefix: string, seq: Mat[], positions: Int32Array, labels: Int32Array,
): { logits: Mat; loss: number } {
  const T = seq[0].length;
  const H = cfg.hidden_size;
  const hidden: Mat = Array.from(positions, (pos) => seq[Math.floor(pos / T)][pos % T]);
  let h: Mat = dense(hidden, w(ws, 'cls.predictions.transform.dense.weight'), w(ws, 'cls.predictions.transform.dense.bias'), H)
    .map((r) => r.map((v) => act(v, cfg.hidden_act)));
  h = layerNorm(h, w(ws, 'cls.predictions.transform.LayerNorm.weight'), w(ws, 'cls.predictions.transform.LayerNorm.bias'), cfg.layer_norm_eps);
  const emb = w(ws, `${prefix}.embeddings.word_embeddings.weight`);
  const V = emb.length / H;
  const logits = dense(h, emb, w(ws, 'cls.predictions.bias'), V);
  let loss = 0;
  logits.forEach((r, i) => {
    const mx = Math.max(...r);
    let z = 0;
    for (const v of r) z += Math.exp(v - mx);
    loss += mx + Math.log(z) - r[labels[i]];
  });
  return { logits, loss: loss / positions.length };
}
