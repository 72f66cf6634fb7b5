// Command-line flags of the vision tools: `--key value` or `--key=value`, every key known.

export function parseFlags(argv: string[], known: readonly string[]): Record<string, string> {
  const a: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (!k.startsWith("--")) throw new Error(`unexpected argument "${k}" (options look like --split train)`);
    const [key, inline] = k.slice(2).split("=", 2);
    a[key] = inline ?? argv[++i] ?? "";
  }
  for (const k of Object.keys(a)) if (!known.includes(k)) throw new Error(`unknown option --${k} (known: ${known.map((x) => "--" + x).join(" ")})`);
  return a;
}
