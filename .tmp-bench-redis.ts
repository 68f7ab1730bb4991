import { Effect } from "effect"
import IORedis from "ioredis"
const redis = new IORedis("redis://127.0.0.1:6379")
const N = 50000, C = 64
async function eff(span: boolean, disabled: boolean) {
  const call = () => {
    const e = Effect.tryPromise({ try: () => redis.xadd("bench:x", "*", "p", "hello"), catch: (e) => e })
    return span ? e.pipe(Effect.withSpan("XADD", { kind: "client", attributes: { "db.system.name": "redis" } })) : e
  }
  let i = 0
  const t = performance.now()
  await Promise.all(Array.from({ length: C }, () => Effect.runPromise(Effect.gen(function* () { while (i++ < N) yield* call() }).pipe(disabled ? Effect.withTracerEnabled(false) : (x) => x))))
  return N / ((performance.now() - t) / 1000)
}
for (let k = 0; k < 2; k++) {
console.log("effect", Math.round(await eff(false, false)))
console.log("effect+span", Math.round(await eff(true, false)))
console.log("effect+span disabled", Math.round(await eff(true, true)))
}
await redis.del("bench:x"); redis.disconnect()
