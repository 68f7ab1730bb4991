import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests share one Postgres database and one Redis server, so files run
    // one at a time; each file isolates its rows by random ids.
    fileParallelism: false,
    pool: "forks",
  },
})
