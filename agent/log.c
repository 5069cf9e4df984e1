/* log: see log.h */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/time.h>

#include "buf.h"

int log_threshold = LOG_INFO;
static FILE *log_fp;
static bool log_json; /* one JSON object a line (journald, Loki) */

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_set_level(enum log_level lvl)
{
    log_threshold = (int)lvl;
}

int
log_parse_level(const char *s, enum log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *
log_level_name(enum log_level lvl)
{
    return level_names[lvl];
}

void
log_set_file(FILE *f)
{
    log_fp = f;
}

void
log_set_json(bool json)
{
    log_json = json;
}

static const char *log_endpoint;

void
log_set_endpoint(const char *name)
{
    log_endpoint = name;
}

void
log_write(enum log_level lvl, const char *fmt, ...)
{
    FILE *fp = log_fp ? log_fp : stderr;
    struct timeval tv;
    struct tm tm;
    char ts[32];
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (log_json) {
        /* {"time":"...","level":"warn","msg":"..."}: the message is already
         * escaped for a terminal; JSON escaping on top keeps the line valid */
        struct buf b;
        buf_init(&b, 0);
        buf_addf(&b, "{\"time\":\"%s.%03dZ\",\"level\":\"%s\",", ts,
                 (int)(tv.tv_usec / 1000), level_names[lvl]);
        if (log_endpoint) {
            buf_adds(&b, "\"endpoint\":");
            buf_add_json_str(&b, log_endpoint, strlen(log_endpoint));
            buf_addc(&b, ',');
        }
        buf_adds(&b, "\"msg\":");
        buf_add_json_str(&b, line, strlen(line));
        buf_adds(&b, "}\n");
        fwrite(b.data, 1, b.len, fp);
        buf_release(&b);
    } else {
        fprintf(fp, "%s.%03dZ %c %s%s%s%s\n", ts, (int)(tv.tv_usec / 1000), "DIWE"[lvl],
                log_endpoint ? "[" : "", log_endpoint ? log_endpoint : "",
                log_endpoint ? "] " : "", line);
    }
    fflush(fp);
}

const char *
log_esc(const char *s, size_t n)
{
    static char ring[8][1024];
    static unsigned slot;
    char *out = ring[slot++ % 8];
    struct buf b;
    if (!s)
        return "(null)";
    buf_init(&b, 900);
    buf_add_escaped(&b, s, n > 200 ? 200 : n);
    snprintf(out, 1024, "%s%s", b.data ? b.data : "", n > 200 ? "..." : "");
    buf_release(&b);
    return out;
}
