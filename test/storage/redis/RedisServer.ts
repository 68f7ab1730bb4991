/**
 * A private redis-server on a free loopback port, for tests that stop and
 * restart Redis. Never touches the shared Redis on port 6379.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { createConnection, createServer } from "node:net"
import { Effect, Schedule } from "effect"

export const hasRedisServer = spawnSync("redis-server", ["--version"]).status === 0

export const freePort = Effect.callback<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const answersPing = (port: number) =>
  Effect.callback<boolean>((resume) => {
    const socket = createConnection({ host: "127.0.0.1", port })
    const done = (ok: boolean) => {
      socket.destroy()
      resume(Effect.succeed(ok))
    }
    socket.setTimeout(500, () => done(false))
    socket.on("error", () => done(false))
    socket.on("connect", () => socket.write("PING\r\n"))
    socket.on("data", (data) => done(data.toString().startsWith("+PONG")))
  })

export interface RedisServer {
  readonly port: number
  /** Freezes the process (SIGSTOP): connections stay open, nothing replies. */
  readonly pause: Effect.Effect<void>
  readonly resume: Effect.Effect<void>
  /** Kills the process (SIGKILL), as a crash would. */
  readonly kill: Effect.Effect<void>
  /** Starts a new process on the same port. */
  readonly restart: Effect.Effect<void>
}

/** Starts redis-server on `port` and stops it when the scope closes. */
export const startRedisServer = (port: number) =>
  Effect.gen(function* () {
    let process: ChildProcess | undefined

    const kill = Effect.callback<void>((resume) => {
      const current = process
      if (current === undefined || current.exitCode !== null || current.signalCode !== null) {
        return resume(Effect.void)
      }
      current.once("exit", () => resume(Effect.void))
      current.kill("SIGCONT")
      current.kill("SIGKILL")
    })

    const start = Effect.gen(function* () {
      process = spawn(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        { stdio: "ignore" },
      )
      yield* answersPing(port).pipe(
        Effect.filterOrFail((ok) => ok),
        Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 100 }),
        Effect.orDie,
      )
    })

    yield* Effect.acquireRelease(start, () => kill)
    const server: RedisServer = {
      port,
      pause: Effect.sync(() => process?.kill("SIGSTOP")),
      resume: Effect.sync(() => process?.kill("SIGCONT")),
      kill,
      restart: Effect.andThen(kill, start),
    }
    return server
  })

// A cluster node also listens on its port + 10000 for the cluster bus, so
// both must be free.
const canListen = (port: number) =>
  Effect.callback<boolean>((resume) => {
    const server = createServer()
    server.once("error", () => resume(Effect.succeed(false)))
    server.listen(port, "127.0.0.1", () => server.close(() => resume(Effect.succeed(true))))
  })

const freeClusterPort = Effect.gen(function* () {
  while (true) {
    const port = 20_000 + Math.floor(Math.random() * 20_000)
    if ((yield* canListen(port)) && (yield* canListen(port + 10_000))) return port
  }
})

const clusterIsReady = (ports: ReadonlyArray<number>) =>
  Effect.sync(() =>
    ports.every((port) => {
      const info = spawnSync("redis-cli", ["-p", String(port), "cluster", "info"], {
        encoding: "utf8",
      })
      return info.stdout.includes("cluster_state:ok")
    }),
  )

/**
 * Starts a Redis Cluster of three primaries without replicas in `dir`, and
 * stops it when the scope closes. Returns the node ports.
 */
export const startRedisCluster = (dir: string) =>
  Effect.gen(function* () {
    const ports: Array<number> = []
    for (let i = 0; i < 3; i++) ports.push(yield* freeClusterPort)
    for (const port of ports) {
      yield* Effect.acquireRelease(
        Effect.sync(() =>
          spawn(
            "redis-server",
            [
              ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir],
              ...["--save", "", "--appendonly", "no", "--cluster-enabled", "yes"],
              ...["--cluster-config-file", `nodes-${port}.conf`],
            ],
            { stdio: "ignore" },
          ),
        ),
        (node) =>
          Effect.callback<void>((resume) => {
            if (node.exitCode !== null || node.signalCode !== null) return resume(Effect.void)
            node.once("exit", () => resume(Effect.void))
            node.kill("SIGKILL")
          }),
      )
      yield* answersPing(port).pipe(
        Effect.filterOrFail((ok) => ok),
        Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 100 }),
        Effect.orDie,
      )
    }
    const created = spawnSync(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...ports.map((port) => `127.0.0.1:${port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { encoding: "utf8" },
    )
    if (created.status !== 0)
      return yield* Effect.die(new Error(`redis-cli --cluster create failed: ${created.stdout}`))
    yield* clusterIsReady(ports).pipe(
      Effect.filterOrFail((ok) => ok),
      Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 100 }),
      Effect.orDie,
    )
    return ports
  })
