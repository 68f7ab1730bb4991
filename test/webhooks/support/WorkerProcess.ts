/**
 * Runs `bun src/main.ts` as a separate worker process against the test's
 * Postgres and Redis servers, so a test can kill it with SIGKILL mid-batch
 * the way a crashed container dies.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { TEST_KEY_RING } from "../../support/TestApp.ts"

export interface WorkerProcess {
  readonly pid: number
  /** Sends SIGKILL and waits for the exit: no finalizer runs, pending entries stay with the dead consumer. */
  readonly kill: Effect.Effect<number | null>
  /** Everything the process wrote to stdout and stderr so far. */
  readonly output: () => string
}

const root = join(import.meta.dirname, "../../..")

/** Starts a worker process for the scope's lifetime; it is killed when the scope closes. */
export const startWorkerProcess = (env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dataDir = mkdtempSync(join(tmpdir(), "webhook-worker-"))
      const child = Bun.spawn(["bun", "src/main.ts"], {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "",
          ROLE: "worker",
          DATA_DIR: dataDir,
          LOG_LEVEL: "info",
          TOKEN_ENCRYPTION_KEYS: TEST_KEY_RING,
          ADMIN_API_KEY: `admin-${crypto.randomUUID()}`,
          ...env,
        },
        stdout: "pipe",
        stderr: "pipe",
      })
      let text = ""
      const collect = async (stream: ReadableStream<Uint8Array>) => {
        const decoder = new TextDecoder()
        for await (const chunk of stream) text += decoder.decode(chunk)
      }
      void collect(child.stdout)
      void collect(child.stderr)
      const worker: WorkerProcess = {
        pid: child.pid,
        kill: Effect.promise(async () => {
          child.kill("SIGKILL")
          await child.exited
          return child.signalCode === "SIGKILL" ? 9 : child.exitCode
        }),
        output: () => text,
      }
      return { child, worker, dataDir }
    }),
    ({ child, dataDir }) =>
      Effect.promise(async () => {
        child.kill("SIGKILL")
        await child.exited
        rmSync(dataDir, { recursive: true, force: true })
      }),
  ).pipe(Effect.map(({ worker }) => worker))
