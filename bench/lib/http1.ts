/**
 * A minimal HTTP/1.1 client over raw TCP sockets (`Bun.connect`), for load
 * generation. It keeps one request in flight per keep-alive connection and
 * parses only the status line, the framing headers and the body, which costs
 * far less CPU than `fetch` and lets the caller choose the exact number of
 * connections. Requests are pre-built byte strings.
 */
import type { Socket } from "bun"

export interface HttpResponse {
  readonly status: number
  /** The raw header block, for the few headers a scenario reads with `headerValue`. */
  readonly headers: string
  /** `headers` in lower case, for case-insensitive lookups. */
  readonly lowerHeaders: string
  readonly body: Buffer
}

export class RequestFailed extends Error {
  constructor(
    readonly reason: "connect" | "closed" | "timeout",
    message: string,
  ) {
    super(message)
  }
}

interface Waiter {
  readonly bytes: Uint8Array
  readonly resolve: (response: HttpResponse) => void
  readonly reject: (error: RequestFailed) => void
}

const HEADER_END = Buffer.from("\r\n\r\n")
const CRLF = Buffer.from("\r\n")

/** One keep-alive connection; `Pool` owns it and hands it one request at a time. */
class Connection {
  socket: Socket<Connection> | undefined
  waiter: Waiter | undefined
  sentAt = 0
  private buffer: Buffer = Buffer.alloc(0)
  private unsent: Uint8Array | undefined

  constructor(readonly pool: Pool) {}

  send(waiter: Waiter): void {
    this.waiter = waiter
    this.sentAt = performance.now()
    this.write(waiter.bytes)
  }

  write(bytes: Uint8Array): void {
    const socket = this.socket
    if (socket === undefined) return
    const written = socket.write(bytes)
    // A short write happens when the kernel buffer is full; the rest goes on drain.
    this.unsent = written < bytes.length ? bytes.subarray(Math.max(written, 0)) : undefined
  }

  drain(): void {
    if (this.unsent !== undefined) this.write(this.unsent)
  }

  receive(data: Buffer): void {
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data])
    const parsed = parseResponse(this.buffer)
    if (parsed === undefined) return
    this.buffer = this.buffer.subarray(parsed.consumed)
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.resolve(parsed.response)
    if (parsed.close) {
      this.socket?.end()
      return
    }
    this.pool.release(this)
  }

  fail(reason: RequestFailed["reason"], message: string): void {
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.reject(new RequestFailed(reason, message))
  }
}

/** Parses one complete response at the start of `buffer`, or returns undefined to wait for more. */
const parseResponse = (
  buffer: Buffer,
): { response: HttpResponse; consumed: number; close: boolean } | undefined => {
  const headerEnd = buffer.indexOf(HEADER_END)
  if (headerEnd < 0) return undefined
  const headers = buffer.toString("latin1", 0, headerEnd)
  const lowerHeaders = headers.toLowerCase()
  const status = Number(headers.slice(9, 12))
  const close = /\r\nconnection:\s*close/.test(lowerHeaders)
  const bodyStart = headerEnd + 4

  const length = /\r\ncontent-length:\s*(\d+)/.exec(lowerHeaders)
  if (length !== null) {
    const end = bodyStart + Number(length[1])
    if (buffer.length < end) return undefined
    return {
      response: { status, headers, lowerHeaders, body: buffer.subarray(bodyStart, end) },
      consumed: end,
      close,
    }
  }
  if (/\r\ntransfer-encoding:\s*chunked/.test(lowerHeaders)) {
    const chunks: Array<Buffer> = []
    let position = bodyStart
    for (;;) {
      const lineEnd = buffer.indexOf(CRLF, position)
      if (lineEnd < 0) return undefined
      const size = Number.parseInt(buffer.toString("latin1", position, lineEnd), 16)
      if (size === 0) {
        // Trailers are not used by the servers under test; expect the final CRLF.
        const end = lineEnd + 4
        if (buffer.length < end) return undefined
        return {
          response: { status, headers, lowerHeaders, body: Buffer.concat(chunks) },
          consumed: end,
          close,
        }
      }
      const chunkEnd = lineEnd + 2 + size
      if (buffer.length < chunkEnd + 2) return undefined
      chunks.push(buffer.subarray(lineEnd + 2, chunkEnd))
      position = chunkEnd + 2
    }
  }
  // 204, 304 and 1xx carry no body; others without framing are not sent by these servers.
  return {
    response: { status, headers, lowerHeaders, body: Buffer.alloc(0) },
    consumed: bodyStart,
    close,
  }
}

