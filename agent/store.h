/*
 * store: the SQLite audit store. Opens read-write (WAL, busy_timeout,
 * migrations from the embedded sql/schema) or read-only (query_only);
 * statements are looked up by name ("stmt/cursor_upsert") and cached.
 */
#ifndef AGENT_STORE_H
#define AGENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct store;

/* NULL on failure with a message in err. */
struct store *store_open(const char *path, bool readonly, char *err, size_t errlen);
/* Read-only, whatever its schema version (a reader refuses an older store:
 * `store backup` copies it as it is). */
struct store *store_open_as_is(const char *path, char *err, size_t errlen);
void store_close(struct store *st);
sqlite3 *store_db(struct store *st);
/* Moved on whenever texts rows may have been deleted (retention): a writer's
 * memory of text ids (failrec.c) is good only within one generation. */
uint64_t store_texts_gen(const struct store *st);
void store_texts_changed(struct store *st);
const char *store_errmsg(struct store *st);

/* A cached prepared statement for an embedded SQL text, reset and with its
 * bindings cleared. Aborts on a missing name (programmer error). */
sqlite3_stmt *store_stmt(struct store *st, const char *name);
/* Run every statement of an embedded script with one int64 parameter bound
 * to :p wherever it appears. 0 / -1. */
int store_run_script(struct store *st, const char *name, const char *param, int64_t value);

int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* Bind by :name; a name the statement lacks is ignored. */
void store_bind_text(sqlite3_stmt *s, const char *name, const char *p, size_t n);
void store_bind_str(sqlite3_stmt *s, const char *name, const char *p); /* NULL -> NULL */
void store_bind_int(sqlite3_stmt *s, const char *name, int64_t v);
void store_bind_null(sqlite3_stmt *s, const char *name);
void store_bind_real(sqlite3_stmt *s, const char *name, double v); /* NAN -> NULL */

/* Step a statement that returns no rows. 0 / -1 (logged with the name). */
int store_exec(struct store *st, sqlite3_stmt *s, const char *what);

/* The agent reports store trouble itself (once per change of state): in
 * quiet mode failed writes are only remembered. store_last_error() is the
 * last one, "what: SQLite's message". */
void store_set_quiet(struct store *st, bool quiet);
const char *store_last_error(const struct store *st);
/* Record a failure seen by a caller that stepped a statement itself. */
void store_note_error(struct store *st, const char *what);

/* Rows written before endpoints had names carry the endpoint's address
 * ("host:port/db"): give them its name (the agent, at start). Rows that
 * would collide with ones already under the name are left as they are.
 * Rows renamed, or -1. */
int store_rename_endpoint(struct store *st, const char *from, const char *to);

/* Schema version (PRAGMA user_version) */
int store_version(struct store *st);

#endif
