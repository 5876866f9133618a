// Corpus record types and the error class every corpus reader, block cutter and document store throws.
// A corpus is a stream of documents { id, title, text } (REALM §3.4: the knowledge corpus Z is Wikipedia-style
// documents that are later cut into blocks); readers never hold the whole corpus in memory.

/** One document of a knowledge corpus, as yielded by every reader. */
export interface CorpusDoc {
  /** Stable document id, unique within the corpus (e.g. `enwiki2015-12-0`, `wn:n:10974490`). */
  id: string;
  /** Human-readable title (article title, file name, first WordNet lemma). */
  title: string;
  /** Body text; block offsets are character offsets into this string. */
  text: string;
}

/** What a reader does with a malformed record. */
export type OnError = 'skip' | 'stop';

/** Options shared by the streaming readers. */
export interface ReaderOptions {
  /** 'skip' (default): report the bad record through `onWarning` and go on; 'stop': throw a CorpusError. */
  onError?: OnError;
  /** Receives one message per skipped record (default: console.warn). */
  onWarning?: (message: string) => void;
  /** Throw a CorpusError when the source yields no document at all (default true). */
  requireNonEmpty?: boolean;
}

/** Any problem with corpus input or a corpus file; the message names the file (and line when known). */
export class CorpusError extends Error {
  constructor(
    message: string,
    /** File the problem was found in, when known. */
    readonly file?: string,
    /** 1-based line number, when known. */
    readonly line?: number,
  ) {
    super(message);
    this.name = 'CorpusError';
  }
}

/** Default warning sink for skipped records. */
export function defaultWarn(message: string): void {
  console.warn(message);
}
