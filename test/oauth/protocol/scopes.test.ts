import { describe, expect, it } from "@effect/vitest"
import {
  formatScopes,
  isScopeToken,
  mergeScopes,
  parseScopes,
} from "../../../src/oauth/protocol/Scopes.ts"

describe("Scopes", () => {
  it("splits on spaces, commas and plus signs", () => {
    expect(parseScopes("read write")).toEqual(["read", "write"])
    expect(parseScopes("user,gist")).toEqual(["user", "gist"])
    expect(parseScopes("read+write")).toEqual(["read", "write"])
    expect(parseScopes(" read ,  write\tadmin\n")).toEqual(["read", "write", "admin"])
  })

  it("splits on still-encoded commas and spaces", () => {
    expect(parseScopes("user%2Cgist")).toEqual(["user", "gist"])
    expect(parseScopes("user%2cgist")).toEqual(["user", "gist"])
    expect(parseScopes("openid%20email")).toEqual(["openid", "email"])
  })

  it("keeps URL scopes whole", () => {
    const scopes = "https://www.googleapis.com/auth/drive.readonly openid"
    expect(parseScopes(scopes)).toEqual([
      "https://www.googleapis.com/auth/drive.readonly",
      "openid",
    ])
  })

  it("removes duplicates and keeps the first order", () => {
    expect(parseScopes("b a b c a")).toEqual(["b", "a", "c"])
  })

  it("takes a list of scope strings", () => {
    expect(parseScopes(["read write", "admin", "read"])).toEqual(["read", "write", "admin"])
    expect(parseScopes(undefined)).toEqual([])
    expect(parseScopes("")).toEqual([])
  })

  it("keeps scopes case-sensitive", () => {
    expect(parseScopes("Read read")).toEqual(["Read", "read"])
  })

  it("merges required, provider and request scopes in that order", () => {
    const merged = mergeScopes(["offline_access"], ["openid", "User.Read"], ["Mail.Read", "openid"])
    expect(merged).toEqual(["offline_access", "openid", "User.Read", "Mail.Read"])
  })

  it("formats with the provider's separator", () => {
    expect(formatScopes(["a", "b"], " ")).toBe("a b")
    expect(formatScopes(["a", "b"], ",")).toBe("a,b")
    expect(formatScopes([], ",")).toBe("")
  })

  it("checks the scope token syntax of RFC 6749", () => {
    expect(isScopeToken("chat:write")).toBe(true)
    expect(isScopeToken("https://graph.microsoft.com/.default")).toBe(true)
    expect(isScopeToken("has space")).toBe(false)
    expect(isScopeToken('quo"te')).toBe(false)
    expect(isScopeToken("back\\slash")).toBe(false)
    expect(isScopeToken("")).toBe(false)
  })
})
