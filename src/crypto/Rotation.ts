/**
 * Re-encrypts every stored secret that is not under the active key of the
 * key ring, so an old key can be removed from TOKEN_ENCRYPTION_KEYS.
 *
 * It is safe while the service runs. Each batch is one transaction that locks
 * its rows with `FOR UPDATE SKIP LOCKED`, so a row that a request is writing
 * at that moment is skipped rather than overwritten. A writer that comes
 * later waits for the batch to commit and then writes its own value.
 * Credentials rows get their `version` bumped, so a refresher that read the
 * old row retries its compare-and-set. Running it again is harmless, because
 * rows already under the active key are not selected.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { ROTATION_TARGETS } from "../storage/queries/RotationTargets.ts"
import { TokenCipher, type TokenCipherError } from "./TokenCipher.ts"

export const DEFAULT_ROTATION_BATCH_SIZE = 500

export interface RotationProgress {
  readonly table: string
  /** 1-based number of the batch within the table. */
  readonly batch: number
  /** Rows re-encrypted by this batch. */
  readonly rotated: number
  /** Rows re-encrypted in this table so far. */
  readonly rotatedInTable: number
}

export interface RotationTableReport {
  readonly table: string
  readonly rotated: number
  /**
   * Rows still under another key after the pass: rows that another
   * transaction held locked, or that an instance still configured with the
   * old active key wrote meanwhile. Another run picks them up.
   */
  readonly remaining: number
}

export interface RotationReport {
  readonly activeKeyId: string
  readonly tables: ReadonlyArray<RotationTableReport>
}

export interface RotationOptions {
  /** Rows per transaction, 500 by default. */
  readonly batchSize?: number
  readonly onProgress?: (progress: RotationProgress) => Effect.Effect<void>
}

/**
 * Walks each table once in primary-key order. The cursor moves past every
 * selected row, whether or not it changed, so a pass ends even if a row
 * cannot be brought under the active key.
 */
export const rotateKeys = (
  options: RotationOptions = {},
): Effect.Effect<RotationReport, SqlError | TokenCipherError, SqlClient | TokenCipher> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient
    const cipher = yield* TokenCipher
    const batchSize = options.batchSize ?? DEFAULT_ROTATION_BATCH_SIZE
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      return yield* Effect.die(
        new RangeError(`batchSize must be a positive integer, got ${batchSize}`),
      )
    }

    const tables: Array<RotationTableReport> = []
    for (const target of ROTATION_TARGETS) {
      let after: string | undefined
      let rotated = 0
      let batch = 0

      while (true) {
        const result = yield* sql.withTransaction(target.rotateBatch(sql, cipher, after, batchSize))
        if (result.last === undefined) break

        batch += 1
        rotated += result.changed
        after = result.last
        if (options.onProgress !== undefined) {
          yield* options.onProgress({
            table: target.table,
            batch,
            rotated: result.changed,
            rotatedInTable: rotated,
          })
        }
      }

      const remaining = yield* target.countRemaining(sql, cipher.activeKeyId)
      tables.push({ table: target.table, rotated, remaining })
    }
    return { activeKeyId: cipher.activeKeyId, tables }
  }).pipe(Effect.withSpan("Rotation.rotateKeys"))
