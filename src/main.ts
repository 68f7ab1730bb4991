/**
 * Entry point: `bun run start`. Reads the settings, resolves the secrets,
 * starts the stores and serves until SIGTERM or SIGINT, then drains
 * in-flight requests and workers and closes the stores.
 */
import { BunRuntime } from "@effect/platform-bun"
import { Cause, Effect, Exit, Layer, Option, Redacted } from "effect"
import { makeAppLayer } from "./app/AppLayer.ts"
import { readAppSettings } from "./config/AppConfig.ts"
import { resolveSecrets } from "./config/EmbeddedSecrets.ts"
import { checkPortAvailable } from "./config/PortCheck.ts"
import { parseKeyRing } from "./crypto/KeyRing.ts"
import * as Logging from "./observability/Logging.ts"

const describeBootFailure = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause) as { _tag?: string; message?: string }
  if (error?._tag === "ConfigInvalid") return `invalid configuration: ${error.message}`
  return `start-up failed: ${error?.message ?? String(error)}`
}

const program = Effect.gen(function* () {
  const settings = yield* readAppSettings
  const secrets = yield* resolveSecrets(settings)
  // Checked before any store starts, so a bad key ring fails in milliseconds.
  yield* parseKeyRing(secrets.tokenEncryptionKeys)
  if (settings.role !== "worker") yield* checkPortAvailable(settings.host, settings.port)
  const logging = Logging.layer({ format: settings.logFormat, level: settings.logLevel })

  const app = makeAppLayer(
    {
      ...settings,
      destinationSigningSecret: Option.fromNullishOr(secrets.destinationSigningSecret),
    },
    secrets,
  ).pipe(
    Layer.tap(() =>
      secrets.generatedAdminKey
        ? // Shown this once, on purpose: embedded mode has no other way to hand
          // the operator the key it generated. Server mode never generates one.
          Effect.logWarning(
            `generated a development admin API key (kept in ${settings.dataDir}/admin-api-key): ` +
              Redacted.value(secrets.adminApiKey),
          )
        : Effect.void,
    ),
    Layer.tap(() =>
      secrets.destinationSigningSecret === undefined
        ? Effect.logWarning(
            "DESTINATION_SIGNING_SECRET is not set, so webhook deliveries to destinations " +
              "carry no webhook-signature header",
          )
        : Effect.void,
    ),
  )
  yield* Layer.launch(app).pipe(Effect.ensuring(Effect.logInfo("stopped")), Effect.provide(logging))
})

BunRuntime.runMain(
  program.pipe(
    // Failures and defects alike end the boot with one line on stderr; a
    // stop requested by a signal is an interruption and passes through.
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.failCause(cause)
        : Effect.sync(() => {
            process.stderr.write(`${describeBootFailure(cause)}\n`)
            process.exitCode = 1
          }),
    ),
  ),
  {
    disableErrorReporting: true,
    // A stop requested by SIGTERM or SIGINT interrupts the program and is a
    // clean exit; a boot failure has already set exit code 1.
    teardown: (exit, onExit) =>
      onExit(
        Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)
          ? 1
          : ((process.exitCode as number | undefined) ?? 0),
      ),
  },
)
