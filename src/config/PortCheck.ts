import { createServer } from "node:net"
import { Effect } from "effect"
import { ConfigInvalid } from "./Setting.ts"

/**
 * Fails when `host:port` cannot be bound, before any store starts, so a
 * port that another process uses stops the boot in milliseconds with a
 * message naming PORT. The server still binds for real later; a process
 * that takes the port in between fails the boot then.
 */
export const checkPortAvailable = (host: string, port: number) =>
  Effect.callback<void, ConfigInvalid>((resume) => {
    const server = createServer()
    server.once("error", (error: NodeJS.ErrnoException) =>
      resume(
        Effect.fail(
          new ConfigInvalid({
            variable: "PORT",
            problem: `${host}:${port} cannot be bound (${error.code ?? error.message})`,
            expected:
              "a port no other process listens on; stop that process or choose another PORT",
          }),
        ),
      ),
    )
    server.listen(port, host, () => server.close(() => resume(Effect.void)))
  })
