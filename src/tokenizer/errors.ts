// Error classes of the BERT WordPiece tokenizer (vocab files, tokenizer.json, encode arguments, truncation).
// Every message names the file or argument at fault so callers can report it without a stack trace.

/** Base class of every tokenizer error. */
export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

/** A vocab.txt / tokenizer.json that cannot be read or does not describe a BERT WordPiece tokenizer. */
export class VocabFormatError extends TokenizerError {
  constructor(message: string) {
    super(message);
    this.name = 'VocabFormatError';
  }
}

/** A truncation request that cannot be satisfied (e.g. only_second without a pair, sequence too short). */
export class TruncationError extends TokenizerError {
  constructor(message: string) {
    super(message);
    this.name = 'TruncationError';
  }
}
