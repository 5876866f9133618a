// Streams the lines of a (possibly gzip-compressed) UTF-8 text file with 1-based line numbers, decoding each
// line strictly so that invalid UTF-8 is reported with file and line instead of being replaced by U+FFFD.
// Gzip is detected from the magic bytes (1f 8b), not the file name, so `.jsonl.gz` and dictzip files both work.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { CorpusError } from './types.js';

/** One decoded line of a text file. */
export interface FileLine {
  /** 1-based line number. */
  line: number;
  /** Line content without the trailing `\n` / `\r\n`. */
  text: string;
}

/** True when the file starts with the gzip magic bytes. */
export async function isGzipFile(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new CorpusError(`cannot open ${path}: ${(e as Error).message}`, path);
  }
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Opens a byte stream of the file's (decompressed) content. */
export async function openByteStream(path: string): Promise<Readable> {
  const gz = await isGzipFile(path);
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!gz) return raw;
  const gunzip = createGunzip();
  raw.on('error', (e) => gunzip.destroy(e));
  return raw.pipe(gunzip);
}

/**
 * Yields the lines of the file (plain or gzip) in batches (one batch per ~1 MiB chunk, fewer async hops),
 * strictly UTF-8 decoded; a trailing empty line is not yielded.
 */
export async function* readLineBatches(path: string): AsyncGenerator<FileLine[]> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const stream = await openByteStream(path);
  let carry: Buffer = Buffer.alloc(0);
  let lineNo = 0;
  const decode = (bytes: Buffer): string => {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
    try {
      return decoder.decode(bytes.subarray(0, end));
    } catch {
      throw new CorpusError(`${path}:${lineNo}: invalid UTF-8 byte sequence`, path, lineNo);
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const batch: FileLine[] = [];
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(0x0a, start);
        if (nl < 0) break;
        lineNo++;
        batch.push({ line: lineNo, text: decode(buf.subarray(start, nl)) });
        start = nl + 1;
      }
      carry = Buffer.from(buf.subarray(start));
      if (batch.length > 0) yield batch;
    }
  } catch (e) {
    if (e instanceof CorpusError) throw e;
    throw new CorpusError(`${path}: read failed after line ${lineNo}: ${(e as Error).message}`, path, lineNo);
  } finally {
    stream.destroy();
  }
  if (carry.length > 0) {
    lineNo++;
    yield [{ line: lineNo, text: decode(carry) }];
  }
}

/** Yields every line of the file (plain or gzip), strictly UTF-8 decoded; a trailing empty line is not yielded. */
export async function* readLines(path: string): AsyncGenerator<FileLine> {
  for await (const batch of readLineBatches(path)) yield* batch;
}
