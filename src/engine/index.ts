/**
 * Public surface of the tensor engine: Tensor, reverse-mode autograd, ops, RNG, optimiser and backend selection.
 */
export { Tensor, TensorError, param, shapeSize } from './tensor.js';
export type { NestedArray } from './tensor.js';
export { backward, noGrad, isGradEnabled, setGradEnabled, needsGrad, record, releaseGrad } from './autograd.js';
export { alloc, allocUninit, release, setPoolLimit, clearPool, poolStats, raisePoolLimitForTraining } from './pool.js';
export type { GradFn, BackwardOptions } from './autograd.js';
export { Rng, RngError } from './rng.js';
export * from './ops/index.js';
export { getBackend, setBackend, jsBackend, availableBackends, nativeBackendOrNull, BackendError } from './backends/index.js';
export type { Backend } from './backend.js';
export { AdamW, bertDecayExclusions, linearWarmupDecay, clipGradNorm, namedParams } from './optim.js';
export type { AdamWOptions, AdamWState, LinearWarmupDecayOptions, ParamSource } from './optim.js';
