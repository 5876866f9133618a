// Reading and writing BERT tokenizer files: Google BERT `vocab.txt` (one token per line, id = line number) and
// HuggingFace `tokenizer.json` (WordPiece model, BertNormalizer settings, added tokens, BERT post-processor).
// Writes are atomic (temp file in the same directory, fsync, rename, directory fsync).

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { BertNormalizerOptions } from './basicTokenizer.js';
import { VocabFormatError } from './errors.js';

/** A token matched in the raw text before normalization (HF "added token"). */
export interface AddedToken {
  /** Vocabulary id. */
  id: number;
  /** Exact text. */
  content: string;
  /** Special tokens are dropped by decode(skipSpecialTokens). */
  special: boolean;
  /** HF flag kept for round trips; all added tokens are matched on the raw text (HF matches normalized ones after normalization). */
  normalized: boolean;
  /** HF flags kept for round trips (not used for matching). */
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
}

/** Everything needed to build a BertTokenizer. */
export interface BertTokenizerConfig {
  /** id -> token (ids 0..n-1, model vocab followed by added tokens beyond it, if any). */
  vocab: string[];
  /** Number of leading entries of `vocab` that belong to the WordPiece model. */
  modelVocabSize: number;
  /** Normalizer settings. */
  normalizer: BertNormalizerOptions;
  /** WordPiece unknown token. */
  unkToken: string;
  /** WordPiece continuation prefix ("##"). */
  continuingSubwordPrefix: string;
  /** Longer words (in code points) become unkToken. */
  maxInputCharsPerWord: number;
  /** Tokens split out of the raw text before normalization. */
  addedTokens: AddedToken[];
  /** Template tokens. */
  clsToken: string;
  sepToken: string;
  padToken: string;
  maskToken: string;
  /** WordPiece decoder clean-up (" ." -> "." etc.). */
  decoderCleanup: boolean;
}

/** Writes `data` to `path` atomically: temp file + fsync + rename (+ fsync of the directory). */
export function atomicWriteFile(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fd = openSync(tmp, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* directory fsync is best-effort (not supported everywhere) */
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new VocabFormatError(`cannot read tokenizer file ${path}: ${(e as Error).message}`);
  }
}

/** Parses vocab.txt text: one token per line, trailing whitespace trimmed (as HF's WordPiece::read_file). */
export function parseVocabTxt(text: string, source = 'vocab.txt'): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const vocab = lines.map((l) => l.trimEnd());
  if (vocab.length === 0) throw new VocabFormatError(`${source} is empty`);
  return vocab;
}

/** Reads a BERT vocab.txt file. */
export function readVocabTxt(path: string): string[] {
  return parseVocabTxt(readText(path), path);
}

/** Writes a vocab.txt (atomic). */
export function writeVocabTxt(path: string, vocab: readonly string[]): void {
  for (const t of vocab) {
    if (/[\n\r]/.test(t) || t !== t.trimEnd()) {
      throw new VocabFormatError(`cannot write ${path}: token ${JSON.stringify(t)} has a line break or trailing space`);
    }
  }
  atomicWriteFile(path, vocab.join('\n') + '\n');
}

type Json = Record<string, unknown>;

function obj(v: unknown, what: string, src: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new VocabFormatError(`${src}: ${what} must be an object`);
  return v as Json;
}

function bool(v: unknown, dflt: boolean): boolean {
  return typeof v === 'boolean' ? v : dflt;
}

