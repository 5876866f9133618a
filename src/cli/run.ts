/**
 * Sub-command dispatch of the `realm-lm` CLI. Arguments are parsed with Node's built-in `util.parseArgs` (strict:
 * unknown flags are errors; no dependency needed for six sub-commands).
 */
import { packageVersion } from '../api/version.js';
import { UsageError } from './errors.js';

/** Usage text. */
export const USAGE = `realm-lm — REALM retrieval-augmented language model (Guu et al. 2020) in TypeScript

Usage:
  realm-lm fill "<text with [MASK]>" [--model DIR] [--corpus PATH] [--index PATH] [--k N] [--top N] [--json]
  realm-lm serve [--model DIR] [--corpus PATH] [--index PATH] [--port N] [--host ADDR]
  realm-lm pretrain --config FILE [--stop-after N] [--quiet]
  realm-lm embed --model DIR --corpus SPEC --out DIR [--kind auto|flat|scann] [--max-docs N] [--batch N]
  realm-lm index build ...      (same as embed)
  realm-lm tokenize "<text>" [--model DIR | --vocab FILE] [--json]
  realm-lm --help | --version

Commands:
  fill       predict the [MASK]ed words after retrieving supporting passages; prints predictions with probabilities
             and the evidence passages with their retrieval probabilities p(z|x)
  serve      HTTP API (POST /api/fill {"text", "k"?, "top"?} -> the same JSON as fill --json; GET /api/health) and a
             web page at / showing the predictions and the supporting passages with p(z|x); port 8080, host 127.0.0.1
  pretrain   train from a JSON config (configs/*.json); resumes from the newest checkpoint after a crash or kill
  embed      cut a corpus into blocks, store them (blocks.docs) and embed them into a MIPS index (index.bin)
  tokenize   show the WordPiece tokens and ids of a text

Options of fill:
  --model DIR    model directory (config.json, model.safetensors, vocab.txt; default: the packaged models/default)
  --corpus PATH  document store (.docs) to retrieve from (default: <model>/blocks.docs)
  --index PATH   index of that store (default: <model>/index.bin)
  --k N          passages retrieved (default 8)
  --top N        predictions shown (default 5)
  --json         machine-readable output

Environment: REALM_DEBUG=1 prints stack traces; REALM_BACKEND=js|native selects the tensor backend.
Exit codes: 0 ok, 2 bad input (flags, files, config), 1 internal error.`;

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  switch (cmd) {
    case 'fill':
      return (await import('./fill.js')).fillCommand(rest);
    case 'serve':
      return (await import('./serve.js')).serveCommand(rest);
    case 'pretrain':
      return (await import('./pretrain.js')).pretrainCommand(rest);
    case 'embed':
      return (await import('./embed.js')).embedCommand(rest);
    case 'index':
      if (rest[0] !== 'build') throw new UsageError(`unknown index sub-command ${JSON.stringify(rest[0] ?? '')} (expected: index build)`);
      return (await import('./embed.js')).embedCommand(rest.slice(1));
    case 'tokenize':
      return (await import('./tokenize.js')).tokenizeCommand(rest);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)} (try realm-lm --help)`);
  }
}
