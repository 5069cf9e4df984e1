/*
 * tls: the OpenSSL side of a rediss:// link. One tls_ctx per endpoint
 * (CA, optional client certificate, verification settings), built when the
 * configuration loads so that unreadable files and bad PEM are start-up
 * errors; one tls_conn per connection over a descriptor the caller owns.
 *
 * DESIGN: Debian's hiredis 0.14 has no TLS, so rconn keeps hiredis as the
 * protocol codec (redisFormatCommand into c->obuf, redisReader for
 * replies) and moves the bytes itself: plain links through hiredis's own
 * redisBufferRead/Write, TLS links through tls_read/tls_write here. The
 * descriptor of a TLS link is always non-blocking; blocking callers poll()
 * with their deadline on what tls_* asked for (TLS_WANT_READ/WRITE: a
 * write may need a read and the other way round). OpenSSL can hold
 * decrypted bytes that poll() cannot see: tls_pending() says so, and rconn
 * reads until it is 0 before it waits again. No threads, no socketpair.
 * Verification is on unless tls_verify = false: SSL_VERIFY_PEER against
 * the CA file/dir (or the system store), and the certificate must name the
 * server (DNS name, or IP address for an IP literal); SNI is sent for
 * names (never for IP literals, RFC 6066).
 */
#ifndef AGENT_TLS_H
#define AGENT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct tls_opts {
    const char *ca_file;     /* NULL or "": none */
    const char *ca_dir;
    const char *cert_file;   /* client certificate (with key_file) */
    const char *key_file;
    const char *server_name; /* SNI and the name verified */
    bool verify;
};

struct tls_ctx;
struct tls_conn;

/* NULL with a message naming the file and OpenSSL's reason in err. */
struct tls_ctx *tls_ctx_new(const struct tls_opts *o, char *err, size_t errlen);
void tls_ctx_free(struct tls_ctx *t);

/* results (all <= 0, so that tls_read/tls_write can return byte counts) */
enum { TLS_OK = 0, TLS_WANT_READ = -1, TLS_WANT_WRITE = -2, TLS_EOF = -3, TLS_ERR = -4 };

/* A client session over fd (not closed by tls_conn_free). */
struct tls_conn *tls_conn_new(struct tls_ctx *t, int fd, char *err, size_t errlen);
void tls_conn_free(struct tls_conn *c);
/* One step of the handshake: TLS_OK done, TLS_WANT_*, or TLS_ERR with the
 * reason in err (a verification failure names the CA used). */
int tls_handshake(struct tls_conn *c, char *err, size_t errlen);
/* Bytes moved (> 0), or TLS_WANT_*, TLS_EOF, TLS_ERR (reason in err). */
ssize_t tls_read(struct tls_conn *c, void *buf, size_t n, char *err, size_t errlen);
ssize_t tls_write(struct tls_conn *c, const void *buf, size_t n, char *err, size_t errlen);
/* Decrypted bytes OpenSSL holds that poll() cannot see. */
size_t tls_pending(const struct tls_conn *c);
/* "TLSv1.3, TLS_AES_256_GCM_SHA384, certificate verified" for the log. */
void tls_describe(const struct tls_conn *c, char *out, size_t outlen);

#endif
