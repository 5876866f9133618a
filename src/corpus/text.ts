// Streaming reader for plain-text corpora: one UTF-8 file, or a directory of them (recursively, `.txt` by
// default). Each paragraph (lines separated by a blank line) becomes one document titled with the file name;
// ids are `<relative path>#<paragraph index>`.
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative } from 'node:path';
import { readLines } from './lines.js';
import { CorpusError, type CorpusDoc, type ReaderOptions } from './types.js';

/** Options of the plain-text reader. */
export interface TextReaderOptions extends ReaderOptions {
  /** File extensions read when given a directory (default ['.txt']); ignored for a single file. */
  extensions?: string[];
}

/** Lists the files of a directory tree in sorted order, filtered by extension. */
async function listFiles(dir: string, extensions: string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && extensions.includes(extname(e.name).toLowerCase())) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

/** Yields one document per paragraph of the file(s); whitespace inside a paragraph is kept as in the file. */
export async function* readTextCorpus(path: string, options: TextReaderOptions = {}): AsyncGenerator<CorpusDoc> {
  let info;
  try {
    info = await stat(path);
  } catch (e) {
    throw new CorpusError(`cannot read text corpus ${path}: ${(e as Error).message}`, path);
  }
  const files = info.isDirectory() ? await listFiles(path, options.extensions ?? ['.txt']) : [path];
  let count = 0;
  for (const file of files) {
    const name = basename(file, extname(file));
    const rel = info.isDirectory() ? relative(path, file) : basename(file);
    let para: string[] = [];
    let k = 0;
    const flush = (): CorpusDoc | null => {
      const text = para.join('\n').trim();
      para = [];
      if (text === '') return null;
      return { id: `${rel}#${k++}`, title: name, text };
    };
    for await (const { text } of readLines(file)) {
      if (text.trim() === '') {
        const doc = flush();
        if (doc) {
          count++;
          yield doc;
        }
      } else {
        para.push(text);
      }
    }
    const doc = flush();
    if (doc) {
      count++;
      yield doc;
    }
  }
  if (count === 0 && (options.requireNonEmpty ?? true)) {
    throw new CorpusError(`${path}: empty corpus (no non-blank paragraph in ${files.length} file(s))`, path);
  }
}
