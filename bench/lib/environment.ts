/**
 * The scratch resources of one run, all removed at the end: a Postgres
 * database of its own on the shared server (the service migrates it from
 * empty), a Redis database number that must be empty at the start, a data
 * directory, and free loopback ports. Nothing outside them is written, so a
 * run never touches the data of tests running at the same time.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SQL } from "bun"
import IORedis from "ioredis"
import { onCleanup } from "./children.ts"

export interface Environment {
  readonly databaseUrl: string
  readonly databaseName: string
  readonly redisUrl: string
  readonly dataDir: string
}

/** A port that was free a moment ago on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const withDatabase = (serverUrl: string, name: string): string => {
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}

export const prepareEnvironment = async (options: {
  readonly postgresUrl: string
  readonly redisServerUrl: string
  readonly redisDb: number
  readonly runId: string
  readonly keepDatabase: boolean
}): Promise<Environment> => {
  const databaseName = `bench_${options.runId.replace(/[^a-z0-9]/g, "_")}`
  const admin = new SQL({ url: options.postgresUrl, max: 1 })
  await admin.unsafe(`CREATE DATABASE "${databaseName}"`)
  onCleanup(async () => {
    if (options.keepDatabase) {
      console.log(`kept the scratch database ${databaseName}`)
    } else {
      // FORCE (Postgres 13+) ends connections a killed service may have left behind.
      await admin.unsafe(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`)
    }
    await admin.close()
  })

  const serverUrl = options.redisServerUrl.replace(/\/\d*$/, "")
  const redisUrl = `${serverUrl}/${options.redisDb}`
  const redis = new IORedis(serverUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  // Selected explicitly: with the number in the URL, a failed SELECT would
  // leave the connection on database 0, which this run would then flush.
  try {
    await redis.select(options.redisDb)
  } catch (error) {
    await redis.quit()
    throw new Error(
      `Redis database ${options.redisDb} cannot be selected (${error instanceof Error ? error.message : String(error)}); ` +
        "choose an existing, empty one with --redis-db N.",
    )
  }
  const keys = await redis.dbsize()
  if (keys > 0) {
    await redis.quit()
    throw new Error(
      `Redis database ${options.redisDb} holds ${keys} ${keys === 1 ? "key" : "keys"}, so another ` +
        "user may own it; choose an empty one with --redis-db N.",
    )
  }
  onCleanup(async () => {
    // The database was empty at the start and only this run wrote to it.
    await redis.flushdb()
    await redis.quit()
  })

  const dataDir = mkdtempSync(join(tmpdir(), "bench-data-"))
  onCleanup(() => rmSync(dataDir, { recursive: true, force: true }))

  return {
    databaseUrl: withDatabase(options.postgresUrl, databaseName),
    databaseName,
    redisUrl,
    dataDir,
  }
}
