import type { AdapterBank } from "../../core/runtime/lora/bank.ts";

// Hot reload: every `intervalMs` the bank stats the files of the packs it holds and reloads the
// changed ones. Polling (a few stat calls per pack) rather than fs.watch: it behaves the same on
// every platform and on network or container mounts, and a half-written file is simply rejected
// and retried at the next change. Errors are reported, never thrown: the room keeps running.
export function watchAdapters(
  bank: AdapterBank,
  opts: { intervalMs?: number; onReload?: (ids: string[]) => void; onError?: (e: unknown) => void } = {},
): { stop(): void } {
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const ids = await bank.checkForChanges();
      if (ids.length) opts.onReload?.(ids);
    } catch (e) {
      opts.onError?.(e);
    } finally {
      busy = false;
    }
  }, opts.intervalMs ?? 2000);
  timer.unref?.();
  return { stop: () => clearInterval(timer) };
}
