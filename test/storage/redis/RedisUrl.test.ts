import { assert, describe, it } from "@effect/vitest"
import { Redacted, Result } from "effect"
import { maskRedisUrl, parseRedisUrl } from "../../../src/storage/RedisUrl.ts"

const parse = (raw: string) => parseRedisUrl(Redacted.make(raw))

describe("RedisUrl", () => {
  it("parses a redis:// URL as one server", () => {
    const target = parse("redis://:secret@cache.internal:6380/2")
    assert.isTrue(Result.isSuccess(target))
    if (Result.isFailure(target)) return
    assert.strictEqual(target.success._tag, "Standalone")
    assert.strictEqual(target.success.display, "cache.internal:6380")
  })

  it("defaults the port to 6379", () => {
    const target = parse("rediss://cache.internal")
    assert.isTrue(Result.isSuccess(target) && target.success.display === "cache.internal:6379")
  })

  it("parses a node list as a cluster", () => {
    const target = parse("10.0.0.1:7000, 10.0.0.2:7001,[::1]:7002")
    assert.isTrue(Result.isSuccess(target))
    if (Result.isFailure(target) || target.success._tag !== "Cluster") return
    assert.deepStrictEqual(target.success.nodes, [
      { host: "10.0.0.1", port: 7000 },
      { host: "10.0.0.2", port: 7001 },
      { host: "::1", port: 7002 },
    ])
    assert.strictEqual(target.success.display, "10.0.0.1:7000,10.0.0.2:7001,[::1]:7002")
    assert.isUndefined(target.success.password)
    assert.isFalse(target.success.tls)
  })

  it("takes cluster credentials and TLS from URL entries", () => {
    const target = parse("rediss://app:p%40ss@10.0.0.1:7000,rediss://10.0.0.2:7001")
    if (Result.isFailure(target) || target.success._tag !== "Cluster") {
      assert.fail("expected a cluster")
      return
    }
    assert.strictEqual(target.success.username, "app")
    assert.strictEqual(Redacted.value(target.success.password!), "p@ss")
    assert.isTrue(target.success.tls)
  })

  it("rejects other schemes and bare host:port with a masked value", () => {
    for (const raw of ["http://u:hunter2@host:6379", "host:6379", "redis://", ""]) {
      const target = parse(raw)
      assert.isTrue(Result.isFailure(target), raw)
      if (Result.isSuccess(target)) continue
      assert.include(target.failure, "REDIS_URL")
      assert.notInclude(target.failure, "hunter2")
    }
  })

  it("masks passwords", () => {
    assert.strictEqual(maskRedisUrl("redis://:pw@h:1"), "redis://:***@h:1")
    assert.strictEqual(maskRedisUrl("redis://user:pw@h:1/0"), "redis://user:***@h:1/0")
    assert.strictEqual(maskRedisUrl("redis://token@h:1"), "redis://***@h:1")
    assert.strictEqual(
      maskRedisUrl("redis://a:x@h:1,redis://b:y@k:2"),
      "redis://a:***@h:1,redis://b:***@k:2",
    )
    assert.strictEqual(maskRedisUrl("redis://h:1"), "redis://h:1")
  })
})
