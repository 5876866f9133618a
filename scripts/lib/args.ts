// Command-line options of the training scripts (`--name value`): a string with a default, or a number that must parse;
// `--name` alone is a boolean flag.
/**
 * Options of one argv: get(name, default), num(name, default) (a TypeError names a non-numeric --name), flag(name),
 * need(name) (a TypeError when --name is missing or empty, pointing at the usage at the top of `script`).
 */
export function scriptArgs(argv: readonly string[], script = 'the script'): {
  get(name: string, def: string): string; num(name: string, def: number): number; flag(name: string): boolean; need(name: string): string;
} {
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
  const need = (name: string): string => {
    const v = get(name, '');
    if (!v) throw new TypeError(`--${name} is required (see the usage at the top of ${script})`);
    return v;
  };
  return { get, num, flag, need };
}
