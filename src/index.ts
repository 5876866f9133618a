/**
 * realm-lm's public barrel (the package entry): every layer of REALM (Guu et al. 2020) in data-flow order —
 * engine → tokenizer → model → io → corpus → retriever/index → realm → train → api → server. Named exports only.
 */
export * from './engine/index.js';
export * from './tokenizer/index.js';
export * from './model/config.js';
export * from './model/bert.js';
export * from './model/mlm.js';
export * from './model/params.js';
export * from './model/init.js';
export * from './model/embedder.js';
export * from './io/atomic.js';
export * from './io/errors.js';
export * from './io/safetensors.js';
export * from './io/aliases.js';
export * from './io/checkpoint.js';
export * from './corpus/types.js';
export * from './corpus/jsonl.js';
export * from './corpus/text.js';
export * from './corpus/wordnet.js';
export * from './corpus/shared.js';
export * from './corpus/blocks.js';
export * from './corpus/docstore.js';
export * from './retriever/bm25.js';
export * from './retriever/scorer.js';
export * from './eval/answers.js';
export * from './eval/qa.js';
export * from './eval/recall.js';
export * from './index/index.js';
export * from './realm/index.js';
export * from './api/index.js';
export { createApp, type FillResponse, type ServerOptions } from './server/app.js';
