/**
 * The process logger: logfmt-style text by default, one JSON object a line
 * with LOG_FORMAT=json.
 *
 * Span recording is off: the service exports no traces, and each recorded
 * span costs its request about a microsecond for nothing. An exporter added
 * later must turn `References.TracerEnabled` back on.
 */
import { Layer, Logger, type LogLevel, References } from "effect"
import type { LogFormat } from "../config/AppConfig.ts"

export const layer = (options: { readonly format: LogFormat; readonly level: LogLevel.LogLevel }) =>
  Layer.mergeAll(
    Logger.layer([options.format === "json" ? Logger.consoleJson : Logger.consoleLogFmt]),
    Layer.succeed(References.MinimumLogLevel, options.level),
    Layer.succeed(References.TracerEnabled, false),
  )
