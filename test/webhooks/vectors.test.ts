/**
 * Published signature vectors and secret rotation through the real route.
 * Vectors carry old timestamps, so those tests fix the route's clock near
 * them instead of widening the tolerance.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { storeModes } from "../support/StoreModes.ts"
import { githubHeaders, standardHeaders } from "./support/Signers.ts"
import {
  createProvider,
  deliver,
  errorCode,
  putTemplateProvider,
  randomKey,
  WebhookApp,
  type WebhookTestApp,
} from "./support/WebhookTestApp.ts"

const SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
const SLACK_TIMESTAMP = 1531420618
const SLACK_BODY =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
const SLACK_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

const withClock = <A, E, R>(app: WebhookTestApp, seconds: number, effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    app.clock.setSeconds(seconds)
    return effect
  }).pipe(Effect.ensuring(Effect.sync(() => app.clock.reset())))

describe.each(storeModes)("published vectors and rotation (%s stores)", (mode) => {
  layer(WebhookApp.layer(mode), { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect("accepts the GitHub published vector", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = randomKey("github")
        yield* putTemplateProvider(app, key, "github", {
          webhook_secret: "It's a Secret to Everybody",
        })
        const response = yield* deliver(app, `/webhooks/${key}`, "Hello, World!", {
          "x-hub-signature-256":
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
          "x-github-event": "ping",
          "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        })
        expect(response.status).toBe(200)
        expect(JSON.parse(response.text)).toEqual({ status: "accepted" })
      }),
    )

    it.effect("accepts the Slack published vector at its time", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = randomKey("slack")
        yield* putTemplateProvider(app, key, "slack", { webhook_secret: SLACK_SECRET })
        const headers = {
          "content-type": "application/x-www-form-urlencoded",
          "x-slack-request-timestamp": String(SLACK_TIMESTAMP),
          "x-slack-signature": SLACK_SIGNATURE,
        }
        // At the real time the vector is years old.
        const now = yield* deliver(app, `/webhooks/${key}`, SLACK_BODY, headers)
        expect(now.status).toBe(400)
        expect(errorCode(now.text)).toBe("stale_timestamp")

        const then = yield* withClock(
          app,
          SLACK_TIMESTAMP + 30,
          deliver(app, `/webhooks/${key}`, SLACK_BODY, headers),
        )
        expect(then.status).toBe(200)
        expect(JSON.parse(then.text)).toEqual({ status: "accepted" })
      }),
    )

    it.effect("accepts the Standard Webhooks published vector at its time", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = randomKey("std")
        yield* createProvider(app, key, {
          template: "standard-webhooks",
          webhook_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        })
        const headers = {
          "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
          "webhook-timestamp": "1614265330",
          "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        }
        const response = yield* withClock(
          app,
          1614265330 - 10,
          deliver(app, `/webhooks/${key}`, '{"test": 2432232314}', headers),
        )
        expect(response.status).toBe(200)
        const tampered = yield* withClock(
          app,
          1614265330,
          deliver(app, `/webhooks/${key}`, '{"test": 2432232315}', headers),
        )
        expect(tampered.status).toBe(401)
      }),
    )

    it.effect("accepts both secrets during a rotation", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = randomKey("github")
        const oldSecret = "old-github-secret"
        const newSecret = "new-github-secret"
        yield* putTemplateProvider(app, key, "github", { webhook_secret: oldSecret })
        const body = JSON.stringify({ zen: "Keep it logically awesome." })
        const sign = (secret: string) => Effect.promise(() => githubHeaders(secret, body, "ping"))

        expect((yield* deliver(app, `/webhooks/${key}`, body, yield* sign(oldSecret))).status).toBe(
          200,
        )
        expect((yield* deliver(app, `/webhooks/${key}`, body, yield* sign(newSecret))).status).toBe(
          401,
        )

        yield* putTemplateProvider(app, key, "github", {
          webhook_secret: newSecret,
          keep_previous_webhook_secret: true,
        })
        expect((yield* deliver(app, `/webhooks/${key}`, body, yield* sign(oldSecret))).status).toBe(
          200,
        )
        expect((yield* deliver(app, `/webhooks/${key}`, body, yield* sign(newSecret))).status).toBe(
          200,
        )

        yield* putTemplateProvider(app, key, "github", { webhook_secret_previous: null })
        expect((yield* deliver(app, `/webhooks/${key}`, body, yield* sign(oldSecret))).status).toBe(
          401,
        )
        expect((yield* deliver(app, `/webhooks/${key}`, body, yield* sign(newSecret))).status).toBe(
          200,
        )
      }),
    )

    it.effect("uses an endpoint's own secret", () =>
      Effect.gen(function* () {
        const app = yield* WebhookApp
        const key = randomKey("std")
        const providerSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        const endpointSecret = "whsec_ZW5kcG9pbnQtc2VjcmV0LWJ5dGVzLTAxMjM0NTY3"
        yield* createProvider(app, key, {
          template: "standard-webhooks",
          webhook_secret: providerSecret,
        })
        const created = yield* Effect.promise(() =>
          app
            .fetch("/v1/webhooks/endpoints", {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ provider: key, secret: endpointSecret }),
            })
            .then((response) => response.json() as Promise<any>),
        )
        const body = "{}"
        const own = yield* deliver(
          app,
          created.url_path,
          body,
          standardHeaders(endpointSecret, body),
        )
        expect(own.status).toBe(200)
        const providers = yield* deliver(
          app,
          created.url_path,
          body,
          standardHeaders(providerSecret, body),
        )
        expect(providers.status).toBe(401)
        // The provider-wide route still uses the provider's secret.
        const wide = yield* deliver(
          app,
          `/webhooks/${key}`,
          body,
          standardHeaders(providerSecret, body),
        )
        expect(wide.status).toBe(200)
      }),
    )
  })
})
