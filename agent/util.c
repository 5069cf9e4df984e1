/* util: see util.h */
#include "util.h"

#include <poll.h>
#include <sys/select.h>
#include <time.h>

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
parse_int64(const char *s, int64_t *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int
parse_duration_ms(const char *s, int64_t *out)
{
    char *end;
    if (!s || !*s || !(isdigit((unsigned char)*s) || *s == '.'))
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    double mul;
    if (*end == '\0' || strcmp(end, "s") == 0)
        mul = 1000;
    else if (strcmp(end, "ms") == 0)
        mul = 1;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        mul = 60000;
    else if (strcmp(end, "h") == 0)
        mul = 3600000;
    else if (strcmp(end, "d") == 0)
        mul = 86400000;
    else if (strcmp(end, "w") == 0)
        mul = 7 * 86400000.0;
    else
        return -1;
    double r = v * mul;
    if (r > 9.0e15)
        return -1;
    *out = (int64_t)(r + 0.5);
    return 0;
}

void
format_duration(int64_t ms, char *out, unsigned outlen)
{
    if (ms < 0)
        ms = 0;
    if (ms < 1000)
        snprintf(out, outlen, "%lldms", (long long)ms);
    else if (ms < 60000 && ms % 1000 == 0)
        snprintf(out, outlen, "%llds", (long long)(ms / 1000));
    else if (ms < 60000)
        snprintf(out, outlen, "%.1fs", ms / 1000.0);
    else if (ms < 3600000)
        snprintf(out, outlen, "%lldm", (long long)(ms / 60000));
    else if (ms < 86400000)
        snprintf(out, outlen, "%lldh", (long long)(ms / 3600000));
    else
        snprintf(out, outlen, "%lldd", (long long)(ms / 86400000));
}

void
format_duration_exact(int64_t ms, char *out, unsigned outlen)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    if (ms < 0)
        ms = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms >= units[i].ms && ms % units[i].ms == 0) {
            snprintf(out, outlen, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    snprintf(out, outlen, "%lldms", (long long)ms);
}

int
parse_size(const char *s, int64_t *out)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno)
        return -1;
    long long mul = 1;
    if (*end == '\0' || strcasecmp(end, "b") == 0)
        mul = 1;
    else if (strcasecmp(end, "k") == 0 || strcasecmp(end, "kb") == 0)
        mul = 1024;
    else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mb") == 0)
        mul = 1024 * 1024;
    else if (strcasecmp(end, "g") == 0 || strcasecmp(end, "gb") == 0)
        mul = 1024LL * 1024 * 1024;
    else
        return -1;
    if (v > INT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

int
parse_bool(const char *s, bool *out)
{
    if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on") || !strcmp(s, "1")) {
        *out = true;
        return 0;
    }
    if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off") || !strcmp(s, "0")) {
        *out = false;
        return 0;
    }
    return -1;
}

bool
glob_list_match(const char *list, const char *name, bool nocase)
{
    const char *p = list;
    char pat[256];
    if (!list)
        return false;
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && isspace((unsigned char)t[-1]))
            t--;
        size_t n = (size_t)(t - p);
        if (n > 0 && n < sizeof pat) {
            memcpy(pat, p, n);
            pat[n] = '\0';
            if (nocase) {
                char lname[512];
                size_t ln = strlen(name);
                if (ln >= sizeof lname)
                    ln = sizeof lname - 1;
                for (size_t k = 0; k < ln; k++)
                    lname[k] = (char)tolower((unsigned char)name[k]);
                lname[ln] = '\0';
                for (char *c = pat; *c; c++)
                    *c = (char)tolower((unsigned char)*c);
                if (fnmatch(pat, lname, 0) == 0)
                    return true;
            } else if (fnmatch(pat, name, 0) == 0) {
                return true;
            }
        }
        p = e;
    }
    return false;
}

int
stream_id_parse(const char *id, uint64_t *ms, uint64_t *seq)
{
    char *end;
    if (!id || !isdigit((unsigned char)*id))
        return -1;
    errno = 0;
    unsigned long long a = strtoull(id, &end, 10);
    if (errno)
        return -1;
    unsigned long long b = 0;
    if (*end == '-') {
        const char *q = end + 1;
        if (!isdigit((unsigned char)*q))
            return -1;
        b = strtoull(q, &end, 10);
        if (errno)
            return -1;
    }
    if (*end)
        return -1;
    *ms = a;
    *seq = b;
    return 0;
}

int
stream_id_cmp(const char *a, const char *b)
{
    uint64_t am = 0, as = 0, bm = 0, bs = 0;
    (void)stream_id_parse(a, &am, &as);
    (void)stream_id_parse(b, &bm, &bs);
    if (am != bm)
        return am < bm ? -1 : 1;
    if (as != bs)
        return as < bs ? -1 : 1;
    return 0;
}

int64_t
stream_lag_ms(const char *cursor, const char *newest, const char *first)
{
    uint64_t nm = 0, ns = 0, cm = 0, cs = 0, fm = 0, fs = 0;
    if (!newest || !newest[0] || stream_id_parse(newest, &nm, &ns) != 0)
        return 0; /* an empty stream: nothing to read */
    if (stream_id_cmp(cursor, newest) >= 0)
        return 0;
    (void)stream_id_parse(cursor, &cm, &cs);
    uint64_t base = cm;
    if (base == 0) /* nothing read yet: behind since the first entry */
        base = first && first[0] && stream_id_parse(first, &fm, &fs) == 0 ? fm : nm;
    int64_t lag = nm > base ? (int64_t)(nm - base) : 0;
    return lag > 0 ? lag : 1; /* behind within one millisecond: 1 */
}

int
parse_time_ms(const char *s, int64_t now, int64_t *out)
{
    int64_t v;
    size_t len = strlen(s);
    bool digits = len > 0 && strspn(s, "0123456789") == len;
    if (digits && len >= 12 && parse_int64(s, &v) == 0) {
        *out = v;
        return 0;
    }
    if (digits && len >= 9 && parse_int64(s, &v) == 0) {
        *out = v * 1000;
        return 0;
    }
    if (parse_duration_ms(s, &v) == 0) {
        *out = now - v;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *fmts[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M",
                          "%Y-%m-%d %H:%M", "%Y-%m-%d"};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(s, fmts[i], &tm);
        if (end && (*end == '\0' || strcmp(end, "Z") == 0)) {
            time_t t = timegm(&tm);
            *out = (int64_t)t * 1000;
            return 0;
        }
    }
    return -1;
}

int
sorted_find(const void *base, int n, size_t size, size_t off, const char *name)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const char *s = *(const char *const *)((const char *)base + (size_t)mid * size + off);
        int c = strcmp(s, name);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int64_t
mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
format_utc(int64_t ms, const char *fmt, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (strftime(out, n, fmt, &tm) == 0 && n)
        out[0] = '\0';
}

int
fdsets_to_poll(const void *rset, const void *wset, const void *xset, int maxfd, struct pollfd *p,
               int max)
{
    const fd_set *r = rset, *w = wset, *x = xset;
    int n = 0;
    for (int fd = 0; fd <= maxfd && fd < FD_SETSIZE && n < max; fd++) {
        short ev = (short)((FD_ISSET(fd, r) ? POLLIN : 0) | (FD_ISSET(fd, w) ? POLLOUT : 0) |
                           (x && FD_ISSET(fd, x) ? POLLPRI : 0));
        if (ev) {
            p[n].fd = fd;
            p[n].events = ev;
            p[n].revents = 0;
            n++;
        }
    }
    return n;
}
