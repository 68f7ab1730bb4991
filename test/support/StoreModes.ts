/**
 * The store modes a test runs in: always the embedded stores, and the
 * Postgres and Redis servers when TEST_DATABASE_URL and TEST_REDIS_URL are
 * set (CI sets both).
 */
export type StoreMode = "embedded" | "servers"

export const testDatabaseUrl = process.env.TEST_DATABASE_URL
export const testRedisUrl = process.env.TEST_REDIS_URL

export const storeModes: ReadonlyArray<StoreMode> =
  testDatabaseUrl && testRedisUrl ? ["embedded", "servers"] : ["embedded"]

/** True when the server-mode URLs are set. */
export const hasServers = storeModes.includes("servers")
