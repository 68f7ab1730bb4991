/**
 * A loopback destination for processed events. It records every delivery
 * and answers with the status the test sets, so retries, recovery and dead
 * letters can be driven from a test.
 */
import { Effect } from "effect"

export interface ReceivedDelivery {
  readonly headers: Headers
  readonly body: string
  /** The parsed JSON body, as the service sends it. */
  readonly payload: any
}

export type Responder = (
  delivery: ReceivedDelivery,
  attempt: number,
) => Response | Promise<Response>

export interface Destination {
  readonly url: string
  readonly received: Array<ReceivedDelivery>
  /** Sets how the destination answers from now on. */
  readonly respond: (responder: Responder) => void
  /** Deliveries of one event id (`webhook-id`), in arrival order. */
  readonly deliveriesOf: (eventId: string) => ReadonlyArray<ReceivedDelivery>
  /** Distinct `webhook-id` values received with a 2xx answer. */
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
