import * as fs from "node:fs"
import * as path from "node:path"

/**
 * One line of the stream-queue journal, a JSON object per line. Short keys
 * keep the file small: `o` operation, `s` stream, `g` group, `c` consumer,
 * `i` id or ids, `p` payload, `l` last id, `n` delivery count.
 */
export type JournalRecord =
  /** Stream exists and has issued ids up to `l` (written by compaction). */
  | { readonly o: "s"; readonly s: string; readonly l: string }
  /** Group created; `l` is its last-delivered id when not `0-0`. */
  | { readonly o: "g"; readonly s: string; readonly g: string; readonly l?: string }
  /** Entry appended. */
  | { readonly o: "a"; readonly s: string; readonly i: string; readonly p: string }
  /** Entries deleted (by ack or remove). */
  | { readonly o: "d"; readonly s: string; readonly i: ReadonlyArray<string> }
  /** Entries delivered to consumer `c`, by a read or a claim. */
  | {
      readonly o: "r"
      readonly s: string
      readonly g: string
      readonly c: string
      readonly i: ReadonlyArray<string>
    }
  /** Entries acknowledged by the group. */
  | { readonly o: "k"; readonly s: string; readonly g: string; readonly i: ReadonlyArray<string> }
  /** Pending entry with `n` deliveries so far (written by compaction). */
  | {
      readonly o: "p"
      readonly s: string
      readonly g: string
      readonly c: string
      readonly i: string
      readonly n: number
    }

const writeAll = (fd: number, text: string): number => {
  const buffer = Buffer.from(text, "utf8")
  let offset = 0
  while (offset < buffer.length) offset += fs.writeSync(fd, buffer, offset)
  return buffer.length
}

const encode = (records: Iterable<JournalRecord>): string => {
  let text = ""
  for (const record of records) text += `${JSON.stringify(record)}\n`
  return text
}

// A rename is durable only once the directory entry is flushed too.
const syncDirectory = (directory: string): void => {
  const fd = fs.openSync(directory, "r")
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Append-only journal file, written with one `write` per operation and
 * flushed to disk by `sync`, which the owner calls about once a second (like
 * Redis `appendfsync everysec`). A process crash loses nothing already
 * written; a machine crash or power loss can lose the last second.
 */
export class Journal {
  private fd: number
  private dirty = false
  /** Bytes in the file, to decide when compaction pays off. */
  size: number

  private constructor(
    readonly file: string,
    fd: number,
    size: number,
  ) {
    this.fd = fd
    this.size = size
  }

  /**
   * Opens (or creates) the journal and returns its records. Lines that do not
   * parse are skipped and counted: the last line of a crashed process may be
   * cut short.
   */
  static open(file: string): {
    readonly journal: Journal
    readonly records: Array<JournalRecord>
    readonly skipped: number
  } {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : ""
    const records: Array<JournalRecord> = []
    let skipped = 0
    for (const line of text.split("\n")) {
      if (line === "") continue
      try {
        records.push(JSON.parse(line) as JournalRecord)
      } catch {
        skipped++
      }
    }
    // A cut-off last line has no newline; start the next record on its own line.
    const fd = fs.openSync(file, "a")
    const bytes = Buffer.byteLength(text)
    const size = text.length > 0 && !text.endsWith("\n") ? bytes + writeAll(fd, "\n") : bytes
    return { journal: new Journal(file, fd, size), records, skipped }
  }

  /** Appends records in one write. Throws when the write fails (disk full). */
  write(records: ReadonlyArray<JournalRecord>): void {
    this.size += writeAll(this.fd, encode(records))
    this.dirty = true
  }

  /** Flushes written records to disk, off the event loop. */
  sync(): Promise<void> {
    if (!this.dirty) return Promise.resolve()
    this.dirty = false
    const fd = this.fd
    return new Promise((resolve, reject) => {
      fs.fsync(fd, (error) => (error === null ? resolve() : reject(error)))
    })
  }

  /**
   * Replaces the journal with `records` (a snapshot of the live state): writes
   * a temporary file, flushes it, and renames it over the journal, so a crash
   * at any point leaves either the old or the new journal whole.
   */
  rewrite(records: Iterable<JournalRecord>): void {
    const temporary = `${this.file}.rewrite`
    const fd = fs.openSync(temporary, "w")
    let size: number
    try {
      size = writeAll(fd, encode(records))
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(temporary, this.file)
    syncDirectory(path.dirname(this.file))
    fs.closeSync(this.fd)
    this.fd = fs.openSync(this.file, "a")
    this.size = size
    this.dirty = false
  }

  close(): void {
    fs.fsyncSync(this.fd)
    fs.closeSync(this.fd)
  }
}
