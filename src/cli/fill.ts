/**
 * `realm-lm fill "<text with [MASK]>"`: REALM inference from the shell (Guu et al. 2020 §2): retrieve passages for
 * the masked text, predict the masked words by marginalising over them, print the top predictions with p(y|x) and the
 * passages with p(z|x) and their support p(z|x,ŷ) for the best prediction ŷ (or JSON with --json).
 */
import { Realm, type FillOutput } from '../api/realm.js';
import { intOption, parseCommand } from './args.js';
import { UsageError } from './errors.js';

function clip(s: string, n: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
}

/** Human-readable fill output. */
export function formatFill(text: string, r: FillOutput, seconds: { load: number; fill: number }): string {
  const lines = [`${text}`, '', 'Predictions (p(y|x)):'];
  r.predictions.forEach((p, i) => lines.push(`  ${String(i + 1).padStart(2)}. ${p.text.padEnd(24)} ${p.prob.toFixed(4)}`));
  const best = r.predictions[0]?.text ?? '';
  lines.push('', `Evidence (p(z|x) = retrieval probability; support = p(z|x,ŷ), the passage's share of "${clip(best, 30)}"; by support):`);
  lines.push('  p(z|x)  support');
  for (const e of [...r.evidence].sort((a, b) => b.support - a.support || b.prob - a.prob)) lines.push(`  ${e.prob.toFixed(4)}  ${e.support.toFixed(4)}  [${e.blockId}] ${clip(e.title, 40)} — ${clip(e.text, 100)}`);
  lines.push(`  ${r.nullProb.toFixed(4)}  ${r.nullSupport.toFixed(4)}  (no passage: the model's own knowledge)`);
  lines.push('', `loaded in ${seconds.load.toFixed(2)} s, filled in ${seconds.fill.toFixed(3)} s`);
  return `${lines.join('\n')}\n`;
}

/** Runs the fill sub-command. */
export async function fillCommand(argv: string[]): Promise<number> {
  const { values, flags, positionals } = parseCommand('fill', argv, {
    model: { type: 'string', short: 'm' },
    corpus: { type: 'string' },
    index: { type: 'string' },
    k: { type: 'string', short: 'k' },
    top: { type: 'string', short: 'n' },
    json: { type: 'boolean' },
  }, 1);
  const text = positionals[0];
  if (text === undefined || text.trim() === '') throw new UsageError('fill: give a text with [MASK], e.g. realm-lm fill "Einstein was a [MASK]-born scientist."');
  if (!text.includes('[MASK]')) throw new UsageError(`fill: the text has no [MASK] token: ${JSON.stringify(text)}`);
  const k = intOption('fill', 'k', values.k, 0, 1000);
  const top = intOption('fill', 'top', values.top, 1, 100);
  const t0 = performance.now();
  const realm = await Realm.load({ modelDir: values.model, corpus: values.corpus, index: values.index });
  const t1 = performance.now();
  try {
    const r = await realm.fill(text, { k, top });
    const t2 = performance.now();
    if (flags.json) process.stdout.write(`${JSON.stringify({ text, ...r, seconds: { load: (t1 - t0) / 1000, fill: (t2 - t1) / 1000 } })}\n`);
    else process.stdout.write(formatFill(text, r, { load: (t1 - t0) / 1000, fill: (t2 - t1) / 1000 }));
  } finally {
    realm.close();
  }
  return 0;
}
