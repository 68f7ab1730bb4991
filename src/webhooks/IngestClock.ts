import { Context } from "effect"

/**
 * Wall-clock time that the ingest route verifies timestamps against, in
 * milliseconds since the Unix epoch. It is read once, when the route is
 * built, so a test can fix it near the timestamp of a published signature
 * vector by providing this reference to the app layer.
 */
export const IngestClock = Context.Reference<() => number>("app/webhooks/IngestClock", {
  defaultValue: () => Date.now,
})
