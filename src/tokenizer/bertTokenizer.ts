// BertTokenizer: the BERT WordPiece tokenizer (Devlin et al. 2019 §3) used by every REALM component (Guu et al.
// 2020 §3: knowledge-augmented encoder inputs `[CLS] x [SEP] z [SEP]`, retriever embeddings of `[CLS] ... [SEP]`).
// Pipeline, as HF BertTokenizerFast: split out added/special tokens on the raw text -> BERT normalizer and
// pre-tokenizer (basicTokenizer.ts) -> WordPiece (wordpiece.ts) -> truncation, template, padding (encoding.ts).
// Offsets are UTF-16 [start, end) into the original text. Loads/saves vocab.txt and tokenizer.json.

import { BasicTokenizer, type BertNormalizerOptions, type WordList } from './basicTokenizer.js';
import {
  assembleEncoding,
  padEncoding,
  truncateSequences,
  type EncodeOptions,
  type Encoding,
  type RawSequence,
} from './encoding.js';
import { TokenizerError, VocabFormatError } from './errors.js';
import {
  readTokenizerJson,
  readVocabTxt,
  parseTokenizerJson,
  serializeTokenizerJson,
  atomicWriteFile,
  writeVocabTxt,
  type AddedToken,
  type BertTokenizerConfig,
} from './vocabIo.js';
import { WordPieceModel } from './wordpiece.js';

/** Options for building a tokenizer from a plain vocabulary (vocab.txt). */
export interface BertVocabOptions {
  /** Lower-case (and, unless stripAccents says otherwise, strip accents); true for uncased BERT. Default true. */
  doLowerCase?: boolean;
  /** Strip accents independently of lower-casing (null = follow doLowerCase). Default null. */
  stripAccents?: boolean | null;
  /** Isolate CJK ideographs. Default true. */
  tokenizeChineseChars?: boolean;
  /** Remove control characters. Default true. */
  cleanText?: boolean;
  /** Longer words become [UNK]. Default 100. */
  maxInputCharsPerWord?: number;
}

/** Options of decode(). */
export interface DecodeOptions {
  /** Drop special tokens ([CLS], [SEP], [PAD], [MASK], [UNK], ...). Default false. */
  skipSpecialTokens?: boolean;
  /** WordPiece decoder clean-up (" ," -> "," ...); default: the tokenizer's decoder setting (true for BERT). */
  cleanup?: boolean;
}

