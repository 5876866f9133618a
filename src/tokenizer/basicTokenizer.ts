// BERT basic tokenizer (google-research/bert tokenization.py BasicTokenizer; HF `tokenizers` BertNormalizer +
// BertPreTokenizer) with offset tracking: drops control characters and U+0000/U+FFFD, treats whitespace as a
// separator, isolates CJK ideographs and punctuation as single-character words, and when uncased strips accents
// (NFD, drop Mn) and lower-cases. Every normalized UTF-16 unit remembers the span of the original character it
// came from, so word pieces can be mapped back to offsets in the original text (also for characters that
// NFD-expand or lower-case into several characters). Pure-ASCII words take a fast path with identity alignment.

import { isChineseChar, isControl, isNonSpacingMark, isPunctuation, isWhitespace } from './unicode.js';

/** Options of the BERT normalizer (names follow HF's BertNormalizer). */
export interface BertNormalizerOptions {
  /** Remove control characters, U+0000 and U+FFFD (whitespace still separates words). */
  cleanText: boolean;
  /** Put every CJK ideograph in its own word. */
  handleChineseChars: boolean;
  /** NFD-decompose and drop non-spacing marks (defaults to `lowercase` when null, as in HF). */
  stripAccents: boolean | null;
  /** Lower-case every character. */
  lowercase: boolean;
}

/** Words of one text range: normalized text plus the map back to original UTF-16 offsets. */
export interface WordList {
  /** Normalized word strings. */
  words: string[];
  /** Original start offset of each word (used when `align[k]` is null: identity alignment). */
  starts: number[];
  /** null = word is text.slice(start, start + word.length) (modulo ASCII case); else [origStart, origEnd] per unit. */
  align: (Int32Array | null)[];
}

const K_WORD = 0;
const K_SPACE = 1;
const K_PUNCT = 2;
const K_REMOVED = 3;
const K_CJK = 4;

interface CharInfo {
  /** K_REMOVED, K_SPACE, K_CJK or K_WORD (the latter means: classify each unit of `out`). */
  kind: number;
  /** Normalized text of the character. */
  out: string;
  /** Class (K_WORD / K_SPACE / K_PUNCT) of each UTF-16 unit of `out`. */
  cls: Uint8Array;
}

function unitsToString(units: number[]): string {
  if (units.length <= 4096) return String.fromCharCode.apply(null, units);
  let s = '';
  for (let i = 0; i < units.length; i += 4096) s += String.fromCharCode.apply(null, units.slice(i, i + 4096));
  return s;
}

/** Normalizer + pre-tokenizer of BERT, producing words with offsets into the original string. */
export class BasicTokenizer {
  readonly options: Readonly<BertNormalizerOptions>;
  private readonly strip: boolean;
  private readonly asciiKind = new Uint8Array(128);
  private readonly asciiOut = new Uint16Array(128);
  private readonly info = new Map<number, CharInfo>();
  // Scratch buffers for the current complex word.
  private buf: number[] = [];
  private al: number[] = [];

  constructor(options: BertNormalizerOptions) {
    this.options = { ...options };
    this.strip = options.stripAccents ?? options.lowercase;
    for (let c = 0; c < 128; c++) {
      let k = K_WORD;
      if (options.cleanText && (c === 0 || isControl(c))) k = K_REMOVED;
      else if (isWhitespace(c)) k = K_SPACE;
      else if (isPunctuation(c)) k = K_PUNCT;
      this.asciiKind[c] = k;
      this.asciiOut[c] = options.lowercase && c >= 65 && c <= 90 ? c + 32 : c;
    }
  }

