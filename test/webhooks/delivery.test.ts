/**
 * The worker side: signed delivery to the destination, retries with backoff
 * until the destination recovers, dead letters and their replay, routing to
 * integrations, and status changes that a provider signals.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Webhook } from "standardwebhooks"
import { jsonResponse, startFakeProvider } from "../oauth/support/FakeProvider.ts"
import { connect } from "../oauth/support/OAuthTestApp.ts"
import { storeModes } from "../support/StoreModes.ts"
import {
  type DeliveryPayload,
  type Destination,
  ok,
  startDestination,
} from "./support/Destination.ts"
import { nowSeconds, slackHeaders, standardHeaders } from "./support/Signers.ts"
import {
  api,
  countersOf,
  createProvider,
  DESTINATION_SECRET,
  deliver,
  eventually,
  randomKey,
  WebhookApp,
  type WebhookTestApp,
} from "./support/WebhookTestApp.ts"

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
const SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"

const standardProvider = (app: WebhookTestApp, destination: Destination) =>
  Effect.gen(function* () {
    const key = randomKey("std")
    yield* createProvider(app, key, {
      template: "standard-webhooks",
      webhook_secret: SECRET,
      destination_url: destination.url,
    })
    return key
  })

const send = (app: WebhookTestApp, key: string, id: string) =>
  Effect.gen(function* () {
    const body = JSON.stringify({ id })
    const response = yield* deliver(
      app,
      `/webhooks/${key}`,
      body,
      standardHeaders(SECRET, body, id),
    )
    expect(response.status).toBe(200)
  })

const deadLettersOf = (app: WebhookTestApp, key: string) =>
  Effect.map(api(app, "GET", `/v1/webhooks/dead-letters?provider=${key}`), (result) => {
    expect(result.status).toBe(200)
    return result.body.data as ReadonlyArray<Record<string, any>>
  })

/** A Slack provider whose token endpoint is a loopback fake, and one connected workspace. */
const connectedSlack = (app: WebhookTestApp, destination: Destination, team: string) =>
  Effect.gen(function* () {
    const fake = yield* startFakeProvider
    fake.on("/token", () =>
      jsonResponse({
        ok: true,
        access_token: `xoxb-${crypto.randomUUID()}`,
        token_type: "bot",
        scope: "chat:write",
        team: { id: team, name: "Team" },
      }),
    )
    const key = randomKey("slack")
    yield* createProvider(app, key, {
      template: "slack",
      client_id: "client-id",
      client_secret: "client-secret",
      authorization_url: `${fake.url}/authorize`,
      token_url: `${fake.url}/token`,
      revocation_url: `${fake.url}/revoke`,
      webhook_secret: SLACK_SECRET,
      destination_url: destination.url,
    })
    const organizationId = `org-${crypto.randomUUID()}`
    const integrationId = yield* connect(app, { organizationId, provider: key })
    return { key, organizationId, integrationId }
  })

const slackEvent = (team: string, eventId: string, event: Record<string, unknown>) =>
  JSON.stringify({ team_id: team, type: "event_callback", event_id: eventId, event })

const postSlack = (app: WebhookTestApp, key: string, body: string) =>
  Effect.map(
    deliver(app, `/webhooks/${key}`, body, slackHeaders(SLACK_SECRET, nowSeconds(), body)),
    (response) => expect(response.status).toBe(200),
  )

const statusOf = (app: WebhookTestApp, integrationId: string) =>
  Effect.map(api(app, "GET", `/v1/integrations/${integrationId}`), (result) => result.body.status)

