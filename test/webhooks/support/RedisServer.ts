/**
 * A private `redis-server` on a free loopback port, for fault tests that stop
 * and restart Redis. It writes an append-only file fsynced on every write, so
 * a restart loses nothing that Redis acknowledged. The shared Redis server is
 * never touched.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { freePort } from "../../support/TestApp.ts"

export interface PrivateRedis {
  readonly url: string
  /** Kills the server with SIGKILL, as a crash would. */
  readonly stop: Effect.Effect<void>
  /** Starts the server again on the same port and data directory. */
  readonly start: Effect.Effect<void>
}

export const hasRedisServer = Bun.which("redis-server") !== null

const waitUntilReady = (port: number) =>
  Effect.promise(async () => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const reply = Bun.spawnSync(["redis-cli", "-p", String(port), "ping"]).stdout.toString()
      if (reply.trim() === "PONG") return
      await Bun.sleep(25)
    }
    throw new Error(`redis-server on port ${port} did not start`)
  })

/** Starts the server for the scope's lifetime. */
export const startPrivateRedis = Effect.gen(function* () {
  const port = yield* freePort
  const dir = mkdtempSync(join(tmpdir(), "webhook-redis-"))
  let child: ReturnType<typeof Bun.spawn> | undefined

  const start = Effect.suspend(() => {
    child = Bun.spawn(
      [
        "redis-server",
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
      ],
      { stdout: "ignore", stderr: "ignore" },
    )
    return waitUntilReady(port)
  })
  const stop = Effect.promise(async () => {
    child?.kill("SIGKILL")
    await child?.exited
  })

  yield* Effect.acquireRelease(start, () =>
    Effect.andThen(
      stop,
      Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
    ),
  )
  const redis: PrivateRedis = { url: `redis://127.0.0.1:${port}`, stop, start }
  return redis
})
