/**
 * `--key value` pairs over `defaults` (flag `--phrase-grammar` sets `phraseGrammar`): a string
 * default takes any value, a number default a whole number ≥ 0, or a share in [0, 1] for the keys
 * in `shares`. An unknown flag, a missing value or a bad number throws, naming the options.
 */
export function parsePairs<T extends Record<string, string | number>>(argv: string[], defaults: T, shares: readonly (keyof T)[] = []): T {
  const out: Record<string, string | number> = { ...defaults };
  const flag = (k: string) => "--" + k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
  const byFlag = new Map(Object.keys(defaults).map((k) => [flag(k), k]));
  for (let i = 0; i < argv.length; i += 2) {
    const [f, v] = [argv[i], argv[i + 1]];
    const key = byFlag.get(f);
    if (key === undefined) throw new Error(`unknown option "${f}"; options: ${[...byFlag.keys()].join(" ")}`);
    if (v === undefined) throw new Error(`${f} needs a value`);
    if (typeof defaults[key] === "string") { out[key] = v; continue; }
    const n = Number(v);
    if (shares.includes(key)) {
      if (!(n >= 0 && n <= 1)) throw new Error(`${f} needs a share in [0, 1], got "${v}"`);
    } else if (!Number.isInteger(n) || n < 0) throw new Error(`${f} needs a whole number, got "${v}"`);
    out[key] = n;
  }
  return out as T;
}