describe.each(storeModes)("webhook delivery (%s stores)", (mode) => {
  layer(WebhookApp.layer(mode), { excludeTestServices: true, timeout: "90 seconds" })((it) => {
    it.effect("signs deliveries with Standard Webhooks", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const destination = yield* startDestination
        const key = yield* standardProvider(app, destination)
        yield* send(app, key, "msg_signed")

        yield* eventually(Effect.sync(() => expect(destination.received).toHaveLength(1)))
        const [delivery] = destination.received
        const headers = Object.fromEntries(delivery!.headers.entries())
        const verified = new Webhook(DESTINATION_SECRET).verify(
          delivery!.body,
          headers,
        ) as DeliveryPayload
        expect(verified.data.delivery_id).toBe("msg_signed")
        expect(headers["webhook-id"]).toBe(verified.data.event_id)
      }).pipe(Effect.scoped),
    )

    it.effect("retries a failing destination until it recovers", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const destination = yield* startDestination
        destination.respond((_, attempt) =>
          attempt < 3
            ? new Response("busy", { status: 503, headers: { "retry-after": "0" } })
            : new Response("ok"),
        )
        const key = yield* standardProvider(app, destination)
        yield* send(app, key, "msg_retry")

        yield* eventually(Effect.sync(() => expect(destination.acceptedIds().size).toBe(1)))
        expect(destination.received).toHaveLength(3)
        // Every attempt carries the same id, so the destination can deduplicate.
        const ids = new Set(
          destination.received.map((delivery) => delivery.headers.get("webhook-id")),
        )
        expect(ids.size).toBe(1)
        // The destination can see the delivery before the worker records it.
        const [counters] = yield* eventually(
          Effect.gen(function* () {
            const rows = yield* countersOf(app, key)
            expect(rows[0]?.delivered).toBe(1)
            return rows
          }),
        )
        expect(counters!.failed).toBe(2)
        expect(counters!.delivered).toBe(1)
        expect(counters!.dead_lettered).toBe(0)
      }).pipe(Effect.scoped),
    )

    it.effect("dead-letters after the last attempt and replays it", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const destination = yield* startDestination
        destination.respond(() => new Response("down", { status: 500 }))
        const key = yield* standardProvider(app, destination)
        yield* send(app, key, "msg_dead")

        const [letter] = yield* eventually(
          Effect.tap(deadLettersOf(app, key), (letters) =>
            Effect.sync(() => expect(letters).toHaveLength(1)),
          ),
        )
        expect(destination.received).toHaveLength(app.settings.deliveryMaxAttempts)
        expect(letter!.attempts).toBe(app.settings.deliveryMaxAttempts)
        expect(letter!.last_status).toBe(500)
        expect(letter!.last_error).toContain("HTTP 500")
        expect(letter!.delivery_id).toBe("msg_dead")
        expect(JSON.parse(letter!.body)).toEqual({ id: "msg_dead" })
        expect(letter!.headers["webhook-signature"]).toBeUndefined()
        // The dead letter is visible before the worker records the outcome.
        const [counters] = yield* eventually(
          Effect.gen(function* () {
            const rows = yield* countersOf(app, key)
            expect(rows[0]?.dead_lettered).toBe(1)
            return rows
          }),
        )
        expect(counters!.dead_lettered).toBe(1)

        destination.respond(ok)
        const replayed = yield* api(app, "POST", `/v1/webhooks/dead-letters/${letter!.id}/replay`)
        expect(replayed.status).toBe(200)
        yield* eventually(Effect.sync(() => expect(destination.acceptedIds().size).toBe(1)))
        expect([...destination.acceptedIds()]).toEqual([letter!.event_id])
        expect(yield* deadLettersOf(app, key)).toHaveLength(0)

        const missing = yield* api(app, "POST", `/v1/webhooks/dead-letters/${letter!.id}/replay`)
        expect(missing.status).toBe(404)
        expect(missing.body.error.code).toBe("dead_letter_not_found")
      }).pipe(Effect.scoped),
    )

    it.effect("dead-letters a rejected event at once", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const destination = yield* startDestination
        destination.respond(() => new Response("gone", { status: 410 }))
        const key = yield* standardProvider(app, destination)
        const other = yield* standardProvider(app, destination)
        yield* send(app, key, "msg_a")
        yield* send(app, key, "msg_b")
        yield* send(app, other, "msg_c")

        yield* eventually(
          Effect.tap(deadLettersOf(app, key), (letters) =>
            Effect.sync(() => expect(letters).toHaveLength(2)),
          ),
        )
        yield* eventually(
          Effect.tap(deadLettersOf(app, other), (letters) =>
            Effect.sync(() => expect(letters).toHaveLength(1)),
          ),
        )
        // A 410 is final: one attempt each.
        expect(destination.received).toHaveLength(3)

        destination.respond(ok)
        const replayed = yield* api(app, "POST", `/v1/webhooks/dead-letters/replay?provider=${key}`)
        expect(replayed.body).toEqual({ replayed: 2, skipped: 0 })
        yield* eventually(Effect.sync(() => expect(destination.acceptedIds().size).toBe(2)))
        expect(yield* deadLettersOf(app, other)).toHaveLength(1)
        // Leaves the shared dead-letter stream as it found it.
        yield* api(app, "POST", `/v1/webhooks/dead-letters/replay?provider=${other}`)
        yield* eventually(Effect.sync(() => expect(destination.acceptedIds().size).toBe(3)))
      }).pipe(Effect.scoped),
    )

    it.effect("pages through dead letters", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const destination = yield* startDestination
        destination.respond(() => new Response("bad", { status: 400 }))
        const key = yield* standardProvider(app, destination)
        for (const id of ["msg_p1", "msg_p2", "msg_p3"]) yield* send(app, key, id)
        yield* eventually(
          Effect.tap(deadLettersOf(app, key), (letters) =>
            Effect.sync(() => expect(letters).toHaveLength(3)),
          ),
        )

        const first = yield* api(app, "GET", `/v1/webhooks/dead-letters?provider=${key}&limit=2`)
        expect(first.body.data).toHaveLength(2)
        expect(first.body.next_cursor).not.toBeNull()
        const second = yield* api(
          app,
          "GET",
          `/v1/webhooks/dead-letters?provider=${key}&limit=2&cursor=${first.body.next_cursor}`,
        )
        const ids = [...first.body.data, ...second.body.data].map(
          (letter: any) => letter.delivery_id,
        )
        expect(new Set(ids)).toEqual(new Set(["msg_p1", "msg_p2", "msg_p3"]))
        const invalid = yield* api(app, "GET", "/v1/webhooks/dead-letters?cursor=not-an-id")
        expect(invalid.status).toBe(400)

        destination.respond(ok)
        yield* api(app, "POST", `/v1/webhooks/dead-letters/replay?provider=${key}`)
        yield* eventually(Effect.sync(() => expect(destination.acceptedIds().size).toBe(3)))
      }).pipe(Effect.scoped),
    )

    it.effect("routes mapped and unmapped events", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const destination = yield* startDestination
        const team = `T${crypto.randomUUID().slice(0, 8).toUpperCase()}`
        const slack = yield* connectedSlack(app, destination, team)

        yield* postSlack(app, slack.key, slackEvent(team, "EvMapped", { type: "message" }))
        yield* postSlack(app, slack.key, slackEvent("TNOBODY", "EvUnmapped", { type: "message" }))

        yield* eventually(Effect.sync(() => expect(destination.received).toHaveLength(2)))
        const byId = Object.fromEntries(
          destination.received.map((delivery) => [
            delivery.payload.data.delivery_id,
            delivery.payload.data,
          ]),
        )
        expect(byId.EvMapped.integration_id).toBe(slack.integrationId)
        expect(byId.EvMapped.organization_id).toBe(slack.organizationId)
        expect(byId.EvMapped.routing_key).toBe(team)
        expect(byId.EvUnmapped.integration_id).toBeNull()
        expect(byId.EvUnmapped.organization_id).toBeNull()
        const [counters] = yield* eventually(
          Effect.gen(function* () {
            const rows = yield* countersOf(app, slack.key)
            expect(rows[0]?.delivered).toBe(2)
            return rows
          }),
        )
        expect(counters!.delivered).toBe(2)
      }).pipe(Effect.scoped),
    )

    it.effect("routes an endpoint's events to its integration", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const destination = yield* startDestination
        const team = `T${crypto.randomUUID().slice(0, 8).toUpperCase()}`
        const slack = yield* connectedSlack(app, destination, team)
        const created = yield* api(app, "POST", "/v1/webhooks/endpoints", {
          provider: slack.key,
          integration_id: slack.integrationId,
        })
        expect(created.status).toBe(201)

        const body = slackEvent("TSOMEWHERE", "EvEndpoint", { type: "message" })
        const response = yield* deliver(
          app,
          created.body.url_path,
          body,
          slackHeaders(SLACK_SECRET, nowSeconds(), body),
        )
        expect(response.status).toBe(200)
        yield* eventually(Effect.sync(() => expect(destination.received).toHaveLength(1)))
        expect(destination.received[0]!.payload.data.integration_id).toBe(slack.integrationId)
        expect(destination.received[0]!.payload.data.endpoint_id).toBe(created.body.id)

        const [counters] = yield* countersOf(app, slack.key).pipe(
          Effect.map((rows) => rows.filter((row) => row.endpoint_id === created.body.id)),
        )
        expect(counters!.accepted).toBe(1)
      }).pipe(Effect.scoped),
    )

    it.effect("applies provider-signalled status changes", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const destination = yield* startDestination
        const team = `T${crypto.randomUUID().slice(0, 8).toUpperCase()}`
        const slack = yield* connectedSlack(app, destination, team)

        // A user token of someone else is no reason to touch the bot integration.
        const userOnly = { type: "tokens_revoked", tokens: { oauth: ["U1"], bot: [] } }
        yield* postSlack(app, slack.key, slackEvent(team, "EvUser", userOnly))
        yield* eventually(Effect.sync(() => expect(destination.received).toHaveLength(1)))
        expect(yield* statusOf(app, slack.integrationId)).toBe("connected")

        const revoked = { type: "tokens_revoked", tokens: { oauth: [], bot: ["UBOT"] } }
        yield* postSlack(app, slack.key, slackEvent(team, "EvRevoked", revoked))
        yield* eventually(Effect.sync(() => expect(destination.received).toHaveLength(2)))
        expect(yield* statusOf(app, slack.integrationId)).toBe("needs_reauth")

        yield* postSlack(app, slack.key, slackEvent(team, "EvGone", { type: "app_uninstalled" }))
        yield* eventually(Effect.sync(() => expect(destination.received).toHaveLength(3)))
        const integration = yield* api(app, "GET", `/v1/integrations/${slack.integrationId}`)
        expect(integration.body.status).toBe("disconnected")
        expect(integration.body.status_reason).toBe("app_uninstalled")
      }).pipe(Effect.scoped),
    )

    it.effect("never reruns a status change on replay", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const destination = yield* startDestination
        destination.respond(() => new Response("refused", { status: 422 }))
        const team = `T${crypto.randomUUID().slice(0, 8).toUpperCase()}`
        const slack = yield* connectedSlack(app, destination, team)

        yield* postSlack(app, slack.key, slackEvent(team, "EvOnce", { type: "app_uninstalled" }))
        const [letter] = yield* eventually(
          Effect.tap(deadLettersOf(app, slack.key), (letters) =>
            Effect.sync(() => expect(letters).toHaveLength(1)),
          ),
        )
        expect(yield* statusOf(app, slack.integrationId)).toBe("disconnected")

        // The workspace installs the app again; the old event must not undo that.
        yield* connect(app, { organizationId: slack.organizationId, provider: slack.key })
        expect(yield* statusOf(app, slack.integrationId)).toBe("connected")
        destination.respond(ok)
        yield* api(app, "POST", `/v1/webhooks/dead-letters/${letter!.id}/replay`)
        yield* eventually(Effect.sync(() => expect(destination.acceptedIds().size).toBe(1)))
        expect(yield* statusOf(app, slack.integrationId)).toBe("connected")
      }).pipe(Effect.scoped),
    )
  })
})
