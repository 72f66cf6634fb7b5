import { readdir } from "node:fs/promises";
import type { BankFiles } from "../../core/runtime/lora/bank.ts";
import { nodePackageFiles } from "../../core/runtime/model/files-node.ts";

// Node file access for the adapter bank: the package reader plus folder listing.
export const nodeBankFiles: BankFiles = {
  ...nodePackageFiles,
  async listDirs(dir) {
    try {
      return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return [];
    }
  },
};
