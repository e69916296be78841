import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Clock, Duration, Effect, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { itemOf, journalItem } from "../domain/journalItem.js"
import type { ItemKind } from "../domain/ProgressEvent.js"
import type { ItemRecord, ItemState, JobRecord, JobState } from "../services/JobStore.js"
import { JobStore } from "../services/JobStore.js"
import { JobStoreError } from "../services/JobStoreError.js"
import * as LibraryLock from "./LibraryLock.js"

/** The schema version this lyra writes; a store with a higher one is from a newer lyra. */
const schemaVersion = 1

export interface JobStoreSqliteOptions {
  /** The database file, e.g. `<library>/.lyra/state.db`. */
  readonly filename: string
  /** How long a cached metadata answer is good for; default 24 hours. */
  readonly metadataTtl?: Duration.DurationInput
  /** Read only (e.g. `lyra status`): no lock, no migrations, no writes. */
  readonly readOnly?: boolean
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

const makeStore = (options: JobStoreSqliteOptions) =>
  Effect.gen(function*() {
    const { filename } = options
    const sql = yield* SqlClient.SqlClient
    const ttl = Duration.toMillis(options.metadataTtl ?? Duration.hours(24))
    const fail = failure(filename)
    if (!options.readOnly) {
      // WAL with NORMAL sync survives a crash or kill -9 of lyra (only power loss can undo the last commits),
      // without an fsync for every journaled event.
      yield* sql`PRAGMA synchronous = NORMAL`.pipe(Effect.catchTag("SqlError", (error) => Effect.fail(fail(error))))
      yield* migrate(sql, filename)
    }

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

    const readItem = (jobId: string, item: string) =>
      Effect.map(
        sql<ItemRow>`SELECT * FROM items WHERE job = ${Number(jobId)} AND item = ${item}`,
        ([row]) => row === undefined ? undefined : toItem(row)
      )

    const writeItem = (jobId: string, record: ItemRecord) =>
      sql`INSERT INTO items (job, item, kind, label, parent, path, state, bytes, sha256, attempts, error)
        VALUES (${Number(jobId)}, ${record.item}, ${record.kind}, ${record.label}, ${record.parent ?? null},
          ${record.path ?? null}, ${record.state}, ${record.bytes}, ${record.sha256 ?? null}, ${record.attempts},
          ${record.error ?? null})
        ON CONFLICT (job, item) DO UPDATE SET kind = excluded.kind, label = excluded.label,
          parent = excluded.parent, path = excluded.path, state = excluded.state, bytes = excluded.bytes,
          sha256 = excluded.sha256, attempts = excluded.attempts, error = excluded.error`

    return JobStore.of({
      startJob: (inputs, settings) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const rows = yield* sql<JobRow>`INSERT INTO jobs (inputs, settings, created_at, updated_at, state)
            VALUES (${JSON.stringify(inputs)}, ${JSON.stringify(settings)}, ${now}, ${now}, 'running')
            RETURNING *`
          return toJob(rows[0]!)
        }).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(fail(error)))),
      job,
      jobs: sql<JobRow>`SELECT * FROM jobs ORDER BY id`.pipe(
        Effect.map((rows) => rows.map(toJob)),
        Effect.catchTag("SqlError", (error) => Effect.fail(fail(error)))
      ),
      setJobState: (id, state) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          sql`UPDATE jobs SET state = ${state}, updated_at = ${now} WHERE id = ${Number(id)}`).pipe(
            Effect.asVoid,
            Effect.catchTag("SqlError", (error) => Effect.fail(fail(error)))
          ),
      journal: (jobId, event) => {
        const item = itemOf(event)
        if (item === undefined) return Effect.void
        return Effect.flatMap(readItem(jobId, item), (previous) => {
          const next = journalItem(previous, event)
          return next === undefined ? Effect.void : Effect.asVoid(writeItem(jobId, next))
        }).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(fail(error))))
      },
      items: (jobId) =>
        sql<ItemRow>`SELECT * FROM items WHERE job = ${Number(jobId)} ORDER BY rowid`.pipe(
          Effect.map((rows) => rows.map(toItem)),
          Effect.catchTag("SqlError", (error) => Effect.fail(fail(error)))
        ),
      archived: (provider, trackId) =>
        sql<{ path: string; bytes: number; sha256: string }>`SELECT path, bytes, sha256 FROM archive
          WHERE provider = ${provider} AND track_id = ${trackId}`.pipe(
          Effect.map(([row]) => Option.fromNullable(row)),
          Effect.catchTag("SqlError", (error) => Effect.fail(fail(error)))
        ),
      archive: (provider, trackId, entry) =>
        sql`INSERT INTO archive (provider, track_id, path, bytes, sha256)
          VALUES (${provider}, ${trackId}, ${entry.path}, ${entry.bytes}, ${entry.sha256})
          ON CONFLICT (provider, track_id) DO UPDATE SET path = excluded.path, bytes = excluded.bytes,
            sha256 = excluded.sha256`.pipe(
          Effect.asVoid,
          Effect.catchTag("SqlError", (error) => Effect.fail(fail(error)))
        ),
      cached: (key) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const [row] = yield* sql<{ value: string }>`SELECT value FROM metadata
            WHERE key = ${key} AND stored_at > ${now - ttl}`
          return Option.map(Option.fromNullable(row), (r) => r.value)
        }).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(fail(error)))),
      cache: (key, value) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          sql`INSERT INTO metadata (key, value, stored_at) VALUES (${key}, ${value}, ${now})
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, stored_at = excluded.stored_at`).pipe(
            Effect.asVoid,
            Effect.catchTag("SqlError", (error) => Effect.fail(fail(error)))
          )
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
      yield* Effect.try({
        try: () => fs.mkdirSync(path.dirname(options.filename), { recursive: true }),
        catch: (error) =>
          new JobStoreError({ message: `cannot create ${path.dirname(options.filename)}: ${(error as Error).message}` })
      })
      if (options.readOnly && !fs.existsSync(options.filename)) {
        return yield* new JobStoreError({ message: `no lyra state here yet (${options.filename})` })
      }
      if (!options.readOnly) yield* LibraryLock.acquire(path.join(path.dirname(options.filename), "lock"))
      yield* checkFile(options.filename)
      return Layer.effect(JobStore, makeStore(options)).pipe(
        Layer.provide(SqliteClient.layer({ filename: options.filename, readonly: options.readOnly === true }).pipe(
          Layer.orDie
        ))
      )
    })
  )
