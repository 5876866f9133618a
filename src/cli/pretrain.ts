/**
 * `realm-lm pretrain --config FILE`: REALM pre-training (or the MLM warm-up) from a JSON config with a progress line,
 * JSONL metrics and checkpoints; run it again after a crash or `kill -9` and it resumes from the newest checkpoint.
 */
import { readPretrainConfig } from '../train/pretrainConfig.js';
import { runPretrain } from '../train/pretrain.js';
import { intOption, parseCommand } from './args.js';
import { UsageError } from './errors.js';

/** Runs the pretrain sub-command. */
export async function pretrainCommand(argv: string[]): Promise<number> {
  const { values, flags } = parseCommand('pretrain', argv, {
    config: { type: 'string', short: 'c' },
    'stop-after': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (!values.config) throw new UsageError('pretrain: --config FILE is required (see configs/*.json)');
  const cfg = readPretrainConfig(values.config);
  const stopAfter = intOption('pretrain', 'stop-after', values['stop-after'], 1);
  if (flags.quiet) cfg.log.quiet = true;
  const r = await runPretrain(cfg, { stopAfter });
  const from = r.resumedFrom > 0 ? ` (resumed from step ${r.resumedFrom})` : '';
  if (!cfg.log.quiet) process.stderr.write(`done: step ${r.step}/${cfg.optim.steps}${from}, ${Number.isFinite(r.lastLoss) ? `last loss ${r.lastLoss.toFixed(4)}` : 'no steps left to run'}, ${r.seconds.toFixed(1)} s\n`);
  return 0;
}
