import { defineConfig } from "vitest/config";

// One runner for every suite: unit (core), integration (real Colyseus server),
// browser end-to-end (real headless Chromium). Suites that boot servers or
// browsers run in forked processes so a crash cannot take the runner down.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
