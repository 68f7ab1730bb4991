/**
 * The parts of oidc-provider 9 that the tests use. The package ships no
 * type declarations.
 */
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http"

  interface StoredToken {
    readonly accountId: string
    readonly clientId: string
    readonly scope?: string
  }

  interface TokenModel {
    find(value: string): Promise<StoredToken | undefined>
  }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>)
    readonly AccessToken: TokenModel
    readonly RefreshToken: TokenModel
    callback(): (request: IncomingMessage, response: ServerResponse) => void
    on(event: string, listener: (...args: Array<unknown>) => void): this
  }
}
