import { readFile, stat } from "node:fs/promises";
import type { PackageFiles } from "./package.ts";

// Node implementation of PackageFiles (server, tests, CLIs). Only imported from Node code.
export const nodePackageFiles: PackageFiles = {
  async read(path) {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  },
  async exists(path) {
    try {
      return (await stat(path)).isFile();
    } catch {
      return false;
    }
  },
  async stat(path) {
    const s = await stat(path);
    return { size: s.size, mtimeMs: s.mtimeMs };
  },
};
