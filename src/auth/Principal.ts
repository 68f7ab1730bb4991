import { Context } from "effect"

/**
 * The caller of an API request: the operator holding the admin key, or a
 * backend holding a key scoped to one organization.
 */
export type Principal =
  | { readonly kind: "admin" }
  | { readonly kind: "organization"; readonly organizationId: string; readonly keyId: string }

export class CurrentPrincipal extends Context.Service<CurrentPrincipal, Principal>()(
  "app/CurrentPrincipal",
) {}

/**
 * Tells whether the principal may see rows of `organizationId`. Callers turn
 * a `false` into 404 rather than 403, so a scoped key cannot probe which ids
 * exist in other organizations.
 */
export const canAccessOrganization = (principal: Principal, organizationId: string): boolean =>
  principal.kind === "admin" || principal.organizationId === organizationId