/** Parses a HuggingFace tokenizer.json holding a BERT WordPiece tokenizer. */
export function parseTokenizerJson(text: string, source = 'tokenizer.json'): BertTokenizerConfig {
  let root: Json;
  try {
    root = obj(JSON.parse(text), 'the top level', source);
  } catch (e) {
    if (e instanceof VocabFormatError) throw e;
    throw new VocabFormatError(`${source} is not valid JSON: ${(e as Error).message}`);
  }
  const model = obj(root.model, '"model"', source);
  if (model.type !== undefined && model.type !== 'WordPiece') {
    throw new VocabFormatError(`${source}: model.type is ${JSON.stringify(model.type)}, expected "WordPiece"`);
  }
  const vocabObj = obj(model.vocab, 'model.vocab', source);
  const entries = Object.entries(vocabObj);
  const modelVocab: string[] = new Array(entries.length);
  for (const [tok, id] of entries) {
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= entries.length || modelVocab[id as number] !== undefined) {
      throw new VocabFormatError(`${source}: model.vocab ids must be 0..${entries.length - 1} without gaps (token ${JSON.stringify(tok)} has ${String(id)})`);
    }
    modelVocab[id as number] = tok;
  }
  const vocab = modelVocab.slice();
  const addedTokens: AddedToken[] = [];
  const rawAdded = root.added_tokens ?? [];
  if (!Array.isArray(rawAdded)) throw new VocabFormatError(`${source}: added_tokens must be an array`);
  for (const a of rawAdded) {
    const t = obj(a, 'an added_tokens entry', source);
    if (typeof t.content !== 'string' || !Number.isInteger(t.id) || (t.id as number) < 0) {
      throw new VocabFormatError(`${source}: added token ${JSON.stringify(a)} needs a string content and an integer id`);
    }
    const id = t.id as number;
    if (id < modelVocab.length) {
      if (modelVocab[id] !== t.content) {
        throw new VocabFormatError(`${source}: added token ${JSON.stringify(t.content)} has id ${id}, which is ${JSON.stringify(modelVocab[id])} in model.vocab`);
      }
    } else {
      vocab[id] = t.content;
    }
    addedTokens.push({
      id,
      content: t.content,
      special: bool(t.special, false),
      normalized: bool(t.normalized, !bool(t.special, false)),
      singleWord: bool(t.single_word, false),
      lstrip: bool(t.lstrip, false),
      rstrip: bool(t.rstrip, false),
    });
  }
  for (let i = 0; i < vocab.length; i++) {
    if (vocab[i] === undefined) throw new VocabFormatError(`${source}: no token has id ${i} (ids must be contiguous)`);
  }
  const norm = root.normalizer === null || root.normalizer === undefined ? null : obj(root.normalizer, '"normalizer"', source);
  if (norm && norm.type !== 'BertNormalizer') {
    throw new VocabFormatError(`${source}: normalizer.type ${JSON.stringify(norm.type)} is not supported (BertNormalizer only)`);
  }
  const pre = root.pre_tokenizer === null || root.pre_tokenizer === undefined ? null : obj(root.pre_tokenizer, '"pre_tokenizer"', source);
  if (pre && pre.type !== 'BertPreTokenizer') {
    throw new VocabFormatError(`${source}: pre_tokenizer.type ${JSON.stringify(pre.type)} is not supported (BertPreTokenizer only)`);
  }
  let clsToken = '[CLS]';
  let sepToken = '[SEP]';
  const post = root.post_processor === null || root.post_processor === undefined ? null : obj(root.post_processor, '"post_processor"', source);
  if (post?.type === 'BertProcessing') {
    if (Array.isArray(post.cls) && typeof post.cls[0] === 'string') clsToken = post.cls[0];
    if (Array.isArray(post.sep) && typeof post.sep[0] === 'string') sepToken = post.sep[0];
  } else if (post?.type === 'TemplateProcessing' && Array.isArray(post.single)) {
    const specials = (post.single as Json[])
      .map((p) => (p && typeof p === 'object' ? (p.SpecialToken as Json | undefined) : undefined))
      .filter((s): s is Json => !!s && typeof s.id === 'string');
    if (specials.length >= 1) clsToken = specials[0]!.id as string;
    if (specials.length >= 2) sepToken = specials[specials.length - 1]!.id as string;
  }
  const padding = root.padding && typeof root.padding === 'object' ? (root.padding as Json) : null;
  const decoder = root.decoder && typeof root.decoder === 'object' ? (root.decoder as Json) : null;
  const prefix = typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '##';
  return {
    vocab,
    modelVocabSize: modelVocab.length,
    normalizer: {
      cleanText: bool(norm?.clean_text, true),
      handleChineseChars: bool(norm?.handle_chinese_chars, true),
      stripAccents: typeof norm?.strip_accents === 'boolean' ? norm.strip_accents : null,
      lowercase: norm ? bool(norm.lowercase, true) : false,
    },
    unkToken: typeof model.unk_token === 'string' ? model.unk_token : '[UNK]',
    continuingSubwordPrefix: prefix,
    maxInputCharsPerWord: Number.isInteger(model.max_input_chars_per_word) ? (model.max_input_chars_per_word as number) : 100,
    addedTokens,
    clsToken,
    sepToken,
    padToken: typeof padding?.pad_token === 'string' ? padding.pad_token : '[PAD]',
    maskToken: '[MASK]',
    decoderCleanup: decoder?.type === 'WordPiece' ? bool(decoder.cleanup, true) : true,
  };
}

/** Reads a HuggingFace tokenizer.json file. */
export function readTokenizerJson(path: string): BertTokenizerConfig {
  return parseTokenizerJson(readText(path), path);
}

/** Serializes a config in HF tokenizer.json layout (loadable by `tokenizers.Tokenizer.from_file`). */
export function serializeTokenizerJson(cfg: BertTokenizerConfig): string {
  const idOf = (tok: string): number => {
    const i = cfg.vocab.indexOf(tok);
    if (i < 0) throw new VocabFormatError(`cannot serialize tokenizer.json: ${JSON.stringify(tok)} is not in the vocab`);
    return i;
  };
  const cls = cfg.clsToken;
  const sep = cfg.sepToken;
  const vocab: Record<string, number> = Object.create(null) as Record<string, number>;
  for (let i = 0; i < cfg.modelVocabSize; i++) {
    const tok = cfg.vocab[i]!;
    if (Object.prototype.hasOwnProperty.call(vocab, tok)) {
      throw new VocabFormatError(`cannot serialize tokenizer.json: token ${JSON.stringify(tok)} appears twice in the vocab`);
    }
    vocab[tok] = i;
  }
  const root = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: cfg.addedTokens.map((a) => ({
      id: a.id,
      content: a.content,
      single_word: a.singleWord,
      lstrip: a.lstrip,
      rstrip: a.rstrip,
      normalized: a.normalized,
      special: a.special,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: cfg.normalizer.cleanText,
      handle_chinese_chars: cfg.normalizer.handleChineseChars,
      strip_accents: cfg.normalizer.stripAccents,
      lowercase: cfg.normalizer.lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }],
      pair: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: sep, type_id: 1 } },
      ],
      special_tokens: {
        [cls]: { id: cls, ids: [idOf(cls)], tokens: [cls] },
        [sep]: { id: sep, ids: [idOf(sep)], tokens: [sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: cfg.continuingSubwordPrefix, cleanup: cfg.decoderCleanup },
    model: {
      type: 'WordPiece',
      unk_token: cfg.unkToken,
      continuing_subword_prefix: cfg.continuingSubwordPrefix,
      max_input_chars_per_word: cfg.maxInputCharsPerWord,
      vocab,
    },
  };
  return JSON.stringify(root, null, 2) + '\n';
}
