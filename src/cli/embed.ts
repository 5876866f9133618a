/**
 * `realm-lm embed` / `realm-lm index build`: turns a corpus into what REALM retrieves from (§3.4): the documents are
 * cut into blocks (title + text, at most the model's block length), stored in `<out>/blocks.docs`, embedded with the
 * model's document embedder (progress, resumable chunks: src/train/embedCorpus.ts) and indexed for MIPS in
 * `<out>/index.bin` (exact FlatIndex for small corpora, ScaNN-style index for large ones, or as --kind says).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cutCorpus } from '../corpus/blocks.js';
import { buildDocStore, DocStore } from '../corpus/docstore.js';
import { openCorpus } from '../corpus/shared.js';
import type { CorpusDoc } from '../corpus/types.js';
import { loadRealmModel } from '../api/realm.js';
import { defaultModelDir, MODEL_FILES } from '../api/modelDir.js';
import { buildIndex, embedCorpus, type IndexKind } from '../train/embedCorpus.js';
import { intOption, parseCommand } from './args.js';
import { UsageError } from './errors.js';

/** Runs the embed sub-command. */
export async function embedCommand(argv: string[]): Promise<number> {
  const { values, flags } = parseCommand('embed', argv, {
    model: { type: 'string', short: 'm' },
    corpus: { type: 'string' },
    out: { type: 'string', short: 'o' },
    kind: { type: 'string' },
    'max-docs': { type: 'string' },
    batch: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (!values.corpus) throw new UsageError('embed: --corpus SPEC is required (wordnet, a shared corpus name, a .jsonl[.gz] file or a text file/dir)');
  if (!values.out) throw new UsageError('embed: --out DIR is required');
  const kind = (values.kind ?? 'auto') as IndexKind;
  if (!['auto', 'flat', 'scann'].includes(kind)) throw new UsageError(`embed: --kind must be auto, flat or scann (got ${JSON.stringify(values.kind)})`);
  const maxDocs = intOption('embed', 'max-docs', values['max-docs'], 0) ?? 0;
  const batch = intOption('embed', 'batch', values.batch, 1, 4096) ?? 32;
  const log = flags.quiet ? () => {} : (l: string) => process.stderr.write(`${l}\n`);
  const docs = openCorpus(values.corpus, { onError: 'stop' });
  // the model (for its tokenizer, block length and document embedder); its own store/index are not needed
  const realm = loadRealmModel(values.model ?? defaultModelDir(), values.model === undefined);
  mkdirSync(values.out, { recursive: true });
  const storePath = join(values.out, MODEL_FILES.docs);
  async function* limited(): AsyncGenerator<CorpusDoc> {
    let n = 0;
    for await (const d of docs) {
      yield d;
      if (maxDocs > 0 && ++n >= maxDocs) return;
    }
  }
  const blockLen = realm.model.opts.blockMaxLen;
  const n = await buildDocStore(storePath, cutCorpus(limited(), realm.tokenizer, { maxTokens: blockLen, maxTitleTokens: Math.min(32, blockLen - 20) }));
  if (n === 0) throw new UsageError(`embed: the corpus ${values.corpus} produced no blocks`);
  log(`embed: ${n} blocks → ${storePath}`);
  const store = DocStore.open(storePath);
  try {
    const r = embedCorpus(realm.model.docEmbedder, realm.tokenizer, store, {
      outDir: join(values.out, '.embed-chunks'), batchSize: batch, blockLen, log,
    });
    const index = buildIndex(r.vectors, r.dim, { kind });
    index.save(join(values.out, MODEL_FILES.index));
    log(`embed: ${n} blocks in ${r.seconds.toFixed(1)} s (${r.blocksPerSecond.toFixed(1)} blocks/s) → ${join(values.out, MODEL_FILES.index)} (${index.constructor.name})`);
  } finally {
    store.close();
  }
  return 0;
}
