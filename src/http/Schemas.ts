/** Request and response schemas shared by several API groups. */
import { Schema } from "effect"

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export const Uuid = Schema.String.check(
  Schema.makeFilter((value) => UUID.test(value) || "Expected a UUID such as 3f1c0e3a-...-9b2d"),
)

/** Organization ids are the application's own; any printable string up to 255 characters. */
export const OrganizationId = Schema.String.check(
  Schema.makeFilter(
    (value) =>
      (value.length >= 1 && value.length <= 255 && !/[\u0000-\u001f]/.test(value)) ||
      "Expected 1 to 255 printable characters",
  ),
)

export const Timestamp = Schema.String