const SPECIAL_NAMES = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function decoderCleanup(tok: string): string {
  return tok
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** BERT WordPiece tokenizer with HF-compatible encodings (ids, type ids, masks, offsets). */
export class BertTokenizer {
  readonly config: Readonly<BertTokenizerConfig>;
  readonly model: WordPieceModel;
  readonly basic: BasicTokenizer;
  readonly padId: number;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  /** -1 when the vocab has no mask token. */
  readonly maskId: number;
  private readonly addedRe: RegExp | null;
  private readonly addedIds = new Map<string, number>();
  private readonly specialIds = new Set<number>();
  private readonly fullTokenToId = new Map<string, number>();

  constructor(config: BertTokenizerConfig) {
    this.config = { ...config, vocab: config.vocab.slice(), addedTokens: config.addedTokens.map((a) => ({ ...a })) };
    const modelVocab = config.vocab.slice(0, config.modelVocabSize);
    try {
      this.model = new WordPieceModel(modelVocab, {
        unkToken: config.unkToken,
        continuingSubwordPrefix: config.continuingSubwordPrefix,
        maxInputCharsPerWord: config.maxInputCharsPerWord,
      });
    } catch (e) {
      throw new VocabFormatError((e as Error).message);
    }
    this.basic = new BasicTokenizer(config.normalizer);
    for (let i = 0; i < config.vocab.length; i++) this.fullTokenToId.set(config.vocab[i]!, i);
    const need = (tok: string, what: string): number => {
      const id = this.fullTokenToId.get(tok);
      if (id === undefined) throw new VocabFormatError(`the vocab has no ${what} token ${JSON.stringify(tok)}`);
      return id;
    };
    this.unkId = this.model.unkId;
    this.clsId = need(config.clsToken, 'CLS');
    this.sepId = need(config.sepToken, 'SEP');
    this.padId = need(config.padToken, 'PAD');
    this.maskId = this.fullTokenToId.get(config.maskToken) ?? -1;
    for (const a of config.addedTokens) {
      if (a.content.length === 0) continue;
      this.addedIds.set(a.content, a.id);
      if (a.special) this.specialIds.add(a.id);
    }
    const contents = [...this.addedIds.keys()].sort((x, y) => y.length - x.length);
    this.addedRe = contents.length ? new RegExp(contents.map(escapeRe).join('|'), 'g') : null;
  }

  /** Builds a tokenizer from a token list; [PAD] [UNK] [CLS] [SEP] [MASK] found in it become special tokens. */
  static fromVocab(vocab: readonly string[], options: BertVocabOptions = {}): BertTokenizer {
    const lower = options.doLowerCase ?? true;
    const ids = new Map<string, number>();
    vocab.forEach((t, i) => ids.set(t, i));
    const addedTokens: AddedToken[] = [];
    for (const name of SPECIAL_NAMES) {
      const id = ids.get(name);
      if (id === undefined) continue;
      addedTokens.push({ id, content: name, special: true, normalized: false, singleWord: false, lstrip: false, rstrip: false });
    }
    addedTokens.sort((a, b) => a.id - b.id);
    const normalizer: BertNormalizerOptions = {
      cleanText: options.cleanText ?? true,
      handleChineseChars: options.tokenizeChineseChars ?? true,
      stripAccents: options.stripAccents ?? null,
      lowercase: lower,
    };
    return new BertTokenizer({
      vocab: vocab.slice(),
      modelVocabSize: vocab.length,
      normalizer,
      unkToken: '[UNK]',
      continuingSubwordPrefix: '##',
      maxInputCharsPerWord: options.maxInputCharsPerWord ?? 100,
      addedTokens,
      clsToken: '[CLS]',
      sepToken: '[SEP]',
      padToken: '[PAD]',
      maskToken: '[MASK]',
      decoderCleanup: true,
    });
  }

  /** Loads a Google BERT vocab.txt. */
  static fromVocabFile(path: string, options: BertVocabOptions = {}): BertTokenizer {
    const vocab = readVocabTxt(path);
    try {
      return BertTokenizer.fromVocab(vocab, options);
    } catch (e) {
      if (e instanceof VocabFormatError) throw new VocabFormatError(`${path}: ${e.message}`);
      throw e;
    }
  }

  /** Loads a HuggingFace tokenizer.json (WordPiece model + BertNormalizer). */
  static fromTokenizerJson(path: string): BertTokenizer {
    return new BertTokenizer(readTokenizerJson(path));
  }

  /** Parses tokenizer.json text. */
  static fromTokenizerJsonString(text: string): BertTokenizer {
    return new BertTokenizer(parseTokenizerJson(text));
  }

  /** Number of ids (model vocab plus added tokens beyond it). */
  get vocabSize(): number {
    return this.config.vocab.length;
  }

  /** Token string of an id, undefined when out of range. */
  idToToken(id: number): string | undefined {
    return this.config.vocab[id];
  }

  /** Id of a token string, undefined when unknown. */
  tokenToId(token: string): number | undefined {
    return this.fullTokenToId.get(token);
  }

  /** Ids of token strings (unknown tokens map to [UNK]). */
  convertTokensToIds(tokens: readonly string[]): number[] {
    return tokens.map((t) => this.fullTokenToId.get(t) ?? this.unkId);
  }

  /** Token strings of ids. */
  convertIdsToTokens(ids: ArrayLike<number>): string[] {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const t = this.config.vocab[ids[i]!];
      if (t === undefined) throw new TokenizerError(`id ${ids[i]} is outside the vocabulary (size ${this.vocabSize})`);
      out.push(t);
    }
    return out;
  }

  /** True for ids of special added tokens ([CLS], [SEP], [PAD], [UNK], [MASK], ...). */
  isSpecialId(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** Word pieces of `text` (no [CLS]/[SEP]); special tokens written in the text stay whole. */
  tokenize(text: string): string[] {
    return this.encodeSequence(text).ids.map((id) => this.config.vocab[id]!);
  }

  /** Tokens of one text before special tokens, with offsets and word indices. */
  encodeSequence(text: string): RawSequence {
    if (typeof text !== 'string') throw new TokenizerError(`encode: text must be a string, got ${typeof text}`);
    const seq: RawSequence = { ids: [], offsets: [], wordIds: [] };
    let word = 0;
    const words: WordList = { words: [], starts: [], align: [] };
    const runText = (from: number, to: number): void => {
      if (from >= to) return;
      words.words.length = 0;
      words.starts.length = 0;
      words.align.length = 0;
      this.basic.split(text, from, to, words);
      for (let w = 0; w < words.words.length; w++) {
        const pieces = this.model.encodeWord(words.words[w]!);
        const start = words.starts[w]!;
        const al = words.align[w];
        let a = 0;
        for (let p = 0; p < pieces.length; p += 2) {
          const b = pieces[p + 1]!;
          seq.ids.push(pieces[p]!);
          if (al === null || al === undefined) seq.offsets.push(start + a, start + b);
          else seq.offsets.push(al[2 * a]!, al[2 * (b - 1) + 1]!);
          seq.wordIds.push(word);
          a = b;
        }
        word++;
      }
    };
    if (this.addedRe === null) {
      runText(0, text.length);
      return seq;
    }
    const re = this.addedRe;
    re.lastIndex = 0;
    let last = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      runText(last, m.index);
      seq.ids.push(this.addedIds.get(m[0])!);
      seq.offsets.push(m.index, m.index + m[0].length);
      seq.wordIds.push(word++);
      last = m.index + m[0].length;
    }
    runText(last, text.length);
    return seq;
  }

  /** Encodes a text (or a pair) into BERT inputs; see EncodeOptions for truncation and padding. */
  encode(text: string, pair?: string | null, options: EncodeOptions = {}): Encoding {
    const a = this.encodeSequence(text);
    const b = pair === undefined || pair === null ? null : this.encodeSequence(pair);
    return this.finish(a, b, options);
  }

  /** Encodes several texts or [text, pair] tuples; padding 'longest' pads to the longest of the batch. */
  encodeBatch(inputs: readonly (string | readonly [string, string])[], options: EncodeOptions = {}): Encoding[] {
    const encs = inputs.map((inp) => {
      const [t, p] = typeof inp === 'string' ? [inp, null] : inp;
      return this.finish(this.encodeSequence(t), p === null ? null : this.encodeSequence(p), { ...options, padding: false });
    });
    if (options.padding === 'longest' || options.padding === 'max_length') {
      let target = 0;
      if (options.padding === 'longest') for (const e of encs) target = Math.max(target, e.inputIds.length);
      else target = this.requireMaxLength(options);
      return encs.map((e) => padEncoding(e, target, this.padId, this.config.padToken));
    }
    return encs;
  }

  private requireMaxLength(options: EncodeOptions): number {
    const m = options.maxLength;
    if (m === undefined || !Number.isInteger(m) || m < 0) {
      throw new TokenizerError(`encode: maxLength must be a non-negative integer for this truncation/padding, got ${String(m)}`);
    }
    return m;
  }

  private finish(a: RawSequence, b: RawSequence | null, options: EncodeOptions): Encoding {
    const addSpecial = options.addSpecialTokens ?? true;
    const truncation = options.truncation ?? (options.maxLength !== undefined ? 'longest_first' : false);
    if (truncation !== false) {
      const maxLength = this.requireMaxLength(options);
      truncateSequences(a, b, maxLength, truncation, addSpecial ? (b ? 3 : 2) : 0);
    }
    let enc = assembleEncoding(a, b, addSpecial ? { clsId: this.clsId, sepId: this.sepId } : null, this.config.vocab);
    if (options.padding === 'max_length') enc = padEncoding(enc, this.requireMaxLength(options), this.padId, this.config.padToken);
    return enc;
  }

  /** Text of ids: `##` pieces are glued to the previous piece, others separated by a space (HF WordPiece decoder). */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skip = options.skipSpecialTokens ?? false;
    const cleanup = options.cleanup ?? this.config.decoderCleanup;
    const prefix = this.config.continuingSubwordPrefix;
    let out = '';
    let first = true;
    for (const tok of this.convertIdsToTokens(ids).filter((_, i) => !(skip && this.specialIds.has(ids[i]!)))) {
      let t = tok;
      if (!first) t = prefix.length > 0 && t.startsWith(prefix) ? t.slice(prefix.length) : ' ' + t;
      out += cleanup ? decoderCleanup(t) : t;
      first = false;
    }
    return out;
  }

  /** Writes vocab.txt (atomic). Lower-casing settings are not part of that format. */
  saveVocabTxt(path: string): void {
    writeVocabTxt(path, this.config.vocab);
  }

  /** HF tokenizer.json text of this tokenizer. */
  toTokenizerJson(): string {
    return serializeTokenizerJson(this.config);
  }

  /** Writes tokenizer.json (atomic). */
  saveTokenizerJson(path: string): void {
    atomicWriteFile(path, this.toTokenizerJson());
  }
}
