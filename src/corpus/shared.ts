// Locates and streams the Wikipedia-derived corpora staged in the shared data folder
// (`<dataDir>/corpus/<name>/...`, JSON Lines `{id, title, text}`; see shared/data/SOURCES.md), and resolves a
// corpus spec (`wordnet`, a shared corpus name, a .jsonl[.gz] path, or a text file/directory) to a reader.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJsonlCorpus } from './jsonl.js';
import { readTextCorpus } from './text.js';
import { readWordNetCorpus } from './wordnet.js';
import { CorpusError, type CorpusDoc, type ReaderOptions } from './types.js';

/** Shared corpora and their file inside `<dataDir>/corpus/`. */
export const SHARED_CORPORA = {
  enwiki2015_first300_p100: 'enwiki2015_first300_p100/passages.jsonl.gz',
  enwiki2015_lead100: 'enwiki2015_lead100/passages.jsonl',
  squad_v1_1_dev_paragraphs: 'squad_v1.1_dev_paragraphs/paragraphs.jsonl',
} as const;

/** Name of a staged shared corpus. */
export type SharedCorpusName = keyof typeof SHARED_CORPORA;

/** Shared data directory: $REALM_DATA_DIR, else `<repo>/../shared/data`. */
export function sharedDataDir(): string {
  if (process.env.REALM_DATA_DIR) return resolve(process.env.REALM_DATA_DIR);
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  // compiled code lives in dist/src/corpus: step over dist/ when present
  const root = existsSync(join(repoRoot, 'package.json')) ? repoRoot : resolve(repoRoot, '..');
  return join(root, '..', 'shared', 'data');
}

/** Absolute path of a shared corpus file; throws a CorpusError when it is not staged. */
export function sharedCorpusPath(name: SharedCorpusName, dataDir = sharedDataDir()): string {
  const p = join(dataDir, 'corpus', SHARED_CORPORA[name]);
  if (!existsSync(p)) throw new CorpusError(`shared corpus ${name} not found at ${p} (set REALM_DATA_DIR)`, p);
  return p;
}

/** Streams a shared Wikipedia corpus. */
export function readSharedCorpus(name: SharedCorpusName, options: ReaderOptions & { dataDir?: string } = {}) {
  return readJsonlCorpus(sharedCorpusPath(name, options.dataDir), options);
}

/**
 * Opens a corpus from a spec: `wordnet` (default corpus), a shared corpus name, a `.jsonl`/`.jsonl.gz`/`.json.gz`
 * file, or a plain-text file or directory.
 */
export function openCorpus(spec: string, options: ReaderOptions & { dataDir?: string } = {}): AsyncGenerator<CorpusDoc> {
  if (spec === 'wordnet') return readWordNetCorpus(options);
  if (spec in SHARED_CORPORA) return readSharedCorpus(spec as SharedCorpusName, options);
  if (!existsSync(spec)) throw new CorpusError(`corpus ${spec} not found (expected wordnet, a shared corpus name or a path)`, spec);
  if (statSync(spec).isFile() && /\.(jsonl|ndjson|json)(\.gz)?$/i.test(spec)) return readJsonlCorpus(spec, options);
  return readTextCorpus(spec, options);
}
