import { describe, expect, it } from "@effect/vitest"
import { sign } from "@octokit/webhooks-methods"
import { Effect, Redacted } from "effect"
import { GitHubVerifier } from "../../../src/webhooks/verify/GitHub.ts"
import { expectNoLeak, makeRequest } from "./support.ts"

const secret = "github-webhook-secret"
const now = 1_700_000_000
const config = { secrets: [Redacted.make(secret)], options: {} }

const githubRequest = (signature: string, body: string) =>
  makeRequest(
    {
      "X-Hub-Signature-256": signature,
      "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      "X-GitHub-Event": "push",
    },
    body,
    now,
  )

describe("GitHub webhook signatures", () => {
  it.effect("verifies the published vector", () =>
    Effect.gen(function* () {
      const request = githubRequest(
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        "Hello, World!",
      )
      const delivery = yield* GitHubVerifier.verify(request, {
        secrets: [Redacted.make("It's a Secret to Everybody")],
        options: {},
      })

      expect(delivery.deliveryId).toBe("72d3162e-cc78-11e3-81ab-4c9367dc0958")
      expect(delivery.eventType).toBe("push")
      expect(delivery.routingKey).toBeUndefined()
    }),
  )

  it.effect("verifies a pretty-printed body byte for byte", () =>
    Effect.gen(function* () {
      const body = `${JSON.stringify({ action: "opened", installation: { id: 42 } }, null, 2)}\n`
      const signature = yield* Effect.promise(() => sign(secret, body))

      const delivery = yield* GitHubVerifier.verify(githubRequest(signature, body), config)
      expect(delivery.routingKey).toBe("42")

      const crlf = body.replaceAll("\n", "\r\n")
      const crlfError = yield* Effect.flip(
        GitHubVerifier.verify(githubRequest(signature, crlf), config),
      )
      expect(crlfError.code).toBe("signature_mismatch")

      const trimmed = body.slice(0, -1)
      const trimmedError = yield* Effect.flip(
        GitHubVerifier.verify(githubRequest(signature, trimmed), config),
      )
      expect(trimmedError.code).toBe("signature_mismatch")
    }),
  )

  it.effect("reads the installation of a form-encoded delivery", () =>
    Effect.gen(function* () {
      const payload = JSON.stringify({ installation: { id: 7 } })
      const body = new URLSearchParams({ payload }).toString()
      const signature = yield* Effect.promise(() => sign(secret, body))

      const delivery = yield* GitHubVerifier.verify(githubRequest(signature, body), config)
      expect(delivery.routingKey).toBe("7")
    }),
  )

  it.effect("accepts the old and the new secret during rotation", () =>
    Effect.gen(function* () {
      const rotating = {
        secrets: [Redacted.make("github-old"), Redacted.make("github-new")],
        options: {},
      }
      for (const key of ["github-old", "github-new"]) {
        const signature = yield* Effect.promise(() => sign(key, "{}"))
        yield* GitHubVerifier.verify(githubRequest(signature, "{}"), rotating)
      }

      const foreign = yield* Effect.promise(() => sign("github-other", "{}"))
      const error = yield* Effect.flip(
        GitHubVerifier.verify(githubRequest(foreign, "{}"), rotating),
      )
      expect(error.code).toBe("signature_mismatch")
      expect(error.header).toBe("x-hub-signature-256")
      expectNoLeak(error, ["github-old", "github-new", foreign.slice(7)])
    }),
  )

  it.effect("rejects malformed signature headers", () =>
    Effect.gen(function* () {
      const valid = yield* Effect.promise(() => sign(secret, "{}"))
      const hex = valid.slice("sha256=".length)
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["garbage", "malformed_header"],
        ["", "malformed_header"],
        [hex, "malformed_header"],
        [`sha1=${hex.slice(0, 40)}`, "malformed_header"],
        [`sha256=${hex.slice(0, 63)}`, "signature_mismatch"],
        [`sha256=${hex}00`, "signature_mismatch"],
        [`sha256=${Buffer.from(hex, "hex").toString("base64")}`, "signature_mismatch"],
        [`sha256=${"g".repeat(64)}`, "signature_mismatch"],
        [`sha256=${"0".repeat(20_000)}`, "malformed_header"],
      ]
      for (const [signature, reason] of cases) {
        const error = yield* Effect.flip(
          GitHubVerifier.verify(githubRequest(signature, "{}"), config),
        )
        expect(error.reason, signature.slice(0, 20)).toBe(reason)
      }
    }),
  )
})
