/**
 * All autograd ops, re-exported by family (element-wise, matmul, shape/indexing, reductions, neural-network ops).
 */
export { add, sub, mul, div, scale, addScalar, neg, exp, log, sqrt, tanh, relu, sigmoid, gelu, maskedFill } from './elementwise.js';
export { matmul, linear } from './matmul.js';
export type { MatmulOptions } from './matmul.js';
export { reshape, unsqueeze, squeeze, contiguous, permute, transpose, concat, stack, slice, indexSelect, embedding } from './shape.js';
export { sum, mean, max, logsumexp, softmax, logSoftmax } from './reduce.js';
export { layerNorm, dropout, attentionMaskBias, crossEntropy, gatherLast, topk } from './nn.js';
export type { CrossEntropyOptions } from './nn.js';
