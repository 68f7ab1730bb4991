/**
 * A loopback destination for processed events. It records every delivery
 * and responds with the status the test sets, so retries, recovery and dead
 * letters can be driven from a test.
 */
import { Effect } from "effect"

/** The JSON body the service sends to a destination. */
export interface DeliveryPayload {
  readonly type: string
  readonly timestamp: string
  readonly data: {
    readonly event_id: string
    readonly provider: string
    readonly endpoint_id: string | null
    readonly integration_id: string | null
    readonly organization_id: string | null
    readonly integration_ids: ReadonlyArray<string>
    readonly delivery_id: string | null
    readonly routing_key: string | null
    readonly event_type: string | null
    readonly received_at: string
    readonly headers: Readonly<Record<string, string>>
    readonly body: string
    readonly body_encoding: "utf8" | "base64"
  }
}

export interface ReceivedDelivery {
  readonly headers: Headers
  readonly body: string
  readonly payload: DeliveryPayload
}

export type Responder = (
  delivery: ReceivedDelivery,
  attempt: number,
) => Response | Promise<Response>

export interface Destination {
  readonly url: string
  readonly received: Array<ReceivedDelivery>
  /** Sets how the destination responds from now on. */
  readonly respond: (responder: Responder) => void
  /** Deliveries of one event id (`webhook-id`), in arrival order. */
  readonly deliveriesOf: (eventId: string) => ReadonlyArray<ReceivedDelivery>
  /** Distinct `webhook-id` values received with a 2xx response. */
  readonly acceptedIds: () => ReadonlySet<string>
}

export const ok: Responder = () => new Response("ok")

/** Starts the destination for the scope's lifetime. */
export const startDestination = Effect.acquireRelease(
  Effect.sync(() => {
    let responder: Responder = ok
    const received: Array<ReceivedDelivery> = []
    const accepted = new Set<string>()
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (request) => {
        const body = await request.text()
        const delivery: ReceivedDelivery = {
          headers: request.headers,
          body,
          payload: JSON.parse(body),
        }
        received.push(delivery)
        const id = request.headers.get("webhook-id") ?? ""
        const attempt = received.filter((entry) => entry.headers.get("webhook-id") === id).length
        const response = await responder(delivery, attempt)
        if (response.status >= 200 && response.status < 300) accepted.add(id)
        return response
      },
    })
    const destination: Destination = {
      url: `http://127.0.0.1:${server.port}/hooks`,
      received,
      respond: (next) => {
        responder = next
      },
      deliveriesOf: (eventId) =>
        received.filter((delivery) => delivery.headers.get("webhook-id") === eventId),
      acceptedIds: () => accepted,
    }
    return { server, destination }
  }),
  ({ server }) => Effect.promise(() => server.stop(true)),
).pipe(Effect.map(({ destination }) => destination))
