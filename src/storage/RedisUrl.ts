import { Redacted, Result } from "effect"

/** Host and port of one Redis node. */
export interface RedisNode {
  readonly host: string
  readonly port: number
}

/**
 * Parsed `REDIS_URL`: one server (`redis://` or `rediss://`) or the seed nodes
 * of a Redis Cluster. `display` names the target without credentials, for logs.
 */
export type RedisTarget =
  | {
      readonly _tag: "Standalone"
      readonly url: Redacted.Redacted<string>
      readonly display: string
    }
  | {
      readonly _tag: "Cluster"
      readonly nodes: ReadonlyArray<RedisNode>
      readonly username: string | undefined
      readonly password: Redacted.Redacted<string> | undefined
      readonly tls: boolean
      readonly display: string
    }

const expectedForm =
  "expected redis://[user:password@]host:port[/db], rediss://..., " +
  "or a comma-separated list host:port,host:port of Redis Cluster nodes"

const DEFAULT_PORT = 6379

/** Replaces the password in a Redis URL or node list with `***`. */
export const maskRedisUrl = (raw: string): string =>
  raw.replace(/(\/\/[^:/@,]*:)[^@]*@/g, "$1***@").replace(/(\/\/)([^:/@,]+)@/g, "$1***@")

const parseEntry = (entry: string): URL | undefined => {
  const withScheme = entry.includes("://") ? entry : `redis://${entry}`
  const url = URL.parse(withScheme)
  if (url === null || (url.protocol !== "redis:" && url.protocol !== "rediss:")) return undefined
  if (url.hostname === "") return undefined
  return url
}

const nodeOf = (url: URL): RedisNode => ({
  // URL keeps IPv6 hosts in brackets, and net.connect wants them bare.
  host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
  port: url.port === "" ? DEFAULT_PORT : Number(url.port),
})

const displayOf = (node: RedisNode): string =>
  node.host.includes(":") ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`

/**
 * Parses a Redis URL or a Redis Cluster node list. The error is a message that
 * names `REDIS_URL`, shows the value with its password masked and the expected
 * form.
 */
export const parseRedisUrl = (
  value: Redacted.Redacted<string>,
): Result.Result<RedisTarget, string> => {
  const raw = Redacted.value(value).trim()
  const invalid = Result.fail(`Invalid REDIS_URL "${maskRedisUrl(raw)}": ${expectedForm}`)

  if (!raw.includes(",")) {
    if (!/^rediss?:\/\//.test(raw)) return invalid
    const url = parseEntry(raw)
    if (url === undefined) return invalid
    return Result.succeed({
      _tag: "Standalone",
      url: Redacted.make(raw),
      display: displayOf(nodeOf(url)),
    })
  }

  const urls: Array<URL> = []
  for (const entry of raw.split(",")) {
    if (entry.trim() === "") continue
    const url = parseEntry(entry.trim())
    if (url === undefined) return invalid
    urls.push(url)
  }
  if (urls.length === 0) return invalid

  const withCredentials = urls.find((url) => url.password !== "" || url.username !== "")
  const nodes = urls.map(nodeOf)
  return Result.succeed({
    _tag: "Cluster",
    nodes,
    username: withCredentials?.username ? decodeURIComponent(withCredentials.username) : undefined,
    password: withCredentials?.password
      ? Redacted.make(decodeURIComponent(withCredentials.password))
      : undefined,
    tls: urls.some((url) => url.protocol === "rediss:"),
    display: nodes.map(displayOf).join(","),
  })
}
