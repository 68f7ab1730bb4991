import { Effect, Layer, Redacted } from "effect"
import { Stores } from "./src/storage/Stores.ts"
import { StreamQueue } from "./src/storage/StreamQueue.ts"
const port = Number(process.argv[2])
const program = Effect.gen(function* () {
  const q = yield* StreamQueue
  yield* q.ensureGroup("s", "g")
  let n = 0
  yield* Effect.forkChild(Effect.forever(Effect.gen(function* () {
    const t = Date.now()
    const r = yield* Effect.result(q.read("s", "g", "c1", { count: 10, block: "2 seconds" }))
    console.log(new Date().toISOString().slice(17, 23), "read", r._tag, r._tag === "Success" ? r.success.length : String(r.failure.message).slice(0, 80), Date.now() - t, "ms")
    if (r._tag === "Failure") yield* Effect.sleep("500 millis")
  })))
  yield* Effect.sleep("25 seconds")
})
Effect.runPromise(program.pipe(Effect.provide(Stores.layer({ redisUrl: Redacted.make(`redis://127.0.0.1:${port}`), dataDir: "/tmp", connectTimeout: "5 seconds" })), Effect.scoped)).then(() => process.exit(0))
