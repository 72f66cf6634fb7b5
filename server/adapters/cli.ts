// npm run adapters -- hash <model dir>            base-model fingerprint for adapter.json base_model.hash
// npm run adapters -- list <model dir> [adapters]  load every pack against that base and print the operator view
import { baseModelHash } from "../../core/runtime/lora/base-hash.ts";
import { AdapterBank } from "../../core/runtime/lora/bank.ts";
import { nodePackageFiles } from "../../core/runtime/model/files-node.ts";
import { loadModelPackage } from "../../core/runtime/model/package.ts";
import { nodeBankFiles } from "./files.ts";

async function main(): Promise<void> {
  const [cmd, modelDir, root = "adapters"] = process.argv.slice(2);
  if (!cmd || !modelDir || !["hash", "list"].includes(cmd)) {
    console.error("usage: npm run adapters -- hash <model dir> | list <model dir> [adapters dir]");
    process.exit(2);
  }
  const pkg = await loadModelPackage(modelDir, nodePackageFiles);
  const hash = baseModelHash(pkg);
  if (cmd === "hash") {
    console.log(hash);
    return;
  }
  const bank = new AdapterBank({ root, files: nodeBankFiles, base: { config: pkg.config, hash, name: modelDir } });
  for (const a of await bank.list()) await bank.get(a.id).catch(() => undefined);
  console.log(JSON.stringify(await bank.list(), null, 2));
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
