/* http: see http.h */
#include "http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "log.h"
#include "util.h"
#include "xmem.h"

struct http {
    struct MHD_Daemon *d;
    http_handler fn;
    void *ud;
    int port;
};

int
http_parse_addr(const char *addr, char *host, size_t hostlen, int *port, char *err, size_t errlen)
{
    const char *colon = strrchr(addr, ':');
    const char *h = addr;
    size_t hn;
    if (!colon) {
        snprintf(err, errlen, "'%s': expected HOST:PORT (e.g. 127.0.0.1:9464)", addr);
        return -1;
    }
    hn = (size_t)(colon - addr);
    if (hn >= 2 && h[0] == '[' && h[hn - 1] == ']') { /* [::1]:9464 */
        h++;
        hn -= 2;
    }
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || p < 0 || p > 65535) {
        snprintf(err, errlen, "'%s': the port must be a number from 0 to 65535", addr);
        return -1;
    }
    if (hn == 0 || hn >= hostlen) {
        snprintf(err, errlen, "'%s': a numeric address is needed (127.0.0.1, ::1, 0.0.0.0)", addr);
        return -1;
    }
    memcpy(host, h, hn);
    host[hn] = '\0';
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) != 1 && inet_pton(AF_INET6, host, &a6) != 1) {
        snprintf(err, errlen, "'%s': '%s' is not a numeric IPv4 or IPv6 address", addr, host);
        return -1;
    }
    *port = (int)p;
    return 0;
}

static void
on_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    log_debug("http: %s", msg);
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
       const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    struct http *h = cls;
    (void)version;
    (void)upload;
    if (*con_cls == NULL) { /* the headers: look at the body on the next call */
        *con_cls = h;
        return MHD_YES;
    }
    struct buf body;
    const char *ctype = "text/plain; charset=utf-8";
    int status;
    buf_init(&body, 0);
    if (*upload_size) {
        *upload_size = 0;
        status = 413;
        buf_adds(&body, "no request bodies here\n");
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        buf_adds(&body, "GET or HEAD\n");
    } else {
        status = h->fn(h->ud, url, &body, &ctype);
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(body.len, body.data ? body.data : (void *)"",
                                        MHD_RESPMEM_MUST_COPY);
    buf_release(&body);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, "Allow", "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

struct http *
http_start(const char *addr, http_handler fn, void *ud, char *err, size_t errlen)
{
    char host[64];
    int port;
    if (http_parse_addr(addr, host, sizeof host, &port, err, errlen) != 0)
        return NULL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_ERROR_LOG;
    if (strchr(host, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, host, &s6->sin6_addr);
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, host, &s4->sin_addr);
    }
    struct http *h = xcalloc(1, sizeof *h);
    h->fn = fn;
    h->ud = ud;
    /* no MHD_USE_INTERNAL_POLLING_THREAD: the agent's loop runs it */
    h->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, answer, h,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)8,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
                            MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errlen, "cannot listen on %s (in use, or not an address of this host?)",
                 addr);
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = i ? (int)i->port : port;
    return h;
}

void
http_stop(struct http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    free(h);
}

int
http_port(const struct http *h)
{
    return h ? h->port : 0;
}

int
http_fds(struct http *h, struct pollfd *p, int max)
{
    fd_set r, w, x;
    MHD_socket maxfd = 0;
    if (!h)
        return 0;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    if (MHD_get_fdset(h->d, &r, &w, &x, &maxfd) != MHD_YES)
        return 0;
    return fdsets_to_poll(&r, &w, NULL, maxfd, p, max);
}

int64_t
http_wait_ms(struct http *h)
{
    MHD_UNSIGNED_LONG_LONG t;
    if (!h || MHD_get_timeout(h->d, &t) != MHD_YES)
        return -1;
    return t > 60000 ? 60000 : (int64_t)t;
}

void
http_run(struct http *h, const struct pollfd *p, int n)
{
    fd_set r, w, x;
    if (!h)
        return;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    for (int i = 0; i < n; i++) {
        if (p[i].fd < 0 || p[i].fd >= FD_SETSIZE)
            continue;
        if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
            FD_SET(p[i].fd, &r);
        if (p[i].revents & POLLOUT)
            FD_SET(p[i].fd, &w);
    }
    MHD_run_from_select(h->d, &r, &w, &x);
}
