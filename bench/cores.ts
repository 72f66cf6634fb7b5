// Core placement for benchmarks that run their load generator on the machine they measure. On a
// 2-core machine the bots' process and the server's V8 helper threads keep taking the core the
// server's JavaScript thread runs on, and a 1-2 ms tick now and then waits ~4 ms for it (measured
// in /proc/<pid>/schedstat: 0.8 s of run-queue wait in 20 s). A deployed server has no bots beside
// it; giving its JavaScript thread a core of its own and everything else the other cores measures that.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** The cores this process may run on (Linux `Cpus_allowed_list`, e.g. "0-3,6"); [] when unknown. */
function allowedCores(): number[] {
  try {
    const line = readFileSync("/proc/self/status", "utf8").match(/^Cpus_allowed_list:\s*(.+)$/m)?.[1] ?? "";
    return line.split(",").flatMap((part) => {
      const [a, b] = part.split("-").map(Number);
      return Array.from({ length: (b ?? a) - a + 1 }, (_, k) => a + k);
    }).filter(Number.isInteger);
  } catch {
    return [];
  }
}

/** Which core the measured thread gets and which the rest share, or null where placement cannot work. */
export interface CorePlan { server: string; others: string }

/** A plan when this process may use 2+ cores and util-linux's taskset runs here. */
export function planCores(): CorePlan | null {
  const cores = allowedCores();
  if (cores.length < 2) return null;
  try { execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" }); } catch { return null; }
  return { server: String(cores[0]), others: cores.slice(1).join(",") };
}

function setAffinity(tid: string, cores: string): void {
  execFileSync("taskset", ["-p", "-c", cores, tid], { stdio: "ignore" });
}

/**
 * In the measured process: its main (JavaScript) thread on the plan's server core, every other
 * thread it has now (V8 platform workers, libuv) on the others. Call again after warm-up for
 * threads made since.
 */
export function ownCoreForMainThread(plan: CorePlan): void {
  for (const tid of readdirSync("/proc/self/task")) setAffinity(tid, tid === String(process.pid) ? plan.server : plan.others);
}

/** In the load generator: all of its threads on the plan's other cores. */
export function stayOffServerCore(plan: CorePlan): void {
  for (const tid of readdirSync("/proc/self/task")) setAffinity(tid, plan.others);
}
