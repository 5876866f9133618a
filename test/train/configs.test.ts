/**
 * The example configs in configs/ parse and validate against the current PretrainConfig (every key known, values in
 * range), with paths resolved relative to configs/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readPretrainConfig } from '../../src/train/pretrainConfig.js';
import { ROOT } from './helpers.js';

test('configs/*.json are valid pre-training configs', () => {
  const files = readdirSync(join(ROOT, 'configs')).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 3);
  for (const f of files) {
    const c = readPretrainConfig(join(ROOT, 'configs', f));
    assert.ok(c.outputDir.startsWith(join(ROOT, 'runs')), `${f}: outputDir under runs/`);
  }
});
