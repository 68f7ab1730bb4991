/**
 * The JSON error responses of the HTTP API. Every error body has the form
 * `{"error":{"code":"snake_case","message":"..."}}`, where `code` is stable
 * and meant for programs, and `message` is meant for people.
 */
import { Schema } from "effect"

const ErrorDetail = Schema.Struct({
  code: Schema.String,
  message: Schema.String,
})

const errorFields = { error: ErrorDetail }

export class BadRequest extends Schema.Class<BadRequest>("BadRequest")(errorFields, {
  httpApiStatus: 400,
}) {}
export class Unauthorized extends Schema.Class<Unauthorized>("Unauthorized")(errorFields, {
  httpApiStatus: 401,
}) {}
export class Forbidden extends Schema.Class<Forbidden>("Forbidden")(errorFields, {
  httpApiStatus: 403,
}) {}
export class NotFound extends Schema.Class<NotFound>("NotFound")(errorFields, {
  httpApiStatus: 404,
}) {}
export class Conflict extends Schema.Class<Conflict>("Conflict")(errorFields, {
  httpApiStatus: 409,
}) {}
export class PayloadTooLarge extends Schema.Class<PayloadTooLarge>("PayloadTooLarge")(errorFields, {
  httpApiStatus: 413,
}) {}
export class TooManyRequests extends Schema.Class<TooManyRequests>("TooManyRequests")(errorFields, {
  httpApiStatus: 429,
}) {}
export class InternalError extends Schema.Class<InternalError>("InternalError")(errorFields, {
  httpApiStatus: 500,
}) {}
export class BadGateway extends Schema.Class<BadGateway>("BadGateway")(errorFields, {
  httpApiStatus: 502,
}) {}
export class ServiceUnavailable extends Schema.Class<ServiceUnavailable>("ServiceUnavailable")(
  errorFields,
  { httpApiStatus: 503 },
) {}
export class GatewayTimeout extends Schema.Class<GatewayTimeout>("GatewayTimeout")(errorFields, {
  httpApiStatus: 504,
}) {}

/** Every error an API handler may fail with; declared once on the authentication middleware. */
export const ApiErrorSchemas = [
  BadRequest,
  Unauthorized,
  Forbidden,
  NotFound,
  Conflict,
  PayloadTooLarge,
  TooManyRequests,
  InternalError,
  BadGateway,
  ServiceUnavailable,
  GatewayTimeout,
] as const

export type ApiError = InstanceType<(typeof ApiErrorSchemas)[number]>

const BY_STATUS = new Map<number, (typeof ApiErrorSchemas)[number]>([
  [400, BadRequest],
  [401, Unauthorized],
  [403, Forbidden],
  [404, NotFound],
  [409, Conflict],
  [413, PayloadTooLarge],
  [429, TooManyRequests],
  [500, InternalError],
  [502, BadGateway],
  [503, ServiceUnavailable],
  [504, GatewayTimeout],
])

/** Builds the API error for an HTTP status; unknown statuses become 500. */
export const apiError = (status: number, code: string, message: string): ApiError => {
  const schema = BY_STATUS.get(status) ?? InternalError
  return new schema({ error: { code, message } })
}

/** The same error body as plain JSON, for routes outside the HttpApi definition. */
export const errorBody = (code: string, message: string) => ({ error: { code, message } })
