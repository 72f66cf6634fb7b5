import type { PackageFiles } from "./package.ts";

// fetch-based PackageFiles for the browser: `dir` passed to loadModelPackage is a URL prefix.
export function fetchPackageFiles(fetchFn: typeof fetch = fetch): PackageFiles {
  return {
    async read(path) {
      const r = await fetchFn(path);
      if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
      return new Uint8Array(await r.arrayBuffer());
    },
    async exists(path) {
      const r = await fetchFn(path, { method: "HEAD" });
      if (r.status !== 405 && r.status !== 501) return r.ok;
      // A server without HEAD: ask for the first byte instead.
      const g = await fetchFn(path, { headers: { Range: "bytes=0-0" } });
      await g.body?.cancel();
      return g.ok;
    },
  };
}
