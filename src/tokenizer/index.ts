// Public entry of the BERT WordPiece tokenizer (BERT §3, used by every REALM component): tokenizer class,
// trainer, encoding types, file IO helpers and errors.

export { BertTokenizer, type BertVocabOptions, type DecodeOptions } from './bertTokenizer.js';
export { trainWordPiece, type TrainWordPieceOptions } from './trainer.js';
export type { EncodeOptions, Encoding, PaddingStrategy, TruncationStrategy, RawSequence } from './encoding.js';
export { BasicTokenizer, type BertNormalizerOptions, type WordList } from './basicTokenizer.js';
export { WordPieceModel, type WordPieceOptions } from './wordpiece.js';
export {
  readVocabTxt,
  writeVocabTxt,
  parseVocabTxt,
  readTokenizerJson,
  parseTokenizerJson,
  serializeTokenizerJson,
  atomicWriteFile,
  type AddedToken,
  type BertTokenizerConfig,
} from './vocabIo.js';
export { TokenizerError, VocabFormatError, TruncationError } from './errors.js';
