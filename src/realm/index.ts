/**
 * Public surface of REALM pre-training (Guu et al. 2020, §2–3): salient spans and masking, the knowledge-augmented
 * encoder, retrieval inside the loop, the marginal-likelihood loss with its reward, the pre-training model and `fill`.
 */
export { findSalientSpans, findEntitySpans, findDateSpans, salientSpansBySentence, resolveOverlaps } from './spans.js';
export type { SalientSpan, SentenceSpans, SpanKind, SpanOptions } from './spans.js';
export {
  IGNORE_LABEL, MASKING_DEFAULTS, maskSalient, maskRandomSpan, maskRandomTokens, maskPassage,
} from './masking.js';
export type { MaskedExample, MaskingConfig, MaskingStrategy, MaskingTokenizer, PassageExample } from './masking.js';
export {
  BlockTokenCache, RealmInputError, checkExample, docInputs, maskedPositionsOf, queryInputs,
} from './batch.js';
export type { BlockTextSource, BlockTokens, RealmExample, RealmTokenizer } from './batch.js';
export { KnowledgeAugEncoder, jointIds } from './kaEncoder.js';
export type { JointRow, KnowledgeAugEncoderOptions } from './kaEncoder.js';
export { ProductSpanDistribution, topSequences } from './spanDistribution.js';
export type { SpanDistribution } from './spanDistribution.js';
export { batchLoss, logSumExp64, marginalTerms, rewards, spanMarginalTerms } from './loss.js';
export type { MarginalMode, MarginalTerms, RewardStats } from './loss.js';
export { DocumentGroups, exclusionsFor, retrieveForBatch } from './retrieval.js';
export type { ExclusionMode, Retrieved } from './retrieval.js';
export { NULL_SCORE_NAME, REALM_PRETRAIN_DEFAULTS, RealmPretrainModel, realmDecay } from './model.js';
export type { ExampleDiagnostics, RealmDiagnostics, RealmForward, RealmPretrainOptions } from './model.js';
export { RealmFiller } from './fill.js';
export type { FillEvidence, FillOptions, FillPrediction, FillResult, FillTokenizer } from './fill.js';
