/**
 * Progressive stacking (Gong et al. 2019, "Efficient Training of BERT by Progressively Stacking"): a deeper BERT is
 * initialised from a trained shallower one by copying its encoder layers into the new positions — e.g. a 2-layer trunk
 * with order [0, 1, 0, 1] gives a 4-layer trunk whose upper half repeats the lower. Training then continues from there,
 * far faster than from scratch. Used here to deepen the REALM reader (issue 6) without re-running its MLM pre-training.
 */
import type { NamedArray, NamedArrays } from '../io/safetensors.js';

/** Layer index of a name under `prefix` ("<prefix><i>.<rest>") or -1. */
function layerOf(name: string, prefix: string): number {
  if (!name.startsWith(prefix)) return -1;
  const m = /^(\d+)\./.exec(name.slice(prefix.length));
  return m ? Number(m[1]) : -1;
}

/**
 * New weights whose encoder layer i is a copy of `weights`' layer order[i] (every tensor of it, fresh buffers); all
 * other tensors are copied unchanged; a layer that order does not name is left out (so a shorter order makes the trunk
 * shallower). `prefix` names the layer list, e.g. "bert.encoder.layer." or "realm.encoder.layer." (in a REALM file the
 * embedders' "embedder.realm.encoder.layer.*" do not match it and are copied as they are). Throws when order names a layer the weights do not hold or when there are no layers.
 */
export function stackEncoderLayers(weights: NamedArrays, order: readonly number[], prefix = 'bert.encoder.layer.'): NamedArrays {
  const layers = new Map<number, Array<[string, NamedArray]>>();
  const out: NamedArrays = new Map();
  for (const [name, arr] of weights) {
    const i = layerOf(name, prefix);
    if (i < 0) { out.set(name, { ...arr, shape: [...arr.shape], data: arr.data.slice() }); continue; }
    const rest = name.slice(prefix.length + String(i).length + 1);
    if (!layers.has(i)) layers.set(i, []);
    layers.get(i)!.push([rest, arr]);
  }
  if (layers.size === 0) throw new Error(`stackEncoderLayers: no tensor named ${prefix}<i>.* in the weights`);
  if (order.length === 0) throw new Error('stackEncoderLayers: the layer order is empty');
  order.forEach((from, to) => {
    const src = layers.get(from);
    if (!src) {
      throw new Error(`stackEncoderLayers: order[${to}] = ${from}, but the weights hold layers ${[...layers.keys()].sort((a, b) => a - b).join(', ')}`);
    }
    for (const [rest, arr] of src) out.set(`${prefix}${to}.${rest}`, { ...arr, shape: [...arr.shape], data: arr.data.slice() });
  });
  return out;
}
