/**
 * The op suite shared by the gradient checks and the backend-parity test: every differentiable engine op, with
 * broadcasting variants, all matmul transpose/batching layouts and view/copy shape ops, on small random inputs.
 */
import * as E from '../../src/engine/index.js';
import { Tensor, Rng } from '../../src/engine/index.js';
import { rand, randAway, randUniform, type InputFactory } from './gradcheck-helpers.js';

/** One op under test. */
export interface OpCase {
  name: string;
  inputs: InputFactory;
  fn: (x: Tensor[]) => Tensor;
  /** Finite-difference step override (default 1e-2). */
  eps?: number;
}

/** Stored shape of a matmul operand [.., rows, cols], swapped when transposed. */
function mmShape(lead: number[], r: number, c: number, trans: boolean): number[] {
  return trans ? [...lead, c, r] : [...lead, r, c];
}

const cases: OpCase[] = [
  { name: 'add same shape', inputs: (r) => [rand(r, [3, 4]), rand(r, [3, 4])], fn: ([a, b]) => E.add(a, b) },
  { name: 'add bias broadcast [2,3,4]+[4]', inputs: (r) => [rand(r, [2, 3, 4]), rand(r, [4])], fn: ([a, b]) => E.add(a, b) },
  { name: 'add both-way broadcast [3,1]+[1,4]', inputs: (r) => [rand(r, [3, 1]), rand(r, [1, 4])], fn: ([a, b]) => E.add(a, b) },
  { name: 'add middle broadcast [2,1,4]+[3,1]', inputs: (r) => [rand(r, [2, 1, 4]), rand(r, [3, 1])], fn: ([a, b]) => E.add(a, b) },
  { name: 'add number', inputs: (r) => [rand(r, [5])], fn: ([a]) => E.add(2.5, a) },
  { name: 'sub broadcast [2,3]-[2,1]', inputs: (r) => [rand(r, [2, 3]), rand(r, [2, 1])], fn: ([a, b]) => E.sub(a, b) },
  { name: 'sub broadcast [4]-[3,4]', inputs: (r) => [rand(r, [4]), rand(r, [3, 4])], fn: ([a, b]) => E.sub(a, b) },
  { name: 'mul same shape', inputs: (r) => [rand(r, [2, 3]), rand(r, [2, 3])], fn: ([a, b]) => E.mul(a, b) },
  { name: 'mul broadcast [2,3,4]*[2,1,1]', inputs: (r) => [rand(r, [2, 3, 4]), rand(r, [2, 1, 1])], fn: ([a, b]) => E.mul(a, b) },
  { name: 'mul scalar tensor [] * [3,2]', inputs: (r) => [rand(r, []), rand(r, [3, 2])], fn: ([a, b]) => E.mul(a, b) },
  { name: 'mul x*x (same input twice)', inputs: (r) => [rand(r, [6])], fn: ([a]) => E.mul(a, a) },
  { name: 'div broadcast', inputs: (r) => [rand(r, [2, 3]), randAway(r, [3], 0.8)], fn: ([a, b]) => E.div(a, b) },
  { name: 'div both tensors same shape', inputs: (r) => [rand(r, [4]), randAway(r, [4], 0.8)], fn: ([a, b]) => E.div(a, b) },
  { name: 'scale', inputs: (r) => [rand(r, [2, 3])], fn: ([a]) => E.scale(a, -1.7) },
  { name: 'addScalar', inputs: (r) => [rand(r, [2, 3])], fn: ([a]) => E.addScalar(a, 0.3) },
  { name: 'neg', inputs: (r) => [rand(r, [5])], fn: ([a]) => E.neg(a) },
  { name: 'exp', inputs: (r) => [rand(r, [2, 4], 0.7)], fn: ([a]) => E.exp(a) },
  { name: 'log', inputs: (r) => [randUniform(r, [2, 4], 0.5, 3)], fn: ([a]) => E.log(a) },
  { name: 'sqrt', inputs: (r) => [randUniform(r, [2, 4], 0.5, 3)], fn: ([a]) => E.sqrt(a) },
  { name: 'tanh', inputs: (r) => [rand(r, [2, 4])], fn: ([a]) => E.tanh(a) },
  { name: 'relu', inputs: (r) => [randAway(r, [3, 4])], fn: ([a]) => E.relu(a) },
  { name: 'sigmoid', inputs: (r) => [rand(r, [3, 4], 2)], fn: ([a]) => E.sigmoid(a) },
  { name: 'gelu erf', inputs: (r) => [rand(r, [3, 5], 2)], fn: ([a]) => E.gelu(a) },
  { name: 'gelu tanh', inputs: (r) => [rand(r, [3, 5], 2)], fn: ([a]) => E.gelu(a, 'tanh') },
  {
    name: 'maskedFill broadcast mask [2,1,3] on [2,2,3]',
    inputs: (r) => [rand(r, [2, 2, 3])],
    fn: ([a]) => E.maskedFill(a, Uint8Array.from([1, 0, 0, 0, 1, 1]), [2, 1, 3], -5),
  },
  // matmul: 2-D, shared weight folded, transposes, batched
  { name: 'matmul 2-D', inputs: (r) => [rand(r, [3, 4]), rand(r, [4, 5])], fn: ([a, b]) => E.matmul(a, b) },
  { name: 'matmul [2,3,4]@[4,5] (folded)', inputs: (r) => [rand(r, [2, 3, 4]), rand(r, [4, 5])], fn: ([a, b]) => E.matmul(a, b) },
  {
    name: 'matmul [2,3,4]@[5,4]^T (folded, Linear layout)',
    inputs: (r) => [rand(r, [2, 3, 4]), rand(r, [5, 4])],
    fn: ([a, b]) => E.matmul(a, b, { transB: true }),
  },
  {
    name: 'matmul [2,4,3]^T@[4,5] (batched a, shared b)',
    inputs: (r) => [rand(r, [2, 4, 3]), rand(r, [4, 5])],
    fn: ([a, b]) => E.matmul(a, b, { transA: true }),
  },
  {
    name: 'matmul [4,3]@[2,3,5] (shared a, batched b)',
    inputs: (r) => [rand(r, [4, 3]), rand(r, [2, 3, 5])],
    fn: ([a, b]) => E.matmul(a, b),
  },
  ...[false, true].flatMap((tA) =>
    [false, true].map((tB): OpCase => ({
      name: `matmul batched [2,2,..] transA=${tA} transB=${tB}`,
      inputs: (r) => [rand(r, mmShape([2, 2], 3, 4, tA)), rand(r, mmShape([2, 2], 4, 5, tB))],
      fn: ([a, b]) => E.matmul(a, b, { transA: tA, transB: tB }),
    })),
  ),
  {
    name: 'matmul 2-D transA+transB',
    inputs: (r) => [rand(r, [4, 3]), rand(r, [5, 4])],
    fn: ([a, b]) => E.matmul(a, b, { transA: true, transB: true }),
  },
  {
    name: 'matmul attention scores with alpha (batched, transB)',
    inputs: (r) => [rand(r, [2, 2, 3, 4]), rand(r, [2, 2, 5, 4])],
    fn: ([q, k]) => E.matmul(q, k, { transB: true, alpha: 0.5 }),
  },
  {
    name: 'matmul alpha with shared a (serial accumulation of dA)',
    inputs: (r) => [rand(r, [4, 3]), rand(r, [3, 5, 4])],
    fn: ([a, b]) => E.matmul(a, b, { transA: true, transB: true, alpha: -1.5 }),
  },
  { name: 'linear with bias', inputs: (r) => [rand(r, [2, 3, 4]), rand(r, [5, 4]), rand(r, [5])], fn: ([x, w, b]) => E.linear(x, w, b) },
  { name: 'linear no bias', inputs: (r) => [rand(r, [3, 4]), rand(r, [2, 4])], fn: ([x, w]) => E.linear(x, w) },
  // shape ops
  { name: 'reshape -1 then tanh', inputs: (r) => [rand(r, [2, 6])], fn: ([a]) => E.tanh(E.reshape(a, [3, -1])) },
  { name: 'permute [2,3,4]->(2,0,1)', inputs: (r) => [rand(r, [2, 3, 4])], fn: ([a]) => E.permute(a, [2, 0, 1]) },
  { name: 'transpose(1,3) 4-D', inputs: (r) => [rand(r, [2, 3, 2, 4])], fn: ([a]) => E.transpose(a, 1, 3) },
  {
    name: 'attention heads split/merge (reshape+permute+matmul)',
    inputs: (r) => [rand(r, [2, 3, 4]), rand(r, [2, 3, 4])],
    fn: ([q, k]) => {
      const split = (t: Tensor): Tensor => E.permute(E.reshape(t, [2, 3, 2, 2]), [0, 2, 1, 3]); // [B, h, S, d]
      return E.softmax(E.matmul(split(q), split(k), { transB: true }));
    },
  },
  { name: 'concat axis 1', inputs: (r) => [rand(r, [2, 1, 3]), rand(r, [2, 2, 3]), rand(r, [2, 3, 3])], fn: (xs) => E.concat(xs, 1) },
  { name: 'concat axis 0', inputs: (r) => [rand(r, [1, 3]), rand(r, [2, 3])], fn: (xs) => E.concat(xs, 0) },
  { name: 'stack axis 1', inputs: (r) => [rand(r, [2, 3]), rand(r, [2, 3])], fn: (xs) => E.stack(xs, 1) },
  { name: 'slice axis 0 (view)', inputs: (r) => [rand(r, [4, 3])], fn: ([a]) => E.slice(a, 0, 1, 3) },
  { name: 'slice axis 1 negative', inputs: (r) => [rand(r, [2, 5, 2])], fn: ([a]) => E.slice(a, 1, -4, -1) },
  {
    name: 'indexSelect axis 1 repeated',
    inputs: (r) => [rand(r, [2, 4, 3])],
    fn: ([a]) => E.indexSelect(a, 1, Int32Array.from([3, 0, 3, 1])),
  },
  { name: 'embedding repeated ids', inputs: (r) => [rand(r, [5, 3])], fn: ([w]) => E.embedding(w, Int32Array.from([4, 1, 4, 4, 0])) },
  { name: 'unsqueeze/squeeze', inputs: (r) => [rand(r, [2, 3])], fn: ([a]) => E.exp(E.squeeze(E.unsqueeze(a, 1), 1)) },
  // reductions & normalisers
  { name: 'sum all', inputs: (r) => [rand(r, [2, 3])], fn: ([a]) => E.sum(a) },
  { name: 'sum axis 1 keepdim', inputs: (r) => [rand(r, [2, 3, 4])], fn: ([a]) => E.sum(a, 1, true) },
  { name: 'sum axes [0,2]', inputs: (r) => [rand(r, [2, 3, 4])], fn: ([a]) => E.sum(a, [0, 2]) },
  { name: 'mean all', inputs: (r) => [rand(r, [2, 3])], fn: ([a]) => E.mean(a) },
  { name: 'mean axis -1', inputs: (r) => [rand(r, [2, 3, 4])], fn: ([a]) => E.mean(a, -1) },
  { name: 'max axis 1', inputs: (r) => [rand(r, [3, 5])], fn: ([a]) => E.max(a, 1) },
  { name: 'max all', inputs: (r) => [rand(r, [3, 5])], fn: ([a]) => E.max(a) },
  { name: 'logsumexp axis 0', inputs: (r) => [rand(r, [4, 3])], fn: ([a]) => E.logsumexp(a, 0) },
  { name: 'logsumexp axis -1 keepdim', inputs: (r) => [rand(r, [2, 3, 4])], fn: ([a]) => E.logsumexp(a, -1, true) },
  { name: 'softmax last', inputs: (r) => [rand(r, [3, 5])], fn: ([a]) => E.softmax(a) },
  { name: 'softmax axis 1 of 3-D', inputs: (r) => [rand(r, [2, 3, 4])], fn: ([a]) => E.softmax(a, 1) },
  { name: 'logSoftmax last', inputs: (r) => [rand(r, [3, 5])], fn: ([a]) => E.logSoftmax(a) },
  { name: 'logSoftmax axis 0', inputs: (r) => [rand(r, [3, 4])], fn: ([a]) => E.logSoftmax(a, 0) },
  // nn
  {
    name: 'layerNorm x,gamma,beta',
    inputs: (r) => [rand(r, [3, 6]), randUniform(r, [6], 0.5, 1.5), rand(r, [6])],
    fn: ([x, g, b]) => E.layerNorm(x, g, b, 1e-5),
  },
  { name: 'dropout p=0.3 training (fixed mask)', inputs: (r) => [rand(r, [4, 5])], fn: ([a]) => E.dropout(a, 0.3, new Rng(9), true) },
  {
    name: 'attention mask bias + softmax',
    inputs: (r) => [rand(r, [2, 2, 3, 3])],
    fn: ([s]) => E.softmax(E.add(s, E.attentionMaskBias([1, 1, 0, 1, 0, 0], 2, 3))),
  },
  {
    name: 'crossEntropy mean with ignoreIndex',
    inputs: (r) => [rand(r, [5, 4])],
    fn: ([l]) => E.crossEntropy(l, Int32Array.from([1, -100, 3, 0, 3])),
  },
  {
    name: 'crossEntropy sum custom ignore',
    inputs: (r) => [rand(r, [3, 4])],
    fn: ([l]) => E.crossEntropy(l, Int32Array.from([2, 0, 7]), { reduction: 'sum', ignoreIndex: 7 }),
  },
  {
    name: 'crossEntropy none',
    inputs: (r) => [rand(r, [3, 4])],
    fn: ([l]) => E.crossEntropy(l, Int32Array.from([2, 0, 1]), { reduction: 'none' }),
  },
  { name: 'gatherLast', inputs: (r) => [rand(r, [3, 4])], fn: ([a]) => E.gatherLast(a, Int32Array.from([3, 0, 3])) },
  {
    name: 'REALM marginal: logsumexp(logSoftmax(scores) + logp)',
    inputs: (r) => [rand(r, [2, 4]), rand(r, [2, 4])],
    fn: ([s, lp]) => E.logsumexp(E.add(E.logSoftmax(s), lp), 1),
  },
];

/** Every op case (fresh list). */
export function opCases(): OpCase[] {
  return cases.slice();
}
