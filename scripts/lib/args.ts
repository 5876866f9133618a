// Command-line options of the training scripts (`--name value`): a string with a default, or a number that must parse.
/** Options of one argv: get(name, default) and num(name, default) (a TypeError names a non-numeric --name). */
export function scriptArgs(argv: readonly string[]): { get(name: string, def: string): string; num(name: string, def: number): number } {
  const get = (name: string, def: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
  };
  const num = (name: string, def: number): number => {
    const v = Number(get(name, String(def)));
    if (!Number.isFinite(v)) throw new TypeError(`--${name} must be a number`);
    return v;
  };
  return { get, num };
}
