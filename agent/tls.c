/* tls: see tls.h */
#include "tls.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "xmem.h"

struct tls_ctx {
    SSL_CTX *ctx;
    char *server_name;
    char *trust; /* "CA file X", "CA dir Y" or "the system CA store": for messages */
    bool verify;
};

/* A session keeps copies of what its messages need: a reload (SIGHUP)
 * replaces the endpoint's tls_ctx under a live link (the SSL itself holds a
 * reference on its SSL_CTX). */
struct tls_conn {
    SSL *ssl;
    char *server_name;
    char *trust;
    bool verify;
    bool cert_asked; /* the server asked for a client certificate we do not have */
};

/* OpenSSL's reason for the newest error on this thread's queue ("certificate
 * verify failed"), or fallback; the queue is emptied so that the next call
 * starts clean. */
static const char *
ossl_reason(const char *fallback)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0)
        last = e;
    const char *r = last ? ERR_reason_error_string(last) : NULL;
    return r ? r : fallback;
}

static bool
is_set(const char *s)
{
    return s && *s;
}

/* A file we can open: the OS's reason is clearer than OpenSSL's. */
static int
readable(const char *what, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read %s '%s': %s", what, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

static int
load_trust(struct tls_ctx *t, const struct tls_opts *o, char *err, size_t errlen)
{
    if (is_set(o->ca_file)) {
        if (readable("tls_ca_file", o->ca_file, err, errlen) != 0)
            return -1;
        if (SSL_CTX_load_verify_locations(t->ctx, o->ca_file, NULL) != 1) {
            snprintf(err, errlen, "tls_ca_file '%s': no CA certificate in it (%s)", o->ca_file,
                     ossl_reason("bad PEM"));
            return -1;
        }
    }
    if (is_set(o->ca_dir)) {
        DIR *d = opendir(o->ca_dir);
        if (!d) {
            snprintf(err, errlen, "cannot read tls_ca_dir '%s': %s", o->ca_dir, strerror(errno));
            return -1;
        }
        closedir(d);
        if (SSL_CTX_load_verify_locations(t->ctx, NULL, o->ca_dir) != 1) {
            snprintf(err, errlen, "tls_ca_dir '%s': %s", o->ca_dir, ossl_reason("cannot use it"));
            return -1;
        }
    }
    char buf[1024];
    if (is_set(o->ca_file) && is_set(o->ca_dir))
        snprintf(buf, sizeof buf, "CA file %s, CA dir %s", o->ca_file, o->ca_dir);
    else if (is_set(o->ca_file))
        snprintf(buf, sizeof buf, "CA file %s", o->ca_file);
    else if (is_set(o->ca_dir))
        snprintf(buf, sizeof buf, "CA dir %s", o->ca_dir);
    else {
        snprintf(buf, sizeof buf, "the system CA store");
        if (o->verify && SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
            snprintf(err, errlen, "the system CA store: %s", ossl_reason("cannot load it"));
            return -1;
        }
    }
    t->trust = xstrdup(buf);
    return 0;
}

static int
load_client_cert(struct tls_ctx *t, const struct tls_opts *o, char *err, size_t errlen)
{
    if (!is_set(o->cert_file) && !is_set(o->key_file))
        return 0;
    if (!is_set(o->cert_file) || !is_set(o->key_file)) {
        snprintf(err, errlen, "tls_cert_file and tls_key_file go together (a client certificate "
                              "and its private key)");
        return -1;
    }
    if (readable("tls_cert_file", o->cert_file, err, errlen) != 0 ||
        readable("tls_key_file", o->key_file, err, errlen) != 0)
        return -1;
    if (SSL_CTX_use_certificate_chain_file(t->ctx, o->cert_file) != 1) {
        snprintf(err, errlen, "tls_cert_file '%s': no certificate in it (%s)", o->cert_file,
                 ossl_reason("bad PEM"));
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(t->ctx, o->key_file, SSL_FILETYPE_PEM) != 1) {
        const char *r = ossl_reason("bad PEM");
        if (strstr(r, "mismatch")) /* OpenSSL checks the pair as it loads the key */
            snprintf(err, errlen, "tls_key_file '%s' is not the key of tls_cert_file '%s' (%s)",
                     o->key_file, o->cert_file, r);
        else
            snprintf(err, errlen, "tls_key_file '%s': no private key in it (%s)", o->key_file, r);
        return -1;
    }
    if (SSL_CTX_check_private_key(t->ctx) != 1) {
        snprintf(err, errlen, "tls_key_file '%s' is not the key of tls_cert_file '%s' (%s)",
                 o->key_file, o->cert_file, ossl_reason("mismatch"));
        return -1;
    }
    return 0;
}

/* Called when the server asks for a client certificate and none is
 * configured: remembered, so that the reset which follows (TLS 1.3 sends
 * the refusal after the handshake) can say what is missing. */
static int
cert_asked(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    (void)x509;
    (void)pkey;
    struct tls_conn *c = SSL_get_app_data(ssl);
    if (c)
        c->cert_asked = true;
    return 0; /* go on without one */
}

struct tls_ctx *
tls_ctx_new(const struct tls_opts *o, char *err, size_t errlen)
{
    struct tls_ctx *t = xcalloc(1, sizeof *t);
    ERR_clear_error();
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx) {
        snprintf(err, errlen, "TLS: %s", ossl_reason("cannot create a context"));
        free(t);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    /* rconn hands tls_write the front of hiredis's output buffer, which may
     * have moved and grown (more commands appended) before a retry */
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* a server that goes away without close_notify is a lost link, not a
     * protocol error */
    SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    t->verify = o->verify;
    SSL_CTX_set_verify(t->ctx, o->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    t->server_name = xstrdup(o->server_name ? o->server_name : "");
    if (load_trust(t, o, err, errlen) != 0 || load_client_cert(t, o, err, errlen) != 0) {
        tls_ctx_free(t);
        return NULL;
    }
    if (!is_set(o->cert_file))
        SSL_CTX_set_client_cert_cb(t->ctx, cert_asked);
    return t;
}

void
tls_ctx_free(struct tls_ctx *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t->server_name);
    free(t->trust);
    free(t);
}

static bool
is_ip_literal(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

struct tls_conn *
tls_conn_new(struct tls_ctx *t, int fd, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL *ssl = SSL_new(t->ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        snprintf(err, errlen, "TLS: %s", ossl_reason("cannot create a session"));
        SSL_free(ssl);
        return NULL;
    }
    const char *name = t->server_name;
    int ok = 1;
    if (*name && is_ip_literal(name)) {
        if (t->verify)
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
    } else if (*name) {
        ok = SSL_set_tlsext_host_name(ssl, name) == 1;
        if (ok && t->verify)
            ok = SSL_set1_host(ssl, name);
    }
    if (ok != 1) {
        snprintf(err, errlen, "TLS: bad server name '%s': %s", name, ossl_reason("refused"));
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_connect_state(ssl);
    struct tls_conn *c = xcalloc(1, sizeof *c);
    c->ssl = ssl;
    c->server_name = xstrdup(t->server_name);
    c->trust = xstrdup(t->trust);
    c->verify = t->verify;
    SSL_set_app_data(ssl, c);
    return c;
}

void
tls_conn_free(struct tls_conn *c)
{
    if (!c)
        return;
    SSL_free(c->ssl); /* no close_notify: the descriptor is closed right after */
    free(c->server_name);
    free(c->trust);
    free(c);
}

/* What an SSL_* call that returned rv <= 0 means; the reason in err. */
static int
outcome(struct tls_conn *c, int rv, bool handshake, char *err, size_t errlen)
{
    int e = SSL_get_error(c->ssl, rv);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        snprintf(err, errlen, "connection closed by the server%s", handshake ? " during the TLS handshake" : "");
        return TLS_EOF;
    case SSL_ERROR_SYSCALL: {
        int en = errno;
        ERR_clear_error();
        snprintf(err, errlen, "%s%s%s", en ? strerror(en) : "connection closed by the server",
                 handshake ? " during the TLS handshake" : "",
                 c->cert_asked ? " (the server asked for a client certificate: set "
                                 "tls_cert_file and tls_key_file)"
                               : "");
        return en ? TLS_ERR : TLS_EOF;
    }
    default:
        break;
    }
    long vr = SSL_get_verify_result(c->ssl);
    const char *reason = ossl_reason(handshake ? "TLS error" : NULL);
    if (handshake && vr != X509_V_OK)
        snprintf(err, errlen, "TLS handshake failed: %s: %s (server name '%s', %s)", reason,
                 X509_verify_cert_error_string(vr), c->server_name, c->trust);
    else if (!reason)
        snprintf(err, errlen, "TLS error");
    else if (strstr(reason, "certificate required") || c->cert_asked)
        snprintf(err, errlen, "TLS: %s (the server wants a client certificate: set tls_cert_file "
                              "and tls_key_file)", reason);
    else
        snprintf(err, errlen, "TLS%s: %s", handshake ? " handshake failed" : "", reason);
    return TLS_ERR;
}

int
tls_handshake(struct tls_conn *c, char *err, size_t errlen)
{
    ERR_clear_error();
    errno = 0;
    int rv = SSL_do_handshake(c->ssl);
    return rv == 1 ? TLS_OK : outcome(c, rv, true, err, errlen);
}

ssize_t
tls_read(struct tls_conn *c, void *buf, size_t n, char *err, size_t errlen)
{
    size_t got = 0;
    ERR_clear_error();
    errno = 0;
    int rv = SSL_read_ex(c->ssl, buf, n, &got);
    return rv == 1 ? (ssize_t)got : outcome(c, 0, false, err, errlen);
}

ssize_t
tls_write(struct tls_conn *c, const void *buf, size_t n, char *err, size_t errlen)
{
    size_t put = 0;
    ERR_clear_error();
    errno = 0;
    int rv = SSL_write_ex(c->ssl, buf, n, &put);
    return rv == 1 ? (ssize_t)put : outcome(c, 0, false, err, errlen);
}

size_t
tls_pending(const struct tls_conn *c)
{
    return (size_t)SSL_pending(c->ssl);
}

void
tls_describe(const struct tls_conn *c, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s, %s, %s", SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl),
             c->verify ? "certificate verified" : "certificate NOT verified (tls_verify = false)");
}
