/**
 * Public library API of realm-lm (REALM, Guu et al. 2020): load a model directory and fill [MASK]s with retrieved
 * evidence (`Realm`), the model-directory helpers, and programmatic pre-training from a config (`runPretrain`).
 * The package entry (src/index.ts) should re-export this module.
 */
export { Realm, FillInputError, loadRealmModel } from './realm.js';
export type { Evidence, FillOutput, Prediction, RealmFillOptions, RealmLoadOptions } from './realm.js';
export { MODEL_FILES, ModelDirError, checkModelDir, defaultModelDir, loadIndexFile } from './modelDir.js';
export { runPretrain, type PretrainResult, type RunPretrainOptions } from '../train/pretrain.js';
export { readPretrainConfig, parsePretrainConfig, PRETRAIN_DEFAULTS, PretrainConfigError, type PretrainConfig } from '../train/pretrainConfig.js';
