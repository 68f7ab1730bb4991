/** Parsing of the ingest path that Bun's routes hand over. */
import { describe, expect, it } from "@effect/vitest"
import { parseIngestPath } from "../../src/webhooks/IngestRoute.ts"

describe("parseIngestPath", () => {
  it("reads provider and endpoint", () => {
    expect(parseIngestPath("/webhooks/github")).toEqual({
      provider: "github",
      endpointId: undefined,
    })
    expect(parseIngestPath("/webhooks/github/abc")).toEqual({
      provider: "github",
      endpointId: "abc",
    })
  })

  it("ignores one trailing slash", () => {
    expect(parseIngestPath("/webhooks/github/")).toEqual({
      provider: "github",
      endpointId: undefined,
    })
    expect(parseIngestPath("/webhooks/github/abc/")?.endpointId).toBe("abc")
  })

  it("decodes escapes, keeping malformed ones", () => {
    expect(parseIngestPath("/webhooks/g%68")?.provider).toBe("gh")
    expect(parseIngestPath("/webhooks/a%2Fb")?.provider).toBe("a/b")
    expect(parseIngestPath("/webhooks/%")?.provider).toBe("%")
  })

  it("refuses other shapes", () => {
    for (const path of [
      "/webhooks",
      "/webhooks/",
      "/webhooks//github",
      "/webhooks/github//",
      "/webhooks/a/b/c",
      "/v1/webhooks/github",
      "webhooks/github",
    ]) {
      expect(parseIngestPath(path), path).toBeUndefined()
    }
  })
})
