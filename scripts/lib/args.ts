// Command-line options of the training scripts (`--name value`): a string with a default, or a number that must parse;
// `--name` alone is a boolean flag.
/** Options of one argv: get(name, default), num(name, default) (a TypeError names a non-numeric --name), flag(name). */
export function scriptArgs(argv: readonly string[]): { get(name: string, def: string): string; num(name: string, def: number): number; flag(name: string): boolean } {
  const get = (name: string, def: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
  };
  const num = (name: string, def: number): number => {
    const v = Number(get(name, String(def)));
    if (!Number.isFinite(v)) throw new TypeError(`--${name} must be a number`);
    return v;
  };
  const flag = (name: string): boolean => argv.includes(`--${name}`);
  return { get, num, flag };
}
