/**
 * Public surface of the knowledge index (REALM §3.4 MIPS over document embeddings): the Index contract, the exact
 * FlatIndex and the ScaNN-style ScannIndex (partition + anisotropic quantisation + exact re-rank).
 */
export { FlatIndex, type FlatOptions } from './flat.js';
export { ScannIndex, type ScannOptions, type QuantizeOptions } from './scann.js';
export type { PartitionOptions } from './kmeans.js';
export {
  IndexArgumentError, IndexFileError, NO_ID, type Index, type Metric, type SearchParams, type SearchResult,
} from './types.js';
export { parallelCostMultiplier } from './anisotropic.js';
export { indexAddon, type KernelChoice } from './native.js';
