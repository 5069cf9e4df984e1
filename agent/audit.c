/* audit: see audit.h */
#include "audit.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util.h"

static const char *
os_user(void)
{
    /* root through sudo: the operator who ran sudo is who acted */
    const char *sudo = getenv("SUDO_USER");
    if (getuid() == 0 && sudo && *sudo)
        return sudo;
    struct passwd *pw = getpwuid(getuid());
    if (pw && pw->pw_name)
        return pw->pw_name;
    const char *u = getenv("USER");
    return u ? u : "unknown";
}

int
audit_mark_interrupted(struct store *st)
{
    int64_t ids[256];
    int n = 0, marked = 0;
    sqlite3_stmt *s = store_stmt(st, "stmt/actions_running");
    while (n < 256 && sqlite3_step(s) == SQLITE_ROW) {
        pid_t pid = (pid_t)sqlite3_column_int64(s, 1);
        if (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM))
            continue; /* still running */
        ids[n++] = sqlite3_column_int64(s, 0);
    }
    sqlite3_reset(s);
    for (int i = 0; i < n; i++) {
        s = store_stmt(st, "stmt/action_interrupted");
        store_bind_int(s, ":id", ids[i]);
        store_bind_int(s, ":now", now_ms());
        if (store_exec(st, s, "mark interrupted") == 0)
            marked++;
    }
    return marked;
}

int64_t
audit_begin(struct store *st, const struct audit_intent *in)
{
    sqlite3_stmt *s = store_stmt(st, "stmt/action_insert");
    store_bind_str(s, ":endpoint", in->endpoint);
    store_bind_str(s, ":queue", in->queue);
    store_bind_str(s, ":verb", in->verb);
    store_bind_str(s, ":os_user", os_user());
    store_bind_int(s, ":pid", (int64_t)getpid());
    store_bind_str(s, ":reason", in->reason);
    store_bind_str(s, ":selection", in->selection);
    store_bind_int(s, ":snapshot_at", in->snapshot_at);
    store_bind_int(s, ":frozen_count", in->frozen_count);
    store_bind_str(s, ":options", in->options);
    store_bind_int(s, ":now", now_ms());
    if (store_exec(st, s, "action intent") != 0)
        return -1;
    return sqlite3_last_insert_rowid(store_db(st));
}

int
audit_job(struct store *st, int64_t action, const char *job_id, const char *outcome,
          const char *detail, const char *target_queue, const char *target_job_id)
{
    sqlite3_stmt *s = store_stmt(st, "stmt/action_job");
    store_bind_int(s, ":action_id", action);
    store_bind_str(s, ":job_id", job_id);
    store_bind_str(s, ":outcome", outcome);
    store_bind_str(s, ":detail", detail);
    store_bind_str(s, ":target_queue", target_queue);
    store_bind_str(s, ":target_job_id", target_job_id);
    store_bind_int(s, ":now", now_ms());
    return store_exec(st, s, "action outcome");
}

int
audit_batch_begin(struct store *st, char *err, size_t errlen)
{
    if (store_begin(st) == 0)
        return 0;
    snprintf(err, errlen, "%s", store_errmsg(st));
    return -1;
}

int
audit_batch_commit(struct store *st, char *err, size_t errlen)
{
    /* COMMIT here, not store_commit: the rollback after a failed commit
     * would replace SQLite's message ("not an error") before it is said */
    char *msg = NULL;
    if (sqlite3_exec(store_db(st), "COMMIT", NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    snprintf(err, errlen, "%s", msg ? msg : store_errmsg(st));
    sqlite3_free(msg);
    store_rollback(st);
    return -1;
}

int
audit_finish(struct store *st, int64_t action, const char *state, int64_t done, int64_t skipped,
             int64_t left_alone)
{
    sqlite3_stmt *s = store_stmt(st, "stmt/action_finish");
    store_bind_int(s, ":id", action);
    store_bind_str(s, ":state", state);
    store_bind_int(s, ":now", now_ms());
    store_bind_int(s, ":done", done);
    store_bind_int(s, ":skipped", skipped);
    if (left_alone >= 0)
        store_bind_int(s, ":left_alone", left_alone);
    return store_exec(st, s, "action result");
}
