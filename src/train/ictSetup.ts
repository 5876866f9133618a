/**
 * Set-up shared by the ICT training script and the retrieval benchmark (ORQA §4 / REALM §3.4 warm start on the
 * evidence corpus itself): our own WordPiece vocabulary trained on the corpus (cached as vocab.txt in a work
 * directory), the corpus passages as retrieval blocks (each ≤ 100-word passage is one block, title + text, as in the
 * BM25 benchmark so both retrievers search the same blocks), the retriever config (BERT-mini trunk by default) and
 * an optional warm start of both embedders' trunks from an MLM-trained BERT file.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readSharedCorpus, type SharedCorpusName } from '../corpus/shared.js';
import { loadSafetensors } from '../io/safetensors.js';
import { resolveAliases } from '../io/aliases.js';
import { CheckpointError } from '../io/errors.js';
import { bertMiniConfig, type RealmConfig } from '../model/config.js';
import { BertTokenizer } from '../tokenizer/bertTokenizer.js';
import { trainWordPiece } from '../tokenizer/trainer.js';
import { DOC_PREFIX, QUERY_PREFIX, type RealmScorer } from '../retriever/scorer.js';

/** A passage used as one retrieval block. */
export interface PassageBlock {
  /** Source document id. */
  docId: string;
  title: string;
  text: string;
}

/** Reads a shared corpus into memory as one block per passage (78,686 for enwiki2015_first300_p100). */
export async function readPassageBlocks(name: SharedCorpusName, dataDir?: string): Promise<PassageBlock[]> {
  const out: PassageBlock[] = [];
  for await (const d of readSharedCorpus(name, { dataDir, onError: 'stop' })) out.push({ docId: d.id, title: d.title, text: d.text });
  return out;
}

/** Loads `<workDir>/vocab.txt`, or trains a WordPiece vocabulary of `vocabSize` on the blocks and saves it there. */
export async function loadOrTrainVocab(
  workDir: string, blocks: readonly PassageBlock[], vocabSize: number, log: (l: string) => void = () => {},
): Promise<BertTokenizer> {
  mkdirSync(workDir, { recursive: true });
  const path = join(workDir, 'vocab.txt');
  if (existsSync(path)) return BertTokenizer.fromVocabFile(path);
  const t0 = performance.now();
  function* texts(): Generator<string> {
    for (const b of blocks) {
      yield b.title;
      yield b.text;
    }
  }
  const tok = await trainWordPiece(texts(), { vocabSize, minFrequency: 2, limitAlphabet: 1000 });
  tok.saveVocabTxt(path);
  log(`vocab: trained ${tok.config.vocab.length} wordpieces on ${blocks.length} blocks in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${path}`);
  return tok;
}

/** The retriever config: BERT-mini (2 layers, hidden 256) over the given vocabulary, [PAD] = id `padId`. */
export function retrieverConfig(vocabSize: number, padId: number, overrides: Partial<RealmConfig> = {}): RealmConfig {
  return bertMiniConfig({ vocab_size: vocabSize, pad_token_id: padId, max_position_embeddings: 512, ...overrides });
}

/**
 * Warm-starts both embedders' BERT trunks from a BERT checkpoint (`bert.*` or `realm.*` names, e.g. an MLM run's
 * model.safetensors); the projections keep their initialisation. Returns how many tensors were copied per side.
 */
export function warmStartTrunks(scorer: RealmScorer, path: string): number {
  const f = resolveAliases(loadSafetensors(path));
  let copied = 0;
  for (const [side, emb] of [[DOC_PREFIX, scorer.docEmbedder], [QUERY_PREFIX, scorer.queryEmbedder]] as const) {
    let n = 0;
    for (const [name, t] of emb.bert.parameters()) {
      const rel = name.slice(`${side}realm.`.length);
      const src = f.get(`bert.${rel}`) ?? f.get(`realm.${rel}`);
      if (!src) throw new CheckpointError(path, `no trunk tensor bert.${rel} / realm.${rel} to warm-start ${name}`);
      if (src.data.length !== t.size || !(src.data instanceof Float32Array)) {
        throw new CheckpointError(path, `tensor for ${name} has ${src.data.length} values, expected ${t.size} floats`);
      }
      t.data.set(src.data);
      n++;
    }
    copied = n;
  }
  return copied;
}
