/**
 * GitHub-style webhook requests: a set of distinct `push` bodies, each signed
 * once with `X-Hub-Signature-256` (HMAC-SHA256 of the body, hex). GitHub does
 * not sign the `X-GitHub-Delivery` header, so a generator reuses a signed
 * body with a fresh delivery id per request and pays no HMAC per request.
 */
import { createHmac } from "node:crypto"

export interface SignedPayload {
  readonly body: string
  readonly signature: string
}

/** About 700 bytes, the size of a small `push` event with one commit. */
const pushBody = (index: number): string =>
  JSON.stringify({
    ref: "refs/heads/main",
    before: index.toString(16).padStart(40, "0"),
    after: (index + 1).toString(16).padStart(40, "0"),
    repository: {
      id: 100_000 + index,
      full_name: `bench-org/repo-${index}`,
      private: true,
      default_branch: "main",
    },
    pusher: { name: "bench-user", email: "bench@example.invalid" },
    installation: { id: 5_000_000 + (index % 16) },
    head_commit: {
      id: (index + 1).toString(16).padStart(40, "0"),
      message: `Update the benchmark fixture number ${index}`,
      timestamp: "2026-01-01T00:00:00Z",
      author: { name: "bench-user", email: "bench@example.invalid" },
      added: [],
      removed: [],
      modified: [`src/file-${index}.ts`, "README.md"],
    },
  })

export const signedPayloads = (secret: string, count: number): Array<SignedPayload> =>
  Array.from({ length: count }, (_, index) => {
    const body = pushBody(index)
    const digest = createHmac("sha256", secret).update(body).digest("hex")
    return { body, signature: `sha256=${digest}` }
  })

/** The header lines of a signed webhook request up to, not including, the delivery id value. */
export const webhookHead = (path: string, host: string, payload: SignedPayload): string =>
  `POST ${path} HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\n` +
  `user-agent: GitHub-Hookshot/bench\r\nx-github-event: push\r\n` +
  `x-hub-signature-256: ${payload.signature}\r\n` +
  `content-length: ${Buffer.byteLength(payload.body)}\r\nx-github-delivery: `

/**
 * Builds request bytes for sequence number `n`. Every `duplicateEvery`-th
 * request (0 for none) repeats the delivery id of an original request about
 * 100 earlier, which the receiver has already accepted.
 */
export const makeWebhookRequests = (options: {
  readonly path: string
  readonly host: string
  readonly payloads: ReadonlyArray<SignedPayload>
  readonly idPrefix: string
  readonly duplicateEvery: number
}) => {
  const heads = options.payloads.map((payload) => webhookHead(options.path, options.host, payload))
  return (n: number): { bytes: Buffer; duplicate: boolean } => {
    const every = options.duplicateEvery
    const duplicate = every > 0 && n >= 102 && n % every === 0
    // The repeated id must belong to a request that was itself an original.
    const original = (n - 101) % every === 0 ? n - 102 : n - 101
    const id = `${options.idPrefix}-${duplicate ? original : n}`
    const index = n % heads.length
    const text = `${heads[index]}${id}\r\n\r\n${options.payloads[index]!.body}`
    return { bytes: Buffer.from(text, "latin1"), duplicate }
  }
}
