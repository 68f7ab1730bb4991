/**
 * The webhook services, wired together. Needs the stores (`SqlClient`,
 * `KeyValue`, `StreamQueue`), `TokenCipher`, `AppConfig` and the
 * `ProviderRegistry`. The ingest route and the `/v1/webhooks` handlers use
 * these; the workers (`WebhookWorkerLive`) run on top of them in processes
 * whose ROLE is `worker` or `all`.
 */
import { Layer } from "effect"
import type { AppSettings } from "../config/AppConfig.ts"
import { DeadLetters } from "./DeadLetters.ts"
import { Deduplication } from "./Deduplication.ts"
import { EventAdmission } from "./EventAdmission.ts"
import { IntegrationRouting } from "./IntegrationRouting.ts"
import { type AnalyticsSink, WebhookAnalytics } from "./WebhookAnalytics.ts"
import { WebhookCounters } from "./WebhookCounters.ts"
import { WebhookEndpoints } from "./WebhookEndpoints.ts"
import { WebhookIngest } from "./WebhookIngest.ts"
import { WebhookSourcesLive } from "./WebhookSourcesLive.ts"

export interface WebhookServicesOptions {
  /** Destination of the analytics events; the analytics stream by default. */
  readonly analyticsSink?: AnalyticsSink | undefined
}

export const WebhookServicesLive = (
  settings: Pick<AppSettings, "webhookDedupWindow">,
  options: WebhookServicesOptions = {},
) =>
  WebhookIngest.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        WebhookSourcesLive,
        DeadLetters.layer,
        IntegrationRouting.layer,
        EventAdmission.layer({ window: settings.webhookDedupWindow }),
      ),
    ),
    Layer.provideMerge(Deduplication.layer({ window: settings.webhookDedupWindow })),
    Layer.provideMerge(
      Layer.mergeAll(
        WebhookEndpoints.layer(),
        WebhookCounters.layer(),
        options.analyticsSink === undefined
          ? WebhookAnalytics.layer
          : WebhookAnalytics.layerWith(options.analyticsSink),
      ),
    ),
  )
