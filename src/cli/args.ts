/**
 * Argument helpers of the CLI around `util.parseArgs`: strict parsing whose errors become UsageErrors with the
 * command's name, and integer options with range checks.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parsed flags and positionals. */
export interface ParsedCommand {
  /** String options by name. */
  values: Record<string, string | undefined>;
  /** Boolean flags by name. */
  flags: Record<string, boolean | undefined>;
  positionals: string[];
}

/** Parses `argv` strictly; unknown flags or missing values become a UsageError naming the command. */
export function parseCommand(cmd: string, argv: string[], options: Options, positionals = 0): ParsedCommand {
  let r;
  try {
    r = parseArgs({ args: argv, options, allowPositionals: positionals > 0, strict: true });
  } catch (e) {
    throw new UsageError(`${cmd}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (r.positionals.length > positionals) throw new UsageError(`${cmd}: unexpected argument ${JSON.stringify(r.positionals[positionals])}`);
  const values: ParsedCommand['values'] = {};
  const flags: ParsedCommand['flags'] = {};
  for (const [k, v] of Object.entries(r.values)) {
    if (typeof v === 'boolean') flags[k] = v;
    else if (typeof v === 'string') values[k] = v;
  }
  return { values, flags, positionals: r.positionals };
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
