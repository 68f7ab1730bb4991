/**
 * Runs a private `clickhouse-server` for tests: its own config, users and
 * data in a temporary directory, listening on free loopback ports only. It
 * never touches a system service or the default port 8123.
 *
 * The binary is Debian's `clickhouse-server` package (`apt-get install -y
 * clickhouse-server`, release 18.16 on bookworm) or any later release; set
 * CLICKHOUSE_SERVER_BIN to use another one. Release 18.16 reads `<yandex>`
 * as the config root, which later releases still accept.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Redacted } from "effect"

const CANDIDATES = ["/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"]

/** The server binary, or `undefined` when none is installed. */
export const serverBinary: string | undefined =
  process.env.CLICKHOUSE_SERVER_BIN ?? CANDIDATES.find((path) => existsSync(path))

export const TEST_USER = "analytics"
export const TEST_PASSWORD = "pw-Ckh7-never-logged"

/** Asks the kernel for a free loopback TCP port. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() =>
        typeof address === "object" && address !== null
          ? resolve(address.port)
          : reject(new Error("no port")),
      )
    })
  })

const configXml = (
  root: string,
  httpPort: number,
  tcpPort: number,
): string => `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${root}/log/server.log</log>
    <errorlog>${root}/log/error.log</errorlog>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <path>${root}/data/</path>
  <tmp_path>${root}/tmp/</tmp_path>
  <user_files_path>${root}/user_files/</user_files_path>
  <format_schema_path>${root}/format_schemas/</format_schema_path>
  <users_config>${root}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
</yandex>
`

const usersXml = `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <${TEST_USER}>
      <password>${TEST_PASSWORD}</password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </${TEST_USER}>
  </users>
  <quotas><default></default></quotas>
</yandex>
`

export interface ClickHouseServer {
  /** `http://user:password@127.0.0.1:port`. */
  readonly url: Redacted.Redacted<string>
  readonly httpPort: number
  /** Starts the server process and waits until `/ping` returns 200. */
  readonly start: Effect.Effect<void>
  /**
   * Kills the server process, as a crash would, and waits for it to exit.
   * SIGKILL because release 18.16 takes 10 s to stop on SIGTERM.
   */
  readonly stop: Effect.Effect<void>
}

const isReady = (port: number): Promise<boolean> =>
  fetch(`http://127.0.0.1:${port}/ping`).then(
    (response) => response.ok,
    () => false,
  )

/** Prepares a server in a fresh temporary directory; the scope stops it and removes the directory. */
export const makeServer = (binary: string) =>
  Effect.gen(function* () {
    const root = mkdtempSync(join(tmpdir(), "clickhouse-server-"))
    for (const dir of ["data", "tmp", "user_files", "format_schemas", "log"]) {
      mkdirSync(join(root, dir), { recursive: true })
    }
    const httpPort = yield* Effect.promise(freePort)
    const tcpPort = yield* Effect.promise(freePort)
    writeFileSync(join(root, "config.xml"), configXml(root, httpPort, tcpPort))
    writeFileSync(join(root, "users.xml"), usersXml)
    let child: ChildProcess | undefined

    const stop = Effect.promise(async () => {
      const running = child
      child = undefined
      if (running === undefined || running.exitCode !== null) return
      const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()))
      running.kill("SIGKILL")
      await exited
    })

    const start = Effect.promise(async () => {
      child = spawn(binary, [`--config-file=${join(root, "config.xml")}`], {
        cwd: root,
        stdio: "ignore",
      })
      // Bounded wait: 600 polls of 50 ms. Release 18.16 starts in about a second.
      for (let attempt = 0; attempt < 600; attempt++) {
        if (await isReady(httpPort)) return
        if (child.exitCode !== null) break
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error(`clickhouse-server did not start; see ${root}/log/error.log`)
    })

    yield* Effect.addFinalizer(() =>
      stop.pipe(Effect.andThen(Effect.sync(() => rmSync(root, { recursive: true, force: true })))),
    )
    const server: ClickHouseServer = {
      url: Redacted.make(`http://${TEST_USER}:${TEST_PASSWORD}@127.0.0.1:${httpPort}`),
      httpPort,
      start,
      stop,
    }
    return server
  })
