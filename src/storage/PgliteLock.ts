/**
 * An exclusive lock on an embedded PGlite data directory, held as a lock file
 * next to it that stores the owner's process id.
 *
 * PGlite 0.5.17 opens a data directory that another process has open, and two
 * processes writing the same files corrupt the database. That happens when
 * `bun run migrate` runs while `bun run start` serves the embedded database,
 * so every opener takes this lock first.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs"

/** Data directories this process holds, so a second open in the same process is rejected too. */
const heldByThisProcess = new Set<string>()

export type LockResult =
  | { readonly _tag: "Acquired"; readonly release: () => void }
  | { readonly _tag: "Held"; readonly ownerPid: number | undefined }

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM means the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

const readOwner = (lockPath: string): number | undefined => {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, "utf8").trim(), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

const createExclusive = (lockPath: string): boolean => {
  try {
    const fd = openSync(lockPath, "wx")
    writeSync(fd, `${process.pid}\n`)
    closeSync(fd)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false
    throw error
  }
}

/**
 * Takes the lock at `lockPath`, replacing a stale lock file whose process has
 * exited. A lock file that names this process's own id but is not in the
 * in-process set is stale as well: a container restarted after a crash often
 * gets the same process id (1) as its previous run.
 *
 * NOTE: a stale lock whose process id now belongs to an unrelated live
 * process is reported as held. The error message then names the lock file to
 * delete.
 *
 * @throws the file system error when the lock file cannot be created or read.
 */
export const acquirePgliteLock = (lockPath: string): LockResult => {
  if (heldByThisProcess.has(lockPath)) return { _tag: "Held", ownerPid: process.pid }

  // Two attempts: the second follows the removal of a stale lock file.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (createExclusive(lockPath)) {
      heldByThisProcess.add(lockPath)
      const release = () => {
        heldByThisProcess.delete(lockPath)
        if (readOwner(lockPath) === process.pid) rmSync(lockPath, { force: true })
      }
      return { _tag: "Acquired", release }
    }

    const owner = readOwner(lockPath)
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
      return { _tag: "Held", ownerPid: owner }
    }
    rmSync(lockPath, { force: true })
  }
  return { _tag: "Held", ownerPid: readOwner(lockPath) }
}
