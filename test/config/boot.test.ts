/**
 * Start-up failures of the real entry point: each bad setting stops the
 * process with a message naming the variable and a non-zero exit code.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"

const dataDir = mkdtempSync(join(tmpdir(), "boot-test-"))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

const VALID_KEYS = "k1:WWRh9047wpaiYSziL6pcal9CSIH+xQKYJLr3EE0DFP0="
const VALID_ADMIN = "a".repeat(40)

const boot = async (env: Record<string, string>) => {
  const child = Bun.spawn(["bun", "src/main.ts"], {
    cwd: join(import.meta.dirname, "../.."),
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", DATA_DIR: dataDir, ...env },
    stdout: "pipe",
    stderr: "pipe",
  })
  const timer = setTimeout(() => child.kill(), 45_000)
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  clearTimeout(timer)
  return { exitCode, output: stdout + stderr }
}

describe("boot", () => {
  it("stops on a non-numeric PORT", async () => {
    const result = await boot({ PORT: "abc" })
    expect(result.exitCode).not.toBe(0)
    expect(result.output).toContain("PORT")
    expect(result.output).toContain('"abc"')
    expect(result.output).toContain("expected a TCP port")
  })

  it("stops on a malformed TOKEN_ENCRYPTION_KEYS without echoing it", async () => {
    const secret = "k1:c2hvcnQ="
    const result = await boot({
      PORT: "39871",
      TOKEN_ENCRYPTION_KEYS: secret,
      ADMIN_API_KEY: VALID_ADMIN,
    })
    expect(result.exitCode).not.toBe(0)
    expect(result.output).toContain("TOKEN_ENCRYPTION_KEYS")
    expect(result.output).not.toContain("c2hvcnQ=")
  })

  it("stops on an unreachable DATABASE_URL after the connect timeout", async () => {
    const result = await boot({
      PORT: "39871",
      DATABASE_URL: "postgres://postgres:hunter2secret@127.0.0.1:1/test",
      STORE_CONNECT_TIMEOUT: "2s",
      TOKEN_ENCRYPTION_KEYS: VALID_KEYS,
      ADMIN_API_KEY: VALID_ADMIN,
    })
    expect(result.exitCode).not.toBe(0)
    expect(result.output).toContain("DATABASE_URL")
    expect(result.output).toContain("127.0.0.1:1")
    expect(result.output).not.toContain("hunter2secret")
  })

  it("requires keys when a server store is configured", async () => {
    const result = await boot({ PORT: "39871", REDIS_URL: "redis://127.0.0.1:6379" })
    expect(result.exitCode).not.toBe(0)
    expect(result.output).toContain("TOKEN_ENCRYPTION_KEYS")
    expect(result.output).toContain("not set")
  })

  it("rejects a short ADMIN_API_KEY without echoing it", async () => {
    const result = await boot({ ADMIN_API_KEY: "shortsecret" })
    expect(result.exitCode).not.toBe(0)
    expect(result.output).toContain("ADMIN_API_KEY")
    expect(result.output).not.toContain("shortsecret")
  })

  it("rejects an unknown ROLE", async () => {
    const result = await boot({ ROLE: "scheduler" })
    expect(result.exitCode).not.toBe(0)
    expect(result.output).toContain("ROLE")
    expect(result.output).toContain("api, worker or all")
  })
})

describe("shutdown", () => {
  it("stops cleanly on SIGTERM after draining", async () => {
    const port = 39000 + Math.floor(Math.random() * 500)
    const child = Bun.spawn(["bun", "src/main.ts"], {
      cwd: join(import.meta.dirname, "../.."),
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        DATA_DIR: dataDir,
        PORT: String(port),
      },
      stdout: "pipe",
      stderr: "pipe",
    })
    const output = Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ])
    let ready = false
    for (let attempt = 0; attempt < 150 && !ready; attempt++) {
      ready = await fetch(`http://127.0.0.1:${port}/ready`).then(
        (response) => response.status === 200,
        () => false,
      )
      if (!ready) await Bun.sleep(100)
    }
    expect(ready).toBe(true)

    child.kill("SIGTERM")
    const exitCode = await child.exited
    const text = (await output).join("")
    expect(exitCode).toBe(0)
    expect(text).toContain("shutting down")
    expect(text).toContain("stopped")
  })
})

describe("settings", () => {
  const cases: ReadonlyArray<[string, string, string]> = [
    ["HOST", "not a host", "not a host name"],
    ["MAX_REQUEST_BODY", "9999999999mb", "larger than 1 GiB"],
    ["PUBLIC_URL", "https://u:hunter2pw@x.example", "user name or password"],
    ["PUBLIC_URL", "https://x.example/?q=1", "query or fragment"],
    ["PROVIDER_TIMEOUT", "0", "longer than zero"],
    ["WEBHOOK_DEDUP_WINDOW", "0", "longer than zero"],
    ["DEFAULT_DESTINATION_URL", "https://u:hunter2pw@h/x", "user name or password"],
    ["ALLOWED_REDIRECT_ORIGINS", "http://u:hunter2pw@a.test", "user name or password"],
    ["REDIS_KEY_PREFIX", "a".repeat(65), "longer than 64"],
  ]
  for (const [variable, value, problem] of cases) {
    it(`rejects ${variable}=${value.slice(0, 30)}`, async () => {
      const result = await boot({ [variable]: value })
      expect(result.exitCode).not.toBe(0)
      expect(result.output).toContain(variable)
      expect(result.output).toContain(problem)
      expect(result.output).not.toContain("hunter2pw")
    })
  }
})
