// Core placement for benchmarks that run their load generator on the machine they measure. On a
// 2-core machine the bots' process and the server's V8 helper threads keep taking the core the
// server's JavaScript thread runs on, and a 1-2 ms tick now and then waits ~4 ms for it (measured
// in /proc/<pid>/schedstat: 0.8 s of run-queue wait in 20 s). A deployed server has no bots beside
// it; giving its JavaScript thread core 0 and everything else the other cores measures that.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import os from "node:os";

/** The cores other than core 0, as taskset writes them ("1" or "1-15"). */
const OTHER_CORES = os.cpus().length > 2 ? `1-${os.cpus().length - 1}` : "1";

function setAffinity(tid: string, cores: string): void {
  execFileSync("taskset", ["-p", "-c", cores, tid], { stdio: "ignore" });
}

/** Whether placement can work here: at least 2 cores and util-linux's taskset. */
export function canPlaceCores(): boolean {
  if (os.cpus().length < 2) return false;
  try { execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" }); return true; } catch { return false; }
}

/**
 * In the measured process: its main (JavaScript) thread on core 0, every other thread it has now
 * (V8 platform workers, libuv) on the other cores. Call again after warm-up for threads made since.
 */
export function ownCoreForMainThread(): void {
  for (const tid of readdirSync("/proc/self/task")) setAffinity(tid, tid === String(process.pid) ? "0" : OTHER_CORES);
}

/** In the load generator: all of its threads off core 0. */
export function stayOffCoreZero(): void {
  for (const tid of readdirSync("/proc/self/task")) setAffinity(tid, OTHER_CORES);
}
