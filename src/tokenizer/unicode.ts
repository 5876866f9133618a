// Unicode character classes used by BERT's basic tokenizer (google-research/bert tokenization.py and the
// HuggingFace `tokenizers` BertNormalizer / BertPreTokenizer): control, whitespace, punctuation, CJK ideographs
// and non-spacing marks. Where the Python reference and the Rust `tokenizers` crate differ we follow the Rust one
// (it is what BertTokenizerFast runs): U+2028/U+2029 are whitespace, unassigned code points are kept, and the CJK
// table uses 0x2B920..0x2CEAF for the extension-E block.

const controlRe = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/u;
const punctRe = /\p{P}/u;
const nonSpacingMarkRe = /\p{Mn}/u;

/** Category C (minus unassigned) except tab, newline and carriage return, which BERT treats as whitespace. */
export function isControl(cp: number): boolean {
  if (cp === 9 || cp === 10 || cp === 13) return false;
  return controlRe.test(String.fromCodePoint(cp));
}

/** The Unicode White_Space property (Rust `char::is_whitespace`), which includes \t \n \r and space. */
export function isWhitespace(cp: number): boolean {
  if (cp <= 32) return cp === 32 || (cp >= 9 && cp <= 13);
  if (cp < 0x85) return false;
  return (
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

/** ASCII punctuation (33-47, 58-64, 91-96, 123-126, including $+<=>^`|~) or any Unicode P* category. */
export function isPunctuation(cp: number): boolean {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return true;
  }
  if (cp < 128) return false;
  return punctRe.test(String.fromCodePoint(cp));
}

/** CJK Unified Ideographs blocks that BERT splits into single-character words. */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** General category Mn (the accents removed by strip_accents after NFD). */
export function isNonSpacingMark(cp: number): boolean {
  return cp >= 0x300 && nonSpacingMarkRe.test(String.fromCodePoint(cp));
}
