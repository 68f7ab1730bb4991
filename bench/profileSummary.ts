/**
 * Summarizes a `bun --cpu-prof` profile (Chrome .cpuprofile JSON) by where
 * the time goes: self time per source file, grouped under its package
 * (`effect`, `ioredis`, `@effect/sql-pg`, the service's `src/...`, or
 * `[native]`), and inclusive time of the service's own functions.
 *
 * Usage: bun bench/profileSummary.ts <file.cpuprofile> [top N, default 25]
 */
import { readFileSync } from "node:fs"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { functionName: string; url: string; lineNumber: number }
  readonly children?: ReadonlyArray<number>
}

interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const [file, topArgument] = Bun.argv.slice(2)
if (file === undefined) {
  console.error("Usage: bun bench/profileSummary.ts <file.cpuprofile> [top N]")
  process.exit(2)
}
const top = Number(topArgument ?? 25)
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile

const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const parent = new Map<number, number>()
for (const node of profile.nodes)
  for (const child of node.children ?? []) parent.set(child, node.id)

/** Returns the package or service file that a frame belongs to. */
const ownerOf = (url: string): string => {
  if (url === "" || url.startsWith("[")) return "[native]"
  const modules = url.lastIndexOf("node_modules/")
  if (modules >= 0) {
    const rest = url.slice(modules + "node_modules/".length).split("/")
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  const source = url.indexOf("/src/")
  if (source >= 0) return url.slice(source + 1)
  return url.replace(/^.*\//, "")
}

const selfMillis = new Map<string, number>()
const ownerMillis = new Map<string, number>()
const inclusiveService = new Map<string, number>()
let total = 0
profile.samples.forEach((id, index) => {
  const millis = (profile.timeDeltas[index] ?? 0) / 1000
  total += millis
  const node = byId.get(id)
  if (node === undefined) return
  const { functionName, url, lineNumber } = node.callFrame
  const owner = ownerOf(url)
  const label = `${functionName || "(anonymous)"} ${owner}${url === "" ? "" : `:${lineNumber + 1}`}`
  selfMillis.set(label, (selfMillis.get(label) ?? 0) + millis)
  ownerMillis.set(owner, (ownerMillis.get(owner) ?? 0) + millis)
  // Inclusive time of service functions, each counted once per sample.
  const seen = new Set<string>()
  for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
    const frame = byId.get(current)?.callFrame
    if (frame === undefined || !frame.url.includes("/src/")) continue
    const name = `${frame.functionName || "(anonymous)"} ${ownerOf(frame.url)}:${frame.lineNumber + 1}`
    if (seen.has(name)) continue
    seen.add(name)
    inclusiveService.set(name, (inclusiveService.get(name) ?? 0) + millis)
  }
})

const print = (title: string, entries: Map<string, number>) => {
  console.log(`\n${title}`)
  for (const [name, millis] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * millis) / total).toFixed(1).padStart(6)} %  ${name}`)
  }
}

console.log(`${file}: ${(total / 1000).toFixed(1)} s of samples`)
print("Self time by package or service file", ownerMillis)
print("Self time by function", selfMillis)
print("Inclusive time of the service's functions", inclusiveService)
