/**
 * Argument helpers of the CLI around `util.parseArgs`: strict parsing whose errors become UsageErrors with the
 * command's name, and integer options with range checks.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` strictly; unknown flags or missing values become a UsageError naming the command. */
export function parseCommand<O extends Options>(cmd: string, argv: string[], options: O, positionals = 0) {
  let r;
  try {
    r = parseArgs({ args: argv, options, allowPositionals: positionals > 0, strict: true });
  } catch (e) {
    throw new UsageError(`${cmd}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (r.positionals.length > positionals) throw new UsageError(`${cmd}: unexpected argument ${JSON.stringify(r.positionals[positionals])}`);
  return r;
}

/** An integer option in [min, max] (undefined when absent). */
export function intOption(cmd: string, name: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${cmd}: --${name} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}] (got ${JSON.stringify(value)})`);
  }
  return n;
}
