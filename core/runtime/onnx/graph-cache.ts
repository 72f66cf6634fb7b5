import type { ModelConfig } from "../model/config.ts";
import { contentHash } from "../model/package.ts";

// Built decoder graphs are cached by a key over everything that changes the bytes: the builder
// version, the model config, the package hash (weight file sizes + mtimes on Node, content hash
// otherwise) and the build options.
export interface GraphCache {
  get(key: string): Promise<Uint8Array | null>;
  put(key: string, bytes: Uint8Array): Promise<void>;
}

export function graphCacheKey(parts: { builderVersion: number; config: ModelConfig; packageHash: string; options: unknown }): string {
  return contentHash(new TextEncoder().encode(JSON.stringify(parts)));
}
