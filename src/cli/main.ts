#!/usr/bin/env node
/**
 * The `realm-lm` command (package bin): REALM (Guu et al. 2020) from the shell — `fill` a [MASK] with retrieval,
 * `pretrain` from a config, `embed` / `index build` a corpus, `tokenize`. A top-level handler turns every error into
 * one line and an exit code (2 = bad input, 1 = internal); REALM_DEBUG=1 prints the stack as well.
 */
import { describeError, exitCodeFor } from './errors.js';
import { runCli } from './run.js';

function fail(e: unknown): never {
  process.stderr.write(`realm-lm: ${describeError(e)}\n`);
  if (process.env.REALM_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exit(exitCodeFor(e));
}

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, fail);
