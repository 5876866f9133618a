// Block cutting with the project's real BERT WordPiece tokenizer (src/tokenizer): a WordPiece vocabulary is
// trained on SQuAD dev paragraphs, then every block encoded as `[CLS] title [SEP] text [SEP]` by the tokenizer's
// own encode() must have at most 288 tokens, and its offsets must map back to the paragraph text; the offset-based
// fast path must give the same blocks as counting every span separately.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainWordPiece } from '../../src/tokenizer/trainer.js';
import { cutBlocks, REALM_BLOCK_CONFIG } from '../../src/corpus/blocks.js';
import { readJsonlCorpus } from '../../src/corpus/jsonl.js';
import type { CorpusDoc } from '../../src/corpus/types.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataDir = process.env.REALM_DATA_DIR ?? join(repoRoot, '..', 'shared', 'data');

test('blocks + BertTokenizer: encode(title, text) of every block has <= 288 tokens; offsets exact', async () => {
  const docs: CorpusDoc[] = [];
  for await (const d of readJsonlCorpus(join(dataDir, 'corpus', 'squad_v1.1_dev_paragraphs', 'paragraphs.jsonl'))) {
    docs.push(d);
    if (docs.length === 150) break;
  }
  // a small vocabulary makes many wordpieces per word, so several paragraphs need more than one block
  const tok = await trainWordPiece(docs.map((d) => `${d.title} ${d.text}`), { vocabSize: 600 });
  let multi = 0;
  let maxLen = 0;
  for (const doc of docs) {
    const blocks = cutBlocks(doc, tok, REALM_BLOCK_CONFIG);
    // one tokenisation with offsets gives the same blocks as re-tokenising every span
    assert.deepEqual(blocks, cutBlocks(doc, (s: string) => tok.tokenize(s).length, REALM_BLOCK_CONFIG));
    if (blocks.length > 1) multi++;
    let prevEnd = 0;
    for (const b of blocks) {
      assert.equal(b.text, doc.text.slice(b.start, b.end));
      assert.ok(b.start >= prevEnd);
      assert.match(doc.text.slice(prevEnd, b.start), /^\s*$/);
      const enc = tok.encode(b.title, b.text);
      assert.equal(enc.tokens[0], '[CLS]');
      assert.ok(enc.inputIds.length <= REALM_BLOCK_CONFIG.maxTokens, `${doc.id}: ${enc.inputIds.length} tokens`);
      maxLen = Math.max(maxLen, enc.inputIds.length);
      prevEnd = b.end;
    }
    assert.match(doc.text.slice(prevEnd), /^\s*$/);
  }
  assert.ok(multi > 10, `expected several multi-block paragraphs, got ${multi}`);
  assert.ok(maxLen > 250, `blocks are packed close to the limit (max ${maxLen})`);
});