const handlers = {
  data: (socket: Socket<Connection>, data: Buffer) => socket.data.receive(data),
  drain: (socket: Socket<Connection>) => socket.data.drain(),
  close: (socket: Socket<Connection>) => socket.data.pool.closed(socket.data),
  error: (socket: Socket<Connection>, error: Error) =>
    socket.data.fail("closed", `socket error: ${error.message}`),
}

export interface PoolOptions {
  readonly host: string
  readonly port: number
  /** Most connections open at once; requests beyond them wait in a queue. */
  readonly maxConnections: number
  /** A request without a complete response after this long fails with `timeout`. */
  readonly timeoutMillis: number
}

/**
 * Keep-alive connections to one server. `request` uses an idle connection,
 * opens a new one while under `maxConnections`, or queues the request. Time
 * spent in the queue and in connecting is part of what the caller measures.
 */
export class Pool {
  private readonly idle: Array<Connection> = []
  private readonly open = new Set<Connection>()
  private readonly queue: Array<Waiter> = []
  private connecting = 0
  private readonly sweeper: ReturnType<typeof setInterval>

  constructor(readonly options: PoolOptions) {
    this.sweeper = setInterval(() => this.expire(), 250)
  }

  get size(): number {
    return this.open.size + this.connecting
  }

  request(bytes: Uint8Array): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject }
      const connection = this.idle.pop()
      if (connection !== undefined) return connection.send(waiter)
      this.queue.push(waiter)
      if (this.size < this.options.maxConnections) this.connect()
    })
  }

  /** Opens `count` connections ahead of use, at most `parallel` connects at a time. */
  async warm(count: number, parallel = 256): Promise<void> {
    const target = Math.min(count, this.options.maxConnections)
    while (this.size < target) {
      const batch = Math.min(parallel, target - this.size)
      const opened = await Promise.all(Array.from({ length: batch }, () => this.connect()))
      if (opened.includes(false)) {
        throw new RequestFailed("connect", `could not open ${target} connections`)
      }
    }
  }

  release(connection: Connection): void {
    const next = this.queue.shift()
    if (next === undefined) {
      this.idle.push(connection)
      return
    }
    connection.send(next)
  }

  closed(connection: Connection): void {
    connection.fail("closed", "connection closed before the response")
    connection.socket = undefined
    this.open.delete(connection)
    const index = this.idle.indexOf(connection)
    if (index >= 0) this.idle.splice(index, 1)
    if (this.queue.length > 0 && this.size < this.options.maxConnections) this.connect()
  }

  close(): void {
    clearInterval(this.sweeper)
    for (const waiter of this.queue.splice(0)) {
      waiter.reject(new RequestFailed("closed", "pool closed"))
    }
    for (const connection of this.open) connection.socket?.terminate()
  }

  private async connect(): Promise<boolean> {
    this.connecting++
    const connection = new Connection(this)
    try {
      connection.socket = await Bun.connect({
        hostname: this.options.host,
        port: this.options.port,
        data: connection,
        socket: handlers,
      })
      connection.socket.setNoDelay(true)
      this.open.add(connection)
    } catch (error) {
      this.connecting--
      // Without a connection the oldest queued request fails, so a refused
      // port is reported instead of waiting forever.
      this.queue.shift()?.reject(new RequestFailed("connect", `connect failed: ${String(error)}`))
      return false
    }
    this.connecting--
    this.release(connection)
    return true
  }

  private expire(): void {
    const deadline = performance.now() - this.options.timeoutMillis
    for (const connection of this.open) {
      if (connection.waiter !== undefined && connection.sentAt < deadline) {
        connection.fail("timeout", `no response within ${this.options.timeoutMillis} ms`)
        connection.socket?.terminate()
      }
    }
  }
}

/** Builds a request's bytes; `Content-Length` is set from `body`. */
export const buildRequest = (
  method: string,
  path: string,
  host: string,
  headers: Record<string, string>,
  body?: string | Uint8Array,
): Buffer => {
  const bodyBytes = body === undefined ? undefined : Buffer.from(body)
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`
  if (bodyBytes !== undefined) head += `content-length: ${bodyBytes.length}\r\n`
  head += "\r\n"
  const headBytes = Buffer.from(head, "latin1")
  return bodyBytes === undefined ? headBytes : Buffer.concat([headBytes, bodyBytes])
}

/** Returns the value of one response header, or undefined. `name` is lower-case. */
export const headerValue = (response: HttpResponse, name: string): string | undefined => {
  const start = response.lowerHeaders.indexOf(`\r\n${name}:`)
  if (start < 0) return undefined
  const valueStart = start + name.length + 3
  const end = response.headers.indexOf("\r\n", valueStart)
  return response.headers.slice(valueStart, end < 0 ? undefined : end).trim()
}
