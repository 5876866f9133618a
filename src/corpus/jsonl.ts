// Streaming reader for JSON Lines corpora (`{"id", "title", "text"}` per line), plain or gzip-compressed,
// e.g. the shared enwiki2015 passages. Malformed lines are reported as file:line and skipped, or stop the run
// with `{ onError: 'stop' }`; invalid UTF-8 and an empty corpus are errors naming the file.
import { readLineBatches } from './lines.js';
import { CorpusError, defaultWarn, type CorpusDoc, type ReaderOptions } from './types.js';

/** Validates one parsed JSON value as a corpus record; returns an error description or the document. */
function toDoc(value: unknown): CorpusDoc | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const rec = value as Record<string, unknown>;
  const id = rec.id;
  if (typeof id !== 'string' && typeof id !== 'number') return 'missing "id" (string or number)';
  if (typeof rec.text !== 'string') return 'missing "text" (string)';
  const title = rec.title ?? '';
  if (typeof title !== 'string') return '"title" is not a string';
  return { id: String(id), title, text: rec.text };
}

/** Parses one line into a document, or returns what is wrong with it. */
function parseRecord(text: string): CorpusDoc | string {
  try {
    return toDoc(JSON.parse(text));
  } catch (e) {
    return `invalid JSON (${(e as Error).message})`;
  }
}

/** Yields the documents of a JSON Lines file (plain or .gz); blank lines are ignored. */
export async function* readJsonlCorpus(path: string, options: ReaderOptions = {}): AsyncGenerator<CorpusDoc> {
  const onError = options.onError ?? 'skip';
  const warn = options.onWarning ?? defaultWarn;
  let count = 0;
  for await (const batch of readLineBatches(path)) {
    for (const { line, text } of batch) {
      if (text.trim() === '') continue;
      const doc = parseRecord(text);
      if (typeof doc !== 'string') {
        count++;
        yield doc;
        continue;
      }
      const message = `${path}:${line}: malformed corpus record: ${doc}`;
      if (onError === 'stop') throw new CorpusError(message, path, line);
      warn(`${message} (skipped)`);
    }
  }
  if (count === 0 && (options.requireNonEmpty ?? true)) {
    throw new CorpusError(`${path}: empty corpus (no valid {id, title, text} record)`, path);
  }
}