  /** Normalized words of text[from, to). */
  split(text: string, from = 0, to = text.length, out: WordList = { words: [], starts: [], align: [] }): WordList {
    const kinds = this.asciiKind;
    const lower = this.options.lowercase;
    let wStart = -1; // original start of the current word, -1 = none
    let simple = true; // current word is contiguous ASCII (identity alignment)
    let upper = false; // current simple word has an ASCII capital
    let i = from;
    const flush = (end: number): void => {
      if (wStart < 0) return;
      if (simple) {
        const w = text.slice(wStart, end);
        out.words.push(lower && upper ? w.toLowerCase() : w);
        out.starts.push(wStart);
        out.align.push(null);
      } else if (this.buf.length > 0) {
        out.words.push(unitsToString(this.buf));
        out.starts.push(wStart);
        out.align.push(Int32Array.from(this.al));
      }
      wStart = -1;
      simple = true;
      upper = false;
      this.buf.length = 0;
      this.al.length = 0;
    };
    // Switch the current simple word [wStart, at) to the buffered representation.
    const toComplex = (at: number): void => {
      for (let j = wStart; j < at; j++) {
        this.buf.push(this.asciiOut[text.charCodeAt(j)]!);
        this.al.push(j, j + 1);
      }
      simple = false;
    };
    while (i < to) {
      const c = text.charCodeAt(i);
      if (c < 128) {
        const k = kinds[c]!;
        if (k === K_WORD) {
          if (c <= 90 && c >= 65) upper = true;
          if (wStart < 0) wStart = i;
          else if (!simple) {
            this.buf.push(this.asciiOut[c]!);
            this.al.push(i, i + 1);
          }
        } else if (k === K_SPACE) {
          flush(i);
        } else if (k === K_PUNCT) {
          flush(i);
          out.words.push(text[i]!);
          out.starts.push(i);
          out.align.push(null);
        } else if (wStart >= 0 && simple) {
          toComplex(i); // removed control char inside a word: offsets stop being contiguous
        }
        i++;
        continue;
      }
      const cp = text.codePointAt(i)!;
      const len = cp > 0xffff ? 2 : 1;
      const inf = this.charInfo(cp);
      if (inf.kind === K_REMOVED) {
        if (wStart >= 0 && simple) toComplex(i);
      } else if (inf.kind === K_SPACE) {
        flush(i);
      } else {
        if (inf.kind === K_CJK) flush(i);
        else if (wStart >= 0 && simple) toComplex(i);
        const o = inf.out;
        for (let j = 0; j < o.length; j++) {
          const k = inf.cls[j]!;
          if (k === K_WORD) {
            if (wStart < 0) {
              wStart = i;
              simple = false;
            }
            this.buf.push(o.charCodeAt(j));
            this.al.push(i, i + len);
          } else if (k === K_SPACE) {
            flush(i);
          } else {
            flush(i);
            const w = o.charCodeAt(j) >= 0xd800 && o.charCodeAt(j) <= 0xdbff ? o.slice(j, j + 2) : o[j]!;
            out.words.push(w);
            out.starts.push(i);
            out.align.push(w.length === 2 ? Int32Array.of(i, i + len, i, i + len) : Int32Array.of(i, i + len));
            j += w.length - 1;
          }
        }
        if (inf.kind === K_CJK) flush(i + len);
      }
      i += len;
    }
    flush(i);
    return out;
  }

  /** Normalized words of `text` without offsets (for training and plain tokenize()). */
  words(text: string): string[] {
    return this.split(text).words;
  }

  private charInfo(cp: number): CharInfo {
    let inf = this.info.get(cp);
    if (inf !== undefined) return inf;
    const opt = this.options;
    if (opt.cleanText && (cp === 0 || cp === 0xfffd || isControl(cp))) {
      inf = { kind: K_REMOVED, out: '', cls: new Uint8Array(0) };
    } else if (isWhitespace(cp)) {
      inf = { kind: K_SPACE, out: ' ', cls: Uint8Array.of(K_SPACE) };
    } else {
      let s = String.fromCodePoint(cp);
      if (this.strip) {
        let t = '';
        for (const ch of s.normalize('NFD')) if (!isNonSpacingMark(ch.codePointAt(0)!)) t += ch;
        s = t;
      }
      if (opt.lowercase) {
        let t = '';
        for (const ch of s) t += ch.toLowerCase();
        s = t;
      }
      const cls = new Uint8Array(s.length);
      for (let j = 0; j < s.length; ) {
        const u = s.codePointAt(j)!;
        const n = u > 0xffff ? 2 : 1;
        const k = isWhitespace(u) ? K_SPACE : isPunctuation(u) ? K_PUNCT : K_WORD;
        for (let q = 0; q < n; q++) cls[j + q] = k;
        j += n;
      }
      inf = { kind: opt.handleChineseChars && isChineseChar(cp) ? K_CJK : K_WORD, out: s, cls };
    }
    this.info.set(cp, inf);
    return inf;
  }
}
