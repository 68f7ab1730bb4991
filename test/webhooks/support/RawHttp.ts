/**
 * Sends hand-written HTTP/1.1 requests over a TCP socket, for inputs that
 * `fetch` refuses to produce: wrong lengths, bodies cut short, malformed
 * chunk sizes, bytes outside ISO-8859-1 in headers.
 */
import { connect } from "node:net"
import { Effect } from "effect"

export interface RawResponse {
  /** Status code of the response, or undefined when the server closed without one. */
  readonly status: number | undefined
  readonly text: string
}

/**
 * Writes `head` and `body`, then either waits for the response or, with
 * `closeAfterWrite`, closes the write side at once (a client that went away).
 */
export const rawRequest = (
  baseUrl: string,
  head: string,
  body: Uint8Array | string = "",
  options: { readonly closeAfterWrite?: boolean } = {},
) =>
  Effect.callback<RawResponse>((resume) => {
    const url = new URL(baseUrl)
    const socket = connect(Number(url.port), url.hostname)
    const chunks: Array<Buffer> = []
    let done = false
    const finish = () => {
      if (done) return
      done = true
      const text = Buffer.concat(chunks).toString("latin1")
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text)
      resume(Effect.succeed({ status: match ? Number(match[1]) : undefined, text }))
    }
    socket.on("data", (chunk: Buffer) => chunks.push(chunk))
    socket.on("end", finish)
    socket.on("close", finish)
    socket.on("error", finish)
    socket.setTimeout(10_000, () => socket.destroy())
    socket.on("connect", () => {
      socket.write(Buffer.from(head.replaceAll("\n", "\r\n"), "latin1"))
      socket.write(typeof body === "string" ? Buffer.from(body, "latin1") : body)
      if (options.closeAfterWrite) socket.end()
    })
    return Effect.sync(() => socket.destroy())
  })
