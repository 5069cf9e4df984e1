/*
 * config: agent.ini parsed through one static option table (section, key,
 * type, default, help) into one struct config. Unknown keys and bad values
 * are errors reported as "FILE:LINE: message". [rule NAME] and [sink NAME]
 * sections are kept as raw key/value lists (their keys are checked against
 * a list) for the alert modules to compile.
 * Depends on nothing above the base layer.
 */
#ifndef AGENT_CONFIG_H
#define AGENT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_ERR_LEN 512

struct redis_endpoint {
    char *host;   /* NULL for unix sockets */
    int port;
    char *socket; /* unix socket path, or NULL */
    int db;
    char *username;
    char *password;
    /* redis+cluster://: the seed nodes ("host:port,host:port"); host and
     * port above are the first. The slot map is read from them. */
    bool cluster;
    char *seeds;
    /* rediss:// (see tls.h): the [redis] tls_* keys, and the context
     * built from them at load time (NULL for plain links) */
    bool tls;
    char *tls_ca_file;
    char *tls_ca_dir;
    char *tls_cert_file;
    char *tls_key_file;
    char *tls_server_name; /* SNI and the name verified: the URL's host unless set */
    bool tls_verify;
    struct tls_ctx *tls_ctx;
    /* redis+sentinel://: the master's name and the sentinels to ask for its
     * address (then host is NULL until sentinel.c resolves it at connect);
     * NULL / 0 for redis:// and unix:// */
    char *sentinel_master;
    char **sentinel_hosts;
    int *sentinel_ports;
    int nsentinels;
    char *sentinel_username; /* AUTH to the sentinels ([redis] sentinel_*) */
    char *sentinel_password;
    const char *name; /* the endpoint's stable name for logs, borrowed ("default") */
};

struct config_kv {
    char *key;
    char *value;
    int line;
    int col; /* 1-based column where the value starts */
};

struct config_section {
    char *kind; /* "rule" or "sink" */
    char *name;
    int line;
    struct config_kv *kv;
    int nkv;
};

struct config {
    char *path;
    /* [redis] */
    char *redis_url;
    char *redis_username;
    char *redis_password;
    char *redis_password_env;
    char *redis_password_file;
    char *sentinel_username;
    char *sentinel_password;
    char *sentinel_password_env;
    char *sentinel_password_file;
    char *prefix;
    int64_t connect_timeout_ms;
    char *redis_tls_ca_file;
    char *redis_tls_ca_dir;
    char *redis_tls_cert_file;
    char *redis_tls_key_file;
    char *redis_tls_server_name;
    bool redis_tls_verify;
    /* [queues] */
    char *include;
    char *exclude;
    char *dlq;
    int64_t discover_every_ms;
    int64_t poll_every_ms;
    /* [store] */
    char *store_path;
    int64_t retention_ms;
    int64_t signature_retention_ms; /* queue_signatures, by last_seen */
    bool capture_data;
    char *redact;
    char *store_group; /* "" = files 0600; else 0660 and chgrp'd to it */
    int64_t data_max_bytes;
    int64_t stack_max_bytes;
    /* [agent] */
    char *log_level;
    char *http;
    char *log_format;
    bool metrics_per_queue;
    int64_t read_count;
    int64_t block_ms;
    bool read_only;
    bool ha;             /* HA agents: only the lease holder sends (agent/lease.h) */
    int64_t ha_lease_ms;
    char *ha_id;         /* "" = <hostname>:<pid> */

    /* derived at load time */
    struct redis_endpoint ep;
    char *endpoint_name; /* the endpoint's stable name ("default"): labels rows and alerts */
    char *endpoint_addr; /* "host:port/db" or "unix:/path/db": for messages */
    /*
     * Several endpoints: [redis NAME] sections (the plain [redis] is the
     * one endpoint "default"). The [redis] fields above (every option of
     * section "redis" in the table, ep, endpoint_name, endpoint_addr) are
     * the first endpoint's; more[] holds the others, each a whole struct
     * config of which only those fields mean anything. config_endpoint()
     * gives a view of endpoint i for the modules that take a config. A
     * value derived from [redis] keys belongs in struct redis_endpoint (or
     * in the option table's "redis" section) so it travels with its
     * endpoint without extra code.
     */
    int nendpoints;         /* >= 1 */
    struct config *more;    /* nendpoints - 1 */
    bool endpoint_picked;   /* --redis NAME chose the first one */
    int picked_from;        /* ... from this place in the file (swapped with the first) */
    struct config_section *sections;
    int nsections;
};

