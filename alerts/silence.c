/* silence: see silence.h */
#include "silence.h"

#include <pwd.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *
silence_author(void)
{
    const char *sudo = getenv("SUDO_USER"); /* root through sudo: the operator */
    if (getuid() == 0 && sudo && *sudo)
        return sudo;
    const char *u = getenv("USER");
    if (u && *u)
        return u;
    struct passwd *pw = getpwuid(getuid());
    return pw ? pw->pw_name : "unknown";
}

int
silence_add(struct store *st, const char *matchers, const char *author, const char *comment,
            int64_t now, int64_t until, int64_t *id, char *err, size_t errlen)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO silences (matchers, author, comment, created_at, expires_at) "
                           "VALUES (?, ?, ?, ?, ?)",
                           -1, &s, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(s, 1, matchers, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, author, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, comment, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_int64(s, 5, until);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    *id = sqlite3_last_insert_rowid(db);
    return 0;
}

int
silence_expire(struct store *st, int64_t id, int64_t now)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(store_db(st),
                           "UPDATE silences SET expires_at = ? WHERE id = ? AND expires_at > ?", -1,
                           &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, id);
    sqlite3_bind_int64(s, 3, now);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return -1;
    return sqlite3_changes(store_db(st)) > 0 ? 1 : 0;
}
