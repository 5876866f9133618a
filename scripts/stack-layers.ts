// Deepens a BERT / REALM weight file by progressive stacking (src/model/stack.ts): encoder layer i of the output is
// layer order[i] of the input; every other tensor is copied. The output is what `model.init` of an MLM config with
// num_hidden_layers = order.length (or a reader with reader_num_hidden_layers) loads.
// Usage: node --import tsx scripts/stack-layers.ts --from <model.safetensors|dir> --to <out.safetensors>
//          --order 0,1,0,1 [--prefix bert.encoder.layer.]
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { saveSafetensors, type ArrayToSave } from '../src/io/safetensors.js';
import { stackEncoderLayers } from '../src/model/stack.js';
import { loadWeightsFile } from '../src/train/setup.js';
import { scriptArgs } from './lib/args.js';

function main(): void {
  const args = scriptArgs(process.argv.slice(2), 'scripts/stack-layers.ts');
  const order = args.need('order').split(',').map((s) => Number(s.trim()));
  if (order.some((i) => !Number.isInteger(i) || i < 0)) throw new Error(`--order must be comma-separated layer indices >= 0, got "${args.need('order')}"`);
  const to = args.need('to');
  const out = stackEncoderLayers(loadWeightsFile(args.need('from')), order, args.get('prefix', 'bert.encoder.layer.'));
  const tensors = new Map<string, ArrayToSave>([...out].map(([k, v]) => [k, { shape: v.shape, data: v.data }]));
  mkdirSync(dirname(to), { recursive: true });
  saveSafetensors(to, tensors, { format: 'pt' });
  process.stderr.write(`wrote ${tensors.size} tensors, ${order.length} encoder layers (from ${order.join(', ')}) to ${to}\n`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`stack-layers: ${(e as Error).message}\n`);
  process.exit(1);
}
