// `--help` / `-h` for every benchmark script: prints the script's opening comment block (its description and usage)
// and exits, so asking for help never starts a long benchmark run.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Call first thing in a bench script with `import.meta.url`; exits 0 after printing the usage when asked for help. */
export function exitOnHelp(scriptUrl: string): void {
  if (!process.argv.includes('--help') && !process.argv.includes('-h')) return;
  const lines = readFileSync(fileURLToPath(scriptUrl), 'utf8').split('\n');
  const head: string[] = [];
  for (const line of lines) {
    const m = /^\s*(\/\/|\/\*\*?|\*\/?)\s?(.*)$/.exec(line);
    if (!m) break;
    head.push(m[2].replace(/\*\/$/, ''));
  }
  console.log(head.join('\n').trim());
  process.exit(0);
}

/** Every value given for a repeatable `--name` (e.g. several --model), in order. */
export function benchOptions(name: string): string[] {
  return process.argv.flatMap((a, i) => (a === `--${name}` && i + 1 < process.argv.length && !process.argv[i + 1].startsWith('--') ? [process.argv[i + 1]] : []));
}

/** The value of `--name` on the command line: the next argument, 'true' for a bare flag, undefined when absent. */
export function benchOption(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? 'true' : v;
}
