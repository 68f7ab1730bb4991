/**
 * Reading one environment variable with Effect's `Config` and validating it
 * into a typed value. A bad value becomes a `ConfigInvalid` error that names
 * the variable, the problem and the expected form, and never echoes a secret.
 */
import { Config, Data, Effect, Option, Redacted } from "effect"

export class ConfigInvalid extends Data.TaggedError("ConfigInvalid")<{
  readonly variable: string
  readonly problem: string
  readonly expected: string
}> {
  readonly code = "invalid_config"

  override get message(): string {
    return `${this.variable}: ${this.problem}; expected ${this.expected}`
  }
}

/** Outcome of a parser: the value, or the reason the text is invalid. */
export type Parsed<A> =
  | { readonly ok: true; readonly value: A }
  | { readonly ok: false; readonly problem: string }

export const ok = <A>(value: A): Parsed<A> => ({ ok: true, value })
export const invalid = (problem: string): Parsed<never> => ({ ok: false, problem })

interface SettingOptions<A> {
  readonly parse: (raw: string) => Parsed<A>
  /** Expected form, shown in the error message. */
  readonly expected: string
  /** Hides the raw value in error messages. */
  readonly secret?: boolean
}

const rawValue = (variable: string) =>
  Config.option(Config.String(variable)).pipe(
    Effect.map(Option.filter((value) => value.trim() !== "")),
    Effect.mapError(
      (error) => new ConfigInvalid({ variable, problem: error.message, expected: "a string" }),
    ),
  )

const validate = <A>(variable: string, raw: string, options: SettingOptions<A>) => {
  const parsed = options.parse(raw.trim())
  if (parsed.ok) return Effect.succeed(parsed.value)
  // A URL's user name and password are masked even in settings that are
  // not secret, since a mistyped value may still carry a password.
  const shown = options.secret
    ? "the value"
    : JSON.stringify(raw.replace(/\/\/[^/@\s]*@/g, "//***@"))
  return Effect.fail(
    new ConfigInvalid({
      variable,
      problem: `${shown} is invalid: ${parsed.problem}`,
      expected: options.expected,
    }),
  )
}

/** Reads an optional setting: `None` when unset or blank. */
export const optional = <A>(variable: string, options: SettingOptions<A>) =>
  Effect.flatMap(rawValue(variable), (raw) =>
    Option.match(raw, {
      onNone: () => Effect.succeed(Option.none<A>()),
      onSome: (text) => Effect.map(validate(variable, text, options), Option.some),
    }),
  )

/** Reads a setting that falls back to `fallback` when unset or blank. */
export const withDefault = <A>(variable: string, fallback: A, options: SettingOptions<A>) =>
  Effect.map(
    optional(variable, options),
    Option.getOrElse(() => fallback),
  )

/** Reads a secret as `Redacted` from the moment it leaves the environment. */
export const optionalSecret = (variable: string, options: SettingOptions<string>) =>
  Effect.map(
    optional(variable, { ...options, secret: true }),
    Option.map((value) => Redacted.make(value, { label: variable })),
  )
