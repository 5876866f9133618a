/**
 * Package entry of realm-lm (REALM, Guu et al. 2020, in TypeScript): the user-facing library API — `Realm.load()` /
 * `realm.fill(text)`, model directories, programmatic pre-training. Lower layers (engine, model, index, corpus,
 * tokenizer, realm) may be re-exported here by their owners.
 */
export * from './api/index.js';