/* Fill cfg with defaults only (no file). */
void config_defaults(struct config *cfg);
/* Load path over defaults. Secrets named by *_env / *_file are resolved.
 * 0 on success; -1 with "FILE:LINE: message" in err. cfg must be released
 * with config_release() either way. */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Parse from a string (tests). name is used in messages. */
int config_parse(struct config *cfg, const char *name, const char *text, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void config_release(struct config *cfg);
/* [store] group of the configuration parsed last ("" = none): store_open()
 * creates the store's files for it. The commands open the store without
 * handing it their config, so the group travels this way. */
const char *config_store_group(void);

/* Which file to use: -c value, else $BULLWATCH_CONFIG, else ./agent.ini */
const char *config_choose_path(const char *cli_path);

/* Print the effective configuration in ini form with secrets masked. */
void config_print(const struct config *cfg, FILE *out);

/* Call fn for every option of the table (section, key, default, help). */
void config_each_option(void (*fn)(const char *section, const char *key, const char *def,
                                   const char *help, void *ud),
                        void *ud);

/* Endpoint i (0 .. nendpoints-1) as a whole config: cfg with the [redis]
 * fields of endpoint i. The view borrows cfg's strings: it must not be
 * released and lives no longer than cfg (build it again after a reload). */
void config_endpoint(const struct config *cfg, int i, struct config *view);
/* The first [redis] key (any of the table's) whose value differs between
 * a and b (two endpoint views), or NULL. */
const char *config_redis_differs(const struct config *a, const struct config *b);
/* The index of the endpoint called name, or -1. */
int config_endpoint_index(const struct config *cfg, const char *name);
/* Make the endpoint called name the first (cfg->ep, prefix, ...): the
 * commands that talk to one Redis (--redis NAME). 0, or -1 with a message
 * naming the endpoints there are. */
int config_pick_endpoint(struct config *cfg, const char *name, char *err, size_t errlen);
/* The name of the k-th endpoint in file order (a pick reorders the
 * views, not this). */
const char *config_endpoint_name_at(const struct config *cfg, int k);
/* "a, b, c": the endpoints' names, for messages. */
void config_endpoint_names(const struct config *cfg, char *out, size_t outlen);

/* Parse redis://[user:pass@]host:port/db, rediss://... (TLS),
 * unix:///path[?db=N],
 * redis+sentinel://[user:pass@]h1:26379,h2:26379/MASTERNAME[/db] or
 * redis+cluster://[user:pass@]h1:p1,h2:p2 (rediss+cluster://: TLS). */
int redis_url_parse(const char *url, struct redis_endpoint *ep, char *err, size_t errlen);
void redis_endpoint_release(struct redis_endpoint *ep);
/* The TLS settings of a parsed endpoint (strings copied; "" = unset) and
 * its OpenSSL context (files read now). -1 with the message in err and, in
 * *bad_key, the key it is about ("url" when tls keys are given for a
 * plain link). */
int redis_endpoint_set_tls(struct redis_endpoint *ep, const char *ca_file, const char *ca_dir,
                           const char *cert_file, const char *key_file, const char *server_name,
                           bool verify, const char **bad_key, char *err, size_t errlen);
/* Warn (log) about endpoints whose certificate is not verified: the agent
 * at start-up and check-config call it. */
void config_warn_insecure(const struct config *cfg);

/* The value of key in a [rule]/[sink] section, or NULL. */
const struct config_kv *config_section_get(const struct config_section *s, const char *key);
/* Call fn for each section of this kind ("rule", "sink") in file order;
 * stops at the first that returns nonzero and returns that. */
int config_each_section(const struct config *cfg, const char *kind,
                        int (*fn)(const struct config *cfg, const struct config_section *s, void *ud),
                        void *ud);

#endif
