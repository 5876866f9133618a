/**
 * Public surface of the knowledge index (REALM §3.4 MIPS over document embeddings): the Index contract, the exact
 * FlatIndex and the ScaNN-style ScannIndex (partition + anisotropic quantisation + exact re-rank), and index factory
 * strings naming the stages ("IVF1000,AH0.2,RR100,NP32").
 */
export { FlatIndex, type FlatOptions } from './flat.js';
export { ScannIndex, type ScannOptions, type QuantizeOptions } from './scann.js';
export type { PartitionOptions } from './kmeans.js';
export { buildIndex, parseFactory, type FactoryOptions, type FactorySpec } from './factory.js';
export {
  IndexArgumentError, IndexFileError, NO_ID, type Index, type Metric, type SearchParams, type SearchResult,
} from './types.js';
export { parallelCostMultiplier } from './anisotropic.js';
export { indexAddon, trimHeap, type KernelChoice } from './native.js';
