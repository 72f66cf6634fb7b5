import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { GraphCache } from "./graph-cache.ts";

// Graph cache as files `<dir>/decoder-<key>.onnx`, written to a temp name then renamed so a crash
// never leaves a half-written graph under the real name.
export class FileGraphCache implements GraphCache {
  constructor(private readonly dir: string) {}

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const b = await readFile(join(this.dir, `decoder-${key}.onnx`));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch {
      return null;
    }
  }
  async put(key: string, bytes: Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `decoder-${key}.onnx.${process.pid}.tmp`);
    await writeFile(tmp, bytes);
    await rename(tmp, join(this.dir, `decoder-${key}.onnx`));
  }
}
