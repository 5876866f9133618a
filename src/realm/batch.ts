/**
 * Inputs of REALM pre-training (Guu et al. 2020, §3.1–3.4): the masked example x, retrieved blocks z (title + text
 * wordpieces), and the three kinds of BERT inputs built from them:
 * - query input `[CLS] x [SEP]` for Embed_input (x already masked, as in REALM's featurizer);
 * - document input `[CLS] title [SEP] text [SEP]` for Embed_doc (src/retriever/inputs.ts, segments 0 / 1);
 * - joint input `[CLS] x [SEP] title [SEP] text [SEP]` for the knowledge-augmented encoder (./kaEncoder.ts).
 * `BlockTokenCache` tokenises blocks from a block store (DocStore or anything with `getMany`) once and keeps them.
 */
import type { BertInputs } from '../model/bert.js';
import { joinIds, packBatch, REALM_BLOCK_LEN, type RetrieverTokenizer, type TokenSeq } from '../retriever/inputs.js';

/** Label value of positions that are not predicted (PyTorch / HF convention). */
export const IGNORE_LABEL = -100;

/** One pre-training example. */
export interface RealmExample {
  /** Wordpieces of x with [MASK]s, without [CLS]/[SEP] [n]. */
  inputIds: Int32Array;
  /** Original id at masked positions, -100 elsewhere [n]. */
  labels: Int32Array;
  /** The masked text (diagnostics only). */
  answer?: string;
  /** Block x was taken from (excluded from its retrieval results), if it is in the knowledge corpus. */
  sourceBlockId?: number;
}

/** A retrieved block's wordpieces (no specials). */
export interface BlockTokens {
  /** Block id in the corpus / index. */
  id: number;
  /** Title wordpieces. */
  titleIds: Int32Array;
  /** Text wordpieces. */
  textIds: Int32Array;
}

/** What a tokenizer must provide to build REALM inputs (BertTokenizer fits). */
export interface RealmTokenizer {
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly maskId: number;
  encodeSequence(text: string): { ids: ArrayLike<number> };
}

/** Random access to block texts (DocStore, or the corpus embedding job's BlockSource). */
export interface BlockTextSource {
  /** Blocks by id. */
  getMany(ids: ArrayLike<number>): Array<{ title: string; text: string }>;
}

/** Invalid pre-training input (bad example, missing block, empty batch). */
export class RealmInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RealmInputError';
  }
}

/** Checks an example's shapes and that it has at least one target; `what` names it in errors. */
export function checkExample(ex: RealmExample, what: string): number {
  if (!(ex.inputIds instanceof Int32Array) || !(ex.labels instanceof Int32Array)) {
    throw new RealmInputError(`${what}: inputIds and labels must be Int32Arrays`);
  }
  if (ex.inputIds.length !== ex.labels.length) {
    throw new RealmInputError(`${what}: ${ex.inputIds.length} input ids but ${ex.labels.length} labels`);
  }
  let m = 0;
  for (let i = 0; i < ex.labels.length; i++) if (ex.labels[i] !== IGNORE_LABEL) m++;
  if (m === 0) throw new RealmInputError(`${what}: no masked position (every label is ${IGNORE_LABEL})`);
  return m;
}

/** Masked positions of an example (indices into inputIds where labels != -100). */
export function maskedPositionsOf(ex: RealmExample): number[] {
  const out: number[] = [];
  for (let i = 0; i < ex.labels.length; i++) if (ex.labels[i] !== IGNORE_LABEL) out.push(i);
  return out;
}

/** `[CLS] x [SEP]` for every example, right-padded: BertInputs [B, T]. x is cut to maxLen − 2 pieces. */
export function queryInputs(tok: Pick<RealmTokenizer, 'clsId' | 'sepId' | 'padId'>, examples: readonly RealmExample[], maxLen: number): BertInputs {
  if (examples.length === 0) throw new RealmInputError('queryInputs: empty batch');
  return packBatch(examples.map((e) => queryTokens(tok, e, maxLen)), tok.padId);
}

/** `[CLS] x [SEP]` of one example, truncated to maxLen (the query embedder's input, unpadded). */
export function queryTokens(tok: Pick<RealmTokenizer, 'clsId' | 'sepId' | 'padId'>, e: RealmExample, maxLen: number): TokenSeq {
  return joinIds(idsOnly(tok), e.inputIds, null, maxLen);
}

/** `[CLS] title [SEP] text [SEP]` for each block (the document embedder's input), right-padded [K, T]. */
export function docInputs(tok: Pick<RealmTokenizer, 'clsId' | 'sepId' | 'padId'>, blocks: readonly BlockTokens[], maxLen = REALM_BLOCK_LEN): BertInputs {
  if (blocks.length === 0) throw new RealmInputError('docInputs: no blocks');
  const j = idsOnly(tok);
  return packBatch(blocks.map((b) => joinIds(j, b.titleIds, b.textIds, maxLen)), tok.padId);
}

/** The retriever's joinIds needs only the special ids; it never tokenises text here. */
function idsOnly(tok: Pick<RealmTokenizer, 'clsId' | 'sepId' | 'padId'>): RetrieverTokenizer {
  return {
    clsId: tok.clsId, sepId: tok.sepId, padId: tok.padId,
    encodeSequence: () => {
      throw new RealmInputError('joinIds: no tokenizer attached');
    },
  };
}

/** Tokenises blocks on demand from a text source and caches them (least recently added evicted first). */
export class BlockTokenCache {
  private readonly cache = new Map<number, BlockTokens>();

  constructor(
    private readonly source: BlockTextSource,
    private readonly tok: Pick<RealmTokenizer, 'encodeSequence'>,
    /** Most blocks kept. */
    private readonly capacity = 200_000,
  ) {}

  /** Tokens of the given blocks, in order. */
  get(ids: readonly number[]): BlockTokens[] {
    const found = new Map<number, BlockTokens>();
    const missing: number[] = [];
    for (const id of ids) {
      if (found.has(id)) continue;
      const hit = this.cache.get(id);
      if (hit) found.set(id, hit);
      else if (!missing.includes(id)) missing.push(id);
    }
    if (missing.length > 0) {
      const texts = this.source.getMany(missing);
      if (texts.length !== missing.length) throw new RealmInputError(`BlockTokenCache: block source returned ${texts.length} blocks for ${missing.length} ids`);
      missing.forEach((id, i) => {
        const t = texts[i];
        const b: BlockTokens = {
          id, titleIds: Int32Array.from(this.tok.encodeSequence(t.title).ids), textIds: Int32Array.from(this.tok.encodeSequence(t.text).ids),
        };
        found.set(id, b);
        this.cache.set(id, b);
        if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
      });
    }
    return ids.map((id) => found.get(id)!);
  }
}
