import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as Arr from "effect/Array"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as fs from "node:fs"
import * as path from "node:path"
import { itemOf, journalItem } from "../domain/journalItem.js"
import type { ItemKind, ProgressEventInput } from "../domain/ProgressEvent.js"
import type { ItemRecord, ItemState, JobRecord, JobState } from "../services/JobStore.js"
import { JobStore } from "../services/JobStore.js"
import { JobStoreError } from "../services/JobStoreError.js"
import * as LibraryLock from "./LibraryLock.js"
import { mkdirProblem } from "./osErrorReason.js"

/** The schema version this lyra writes; a store with a higher one is from a newer lyra. */
const schemaVersion = 1

export interface JobStoreSqliteOptions {
  /** The database file, e.g. `<library>/.lyra/state.db`. */
  readonly filename: string
  /** How long a cached metadata answer is good for; default 24 hours. */
  readonly metadataTtl?: Duration.DurationInput
  /** Read only (e.g. `lyra status`): no lock, no migrations, no writes. */
  readonly readOnly?: boolean
  /**
   * How long a journaled event may wait to be written together with the ones
   * after it; default 100 ms. A track done or failed is written at once.
   */
  readonly journalDelay?: Duration.DurationInput
}

const sqliteHeader = "SQLite format 3\u0000"

/** A file that exists but is not an SQLite database is never opened, let alone wiped. */
const checkFile = (filename: string) =>
  Effect.try({
    try: () => {
      if (!fs.existsSync(filename)) return
      const handle = fs.openSync(filename, "r")
      try {
        const header = Buffer.alloc(16)
        const read = fs.readSync(handle, header, 0, 16, 0)
        if (read > 0 && header.toString("latin1", 0, read) !== sqliteHeader.slice(0, read)) {
          throw new Error("not an SQLite database")
        }
      } finally {
        fs.closeSync(handle)
      }
    },
    catch: () =>
      new JobStoreError({
        message: `${filename} is not a lyra state database (corrupt?); move it aside to start afresh, or use --no-state`
      })
  })

const failure = (filename: string) => (error: SqlError) =>
  new JobStoreError({ message: `state store ${filename}: ${String(error.cause ?? error.message).split("\n")[0]}` })

const migrate = (sql: SqlClient.SqlClient, filename: string) =>
  Effect.gen(function*() {
    const [row] = yield* sql<{ user_version: number }>`PRAGMA user_version`
    const version = row?.user_version ?? 0
    if (version > schemaVersion) {
      return yield* new JobStoreError({
        message: `${filename} was written by a newer lyra (state version ${version}; this lyra knows ${schemaVersion}); `
          + "upgrade lyra to use it"
      })
    }
    if (version === schemaVersion) return
    yield* sql.withTransaction(Effect.gen(function*() {
      yield* sql`CREATE TABLE IF NOT EXISTS jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        inputs TEXT NOT NULL,
        settings TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        state TEXT NOT NULL
      )`
      yield* sql`CREATE TABLE IF NOT EXISTS items (
        job INTEGER NOT NULL REFERENCES jobs(id),
        item TEXT NOT NULL,
        kind TEXT NOT NULL,
        label TEXT NOT NULL,
        parent TEXT,
        path TEXT,
        state TEXT NOT NULL,
        bytes INTEGER NOT NULL DEFAULT 0,
        sha256 TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        PRIMARY KEY (job, item)
      )`
      yield* sql`CREATE TABLE IF NOT EXISTS archive (
        provider TEXT NOT NULL,
        track_id TEXT NOT NULL,
        path TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (provider, track_id)
      )`
      yield* sql`CREATE TABLE IF NOT EXISTS metadata (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        stored_at INTEGER NOT NULL
      )`
      yield* sql.unsafe(`PRAGMA user_version = ${schemaVersion}`)
    }))
  }).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(failure(filename)(error))))

interface JobRow {
  readonly id: number
  readonly inputs: string
  readonly settings: string
  readonly created_at: number
  readonly updated_at: number
  readonly state: string
}

interface ItemRow {
  readonly item: string
  readonly kind: string
  readonly label: string
  readonly parent: string | null
  readonly path: string | null
  readonly state: string
  readonly bytes: number
  readonly sha256: string | null
  readonly attempts: number
  readonly error: string | null
}

interface ArchiveRow {
  readonly provider: string
  readonly track_id: string
  readonly path: string
  readonly bytes: number
  readonly sha256: string
}

const toJob = (row: JobRow): JobRecord => ({
  id: String(row.id),
  inputs: JSON.parse(row.inputs) as ReadonlyArray<string>,
  settings: JSON.parse(row.settings) as unknown,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  state: row.state as JobState
})

