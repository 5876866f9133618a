/**
 * CLI error policy: bad input (unknown flags, missing files, invalid configs or model directories, text without
 * [MASK]) ends the process with ONE clear line on stderr and exit code 2; anything unexpected with exit code 1. Stack
 * traces only with REALM_DEBUG=1.
 */

/** Wrong usage of the command line (exit 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Error classes of the library that mean "your input is bad" (exit 2), by name. */
const INPUT_ERRORS = new Set([
  'UsageError', 'ConfigError', 'PretrainConfigError', 'CheckpointError', 'CorpusError', 'IndexFileError',
  'IndexArgumentError', 'TokenizerError', 'VocabFormatError', 'TruncationError', 'RealmInputError', 'ModelDirError',
  'FillInputError', 'SafetensorsError',
]);
const INPUT_CODES = new Set(['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'ERR_PARSE_ARGS_UNKNOWN_OPTION',
  'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL']);

/** Exit code for an error: 2 for bad input, 1 otherwise. */
export function exitCodeFor(e: unknown): number {
  if (!(e instanceof Error)) return 1;
  const code = (e as NodeJS.ErrnoException).code;
  return INPUT_ERRORS.has(e.name) || (code !== undefined && INPUT_CODES.has(code)) ? 2 : 1;
}

/** One-line description of an error for stderr. */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const msg = e.message.split('\n')[0];
  return exitCodeFor(e) === 2 ? msg : `internal error: ${msg} (set REALM_DEBUG=1 for details)`;
}
