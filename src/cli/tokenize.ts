/**
 * `realm-lm tokenize "<text>"`: the BERT WordPiece tokens and ids of a text with a model directory's vocabulary
 * (or a vocab.txt) — handy to check how a [MASK] and the surrounding words are split.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultModelDir } from '../api/modelDir.js';
import { BertTokenizer } from '../tokenizer/bertTokenizer.js';
import { parseCommand } from './args.js';
import { UsageError } from './errors.js';

/** Runs the tokenize sub-command. */
export async function tokenizeCommand(argv: string[]): Promise<number> {
  const { values, flags, positionals } = parseCommand('tokenize', argv, {
    model: { type: 'string', short: 'm' },
    vocab: { type: 'string' },
    json: { type: 'boolean' },
  }, 1);
  const text = positionals[0];
  if (text === undefined) throw new UsageError('tokenize: give the text to tokenize, e.g. realm-lm tokenize "Hello world"');
  if (values.model && values.vocab) throw new UsageError('tokenize: give --model or --vocab, not both');
  const vocab = values.vocab ?? join(values.model ?? defaultModelDir(), 'vocab.txt');
  if (!existsSync(vocab)) throw new UsageError(`tokenize: vocabulary ${vocab} not found (use --vocab FILE or --model DIR)`);
  const tok = BertTokenizer.fromVocabFile(vocab);
  const enc = tok.encode(text);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ tokens: enc.tokens, ids: Array.from(enc.inputIds), offsets: enc.offsets })}\n`);
  } else {
    process.stdout.write(`${enc.tokens.map((t, i) => `${t}(${enc.inputIds[i]})`).join(' ')}\n`);
  }
  return 0;
}