const toItem = (row: ItemRow): ItemRecord => ({
  item: row.item,
  kind: row.kind as ItemKind,
  label: row.label,
  parent: row.parent ?? undefined,
  path: row.path ?? undefined,
  state: row.state as ItemState,
  bytes: row.bytes,
  sha256: row.sha256 ?? undefined,
  attempts: row.attempts,
  error: row.error ?? undefined
})

/** Rows written, or keys read, per statement: well under SQLite's 32766 bound variables at 11 a row. */
const rowsPerStatement = 500

/**
 * Whether an event's record is written before the event goes on: an item done
 * (a download, which a resumed run would have to verify again) or failed (what
 * `retry-failed` reads). The rest (queued, started, bytes, retries, skips) a
 * resumed run relearns for nothing, so it waits for the next batch.
 */
const writtenAtOnce = (event: ProgressEventInput) =>
  event._tag === "ItemFinished" && event.state !== "skipped"

const makeStore = (options: JobStoreSqliteOptions) =>
  Effect.gen(function*() {
    const { filename } = options
    const sql = yield* SqlClient.SqlClient
    const ttl = Duration.toMillis(options.metadataTtl ?? Duration.hours(24))
    const delay = options.journalDelay ?? Duration.millis(100)
    const fail = failure(filename)
    if (!options.readOnly) {
      // WAL with NORMAL sync survives a crash or kill -9 of lyra (only power loss can undo the last commits),
      // without an fsync for every journaled event.
      yield* sql`PRAGMA synchronous = NORMAL`.pipe(Effect.catchTag("SqlError", (error) => Effect.fail(fail(error))))
      yield* migrate(sql, filename)
    }

    // Journal writes are batched: each event updates the job's items in memory, and the changed
    // records go to the database together, in one transaction, `delay` later (or at once, see
    // `writtenAtOnce`), before any archive entry, job state or read of the items, and when the
    // store closes. A kill -9 loses at most the last `delay` of queued/started/bytes/skip records.
    const scope = yield* Effect.scope
    const writer = yield* Effect.makeSemaphore(1)
    /** The items of each job journaled in this process, as last journaled. */
    const known = new Map<string, Map<string, ItemRecord>>()
    /** Records and cache entries not yet written, newest per key. */
    let pendingItems = new Map<string, ItemRecord & { readonly job: string }>()
    let pendingCache = new Map<string, { readonly value: string; readonly at: number }>()
    let scheduled = false
    /** A batch written in the background that failed: the next journal call reports it. */
    let lastFailure: JobStoreError | undefined

    const itemRow = (record: ItemRecord & { readonly job: string }) => ({
      job: Number(record.job),
      item: record.item,
      kind: record.kind,
      label: record.label,
      parent: record.parent ?? null,
      path: record.path ?? null,
      state: record.state,
      bytes: record.bytes,
      sha256: record.sha256 ?? null,
      attempts: record.attempts,
      error: record.error ?? null
    })

    const writeItems = (records: ReadonlyArray<ItemRecord & { readonly job: string }>) =>
      Effect.forEach(Arr.chunksOf(records, rowsPerStatement), (chunk) =>
        sql`INSERT INTO items ${sql.insert(chunk.map(itemRow))}
          ON CONFLICT (job, item) DO UPDATE SET kind = excluded.kind, label = excluded.label,
            parent = excluded.parent, path = excluded.path, state = excluded.state, bytes = excluded.bytes,
            sha256 = excluded.sha256, attempts = excluded.attempts, error = excluded.error`, { discard: true })

    const writeCache = (entries: ReadonlyArray<readonly [string, { readonly value: string; readonly at: number }]>) =>
      Effect.forEach(Arr.chunksOf(entries, rowsPerStatement), (chunk) =>
        sql`INSERT INTO metadata ${sql.insert(chunk.map(([key, { at, value }]) => ({ key, value, stored_at: at })))}
          ON CONFLICT (key) DO UPDATE SET value = excluded.value, stored_at = excluded.stored_at`, { discard: true })

    /**
     * Writes everything pending, then `also`, in one transaction. One writer at
     * a time, so batches land in the order they were taken; a batch that fails
     * goes back under anything newer, for the next try.
     */
    const flushWith = <A>(also: Effect.Effect<A, SqlError>): Effect.Effect<A, JobStoreError> =>
      writer.withPermits(1)(Effect.uninterruptible(Effect.suspend(() => {
        const items = pendingItems
        const cache = pendingCache
        pendingItems = new Map()
        pendingCache = new Map()
        const write = items.size === 0 && cache.size === 0 ? also : sql.withTransaction(
          Effect.zipRight(Effect.zipRight(writeItems([...items.values()]), writeCache([...cache])), also)
        )
        return write.pipe(
          // @effect/sql makes a failed COMMIT (a full disk) a defect; it is this store failing all the same.
          Effect.catchSomeDefect((defect) =>
            Predicate.isTagged(defect, "SqlError") ? Option.some(Effect.fail(defect as SqlError)) : Option.none()
          ),
          Effect.catchTag("SqlError", (error) =>
            Effect.suspend(() => {
              pendingItems = new Map([...items, ...pendingItems])
              pendingCache = new Map([...cache, ...pendingCache])
              return Effect.fail(fail(error))
            }))
        )
      })))
    const flush = flushWith(Effect.void)

    /** Writes what is pending `delay` from now, in the store's scope; once per batch. */
    const schedule = Effect.suspend(() => {
      if (scheduled) return Effect.void
      scheduled = true
      return Effect.sleep(delay).pipe(
        Effect.zipRight(Effect.suspend(() => {
          scheduled = false
          return flush
        })),
        Effect.catchAll((error) => Effect.sync(() => void (lastFailure = error))),
        Effect.forkIn(scope),
        Effect.asVoid
      )
    })

    // Closing the store (the job's end, an interrupt, Ctrl-C) writes what is pending.
    yield* Effect.addFinalizer(() => Effect.ignore(flush))

    const job = (id?: string) =>
      Effect.flatMap(
        id === undefined
          ? sql<JobRow>`SELECT * FROM jobs ORDER BY id DESC LIMIT 1`
          : sql<JobRow>`SELECT * FROM jobs WHERE id = ${Number(id)}`,
        ([row]) =>
          row === undefined
            ? new JobStoreError({ message: id === undefined ? "no job has run in this library yet" : `no job ${id}` })
            : Effect.succeed(toJob(row))
      ).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(fail(error))))

    /** A job's items as journaled so far: read once per process, then kept up to date in memory. */
    const itemsOf = (jobId: string): Effect.Effect<Map<string, ItemRecord>, JobStoreError> => {
      const table = known.get(jobId)
      if (table !== undefined) return Effect.succeed(table)
      return writer.withPermits(1)(Effect.suspend(() => {
        const loaded = known.get(jobId)
        if (loaded !== undefined) return Effect.succeed(loaded)
        return Effect.map(sql<ItemRow>`SELECT * FROM items WHERE job = ${Number(jobId)} ORDER BY rowid`, (rows) => {
          const fresh = new Map(rows.map((row) => [row.item, toItem(row)] as const))
          known.set(jobId, fresh)
          return fresh
        })
      })).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(fail(error))))
    }

    return JobStore.of({
      startJob: (inputs, settings) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const rows = yield* sql<JobRow>`INSERT INTO jobs (inputs, settings, created_at, updated_at, state)
            VALUES (${JSON.stringify(inputs)}, ${JSON.stringify(settings)}, ${now}, ${now}, 'running')
            RETURNING *`
          const record = toJob(rows[0]!)
          known.set(record.id, new Map())
          return record
        }).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(fail(error)))),
      job,
      jobs: sql<JobRow>`SELECT * FROM jobs ORDER BY id`.pipe(
        Effect.map((rows) => rows.map(toJob)),
        Effect.catchTag("SqlError", (error) => Effect.fail(fail(error)))
      ),
      // A job's state is written with every record journaled before it.
      setJobState: (id, state) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          flushWith(sql`UPDATE jobs SET state = ${state}, updated_at = ${now} WHERE id = ${Number(id)}`)).pipe(
            Effect.asVoid
          ),
      journal: (jobId, event) => {
        const item = itemOf(event)
        if (item === undefined) return Effect.void
        return Effect.flatMap(itemsOf(jobId), (table) => {
          if (lastFailure !== undefined) {
            const error = lastFailure
            lastFailure = undefined
            return Effect.fail(error)
          }
          const next = journalItem(table.get(item), event)
          if (next === undefined) return Effect.void
          table.set(item, next)
          pendingItems.set(`${jobId}\u0000${item}`, { ...next, job: jobId })
          return writtenAtOnce(event) ? flush : schedule
        })
      },
      items: (jobId) =>
        Effect.zipRight(
          flush,
          sql<ItemRow>`SELECT * FROM items WHERE job = ${Number(jobId)} ORDER BY rowid`.pipe(
            Effect.map((rows) => rows.map(toItem)),
            Effect.catchTag("SqlError", (error) => Effect.fail(fail(error)))
          )
        ),
      archived: (provider, trackId) =>
        sql<{ path: string; bytes: number; sha256: string }>`SELECT path, bytes, sha256 FROM archive
          WHERE provider = ${provider} AND track_id = ${trackId}`.pipe(
          Effect.map(([row]) => Option.fromNullable(row)),
          Effect.catchTag("SqlError", (error) => Effect.fail(fail(error)))
        ),
      archivedAmong: (tracks) =>
        Effect.forEach(
          Object.entries(Arr.groupBy(tracks, (track) => track.provider)),
          ([provider, some]) =>
            Effect.forEach(Arr.chunksOf(Arr.dedupe(some.map((track) => track.id)), rowsPerStatement), (ids) =>
              sql<ArchiveRow>`SELECT provider, track_id, path, bytes, sha256 FROM archive
                WHERE provider = ${provider} AND ${sql.in("track_id", ids)}`),
          { concurrency: 1 }
        ).pipe(
          Effect.map((rows) => {
            const found = new Map(rows.flat(2).map((row) =>
              [`${row.provider}:${row.track_id}`, { path: row.path, bytes: row.bytes, sha256: row.sha256 }] as const
            ))
            return (provider: string, trackId: string) => Option.fromNullable(found.get(`${provider}:${trackId}`))
          }),
          Effect.catchTag("SqlError", (error) => Effect.fail(fail(error)))
        ),
      // Written at once (with what was journaled before it): it is what spares the next run a download.
      archive: (provider, trackId, entry) =>
        flushWith(sql`INSERT INTO archive (provider, track_id, path, bytes, sha256)
          VALUES (${provider}, ${trackId}, ${entry.path}, ${entry.bytes}, ${entry.sha256})
          ON CONFLICT (provider, track_id) DO UPDATE SET path = excluded.path, bytes = excluded.bytes,
            sha256 = excluded.sha256`).pipe(Effect.asVoid),
      cached: (key) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const pending = pendingCache.get(key)
          if (pending !== undefined) return now - pending.at < ttl ? Option.some(pending.value) : Option.none()
          const [row] = yield* sql<{ value: string }>`SELECT value FROM metadata
            WHERE key = ${key} AND stored_at > ${now - ttl}`
          return Option.map(Option.fromNullable(row), (r) => r.value)
        }).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(fail(error)))),
      cachedAmong: (keys) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const found = new Map<string, string>()
          const unwritten: Array<string> = []
          for (const key of Arr.dedupe(keys)) {
            const pending = pendingCache.get(key)
            if (pending === undefined) unwritten.push(key)
            else if (now - pending.at < ttl) found.set(key, pending.value)
          }
          for (const some of Arr.chunksOf(unwritten, rowsPerStatement)) {
            const rows = yield* sql<{ key: string; value: string }>`SELECT key, value FROM metadata
              WHERE ${sql.in("key", some)} AND stored_at > ${now - ttl}`
            for (const row of rows) found.set(row.key, row.value)
          }
          return found
        }).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(fail(error)))),
      // A lost cache entry costs one request next time: it waits for the next batch.
      cache: (key, value) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          pendingCache.set(key, { value, at: now })
          return schedule
        })
    })
  })

/**
 * The JobStore in SQLite (WAL), at `filename`. A writer holds the library's
 * lock for as long as the layer lives, so a second lyra on the same library is
 * refused with a message naming the first.
 */
export const layer = (options: JobStoreSqliteOptions): Layer.Layer<JobStore, JobStoreError> =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      if (options.readOnly) {
        // A reader creates nothing: `lyra status` in the wrong folder leaves no library behind.
        if (!fs.existsSync(options.filename)) {
          return yield* new JobStoreError({ message: `no lyra state here yet (${options.filename})` })
        }
      } else {
        yield* Effect.try({
          try: () => fs.mkdirSync(path.dirname(options.filename), { recursive: true }),
          catch: (error) =>
            new JobStoreError({ message: `cannot create ${path.dirname(options.filename)}: ${mkdirProblem(path.dirname(options.filename), error)}` })
        })
        yield* LibraryLock.acquire(LibraryLock.lockFileFor(options.filename))
      }
      yield* checkFile(options.filename)
      return Layer.scoped(JobStore, makeStore(options)).pipe(
        Layer.provide(SqliteClient.layer({ filename: options.filename, readonly: options.readOnly === true }).pipe(
          Layer.orDie
        ))
      )
    })
  )
