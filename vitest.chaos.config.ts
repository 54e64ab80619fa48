import { defineConfig } from "vitest/config";

// The chaos test of a cluster (npm run test:chaos): Redis and Deno, about 100 s a run.
export default defineConfig({
  test: {
    include: ["test/system/chaos.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
