/*
 * http: the agent's HTTP endpoint (/metrics, /livez, /readyz), served by
 * libmicrohttpd in its external-select mode from the agent's poll() loop:
 * no thread, no request is handled while the loop is elsewhere. Bound only
 * to the configured numeric address; GET and HEAD only, no request bodies,
 * at most 16 connections, 16 KiB per connection, 10 s per connection.
 * The handler writes the body; the library does the protocol.
 */
#ifndef AGENT_HTTP_H
#define AGENT_HTTP_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct http;

/* The answer to GET path: the HTTP status, the body in out, its type in
 * *ctype (a string literal). */
typedef int (*http_handler)(void *ud, const char *path, struct buf *out, const char **ctype);

/* Parse "HOST:PORT" (numeric: 127.0.0.1:9464, [::1]:9464). 0, or -1 with
 * a message. */
int http_parse_addr(const char *addr, char *host, size_t hostlen, int *port, char *err,
                    size_t errlen);
/* Listen on addr. NULL with a message in err. */
struct http *http_start(const char *addr, http_handler fn, void *ud, char *err, size_t errlen);
void http_stop(struct http *h);
/* The port it listens on (when 0 was asked for, the one the kernel chose). */
int http_port(const struct http *h);
/* Its descriptors for poll() (at most max) and how long the loop may wait
 * (-1: no limit). */
int http_fds(struct http *h, struct pollfd *p, int max);
int64_t http_wait_ms(struct http *h);
/* Serve what poll() found ready (p: every descriptor polled). */
void http_run(struct http *h, const struct pollfd *p, int n);

#endif
