/* config: the option table parser on literal ini text, redis urls, secrets,
 * config_print masking and the shipped agent.ini. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "suites.h"

/* The shipped file, relative to the repo root (where the tests run), or
 * under $BULLWATCH_SRCDIR when that is set. */
#define SHIPPED_INI "agent.ini"

/* the config fixture the config suites share (check_main.c) */
#define cfg ut_cfg
#define err ut_err
#define parse ut_parse

/* config_print into a malloc'ed string (caller frees). */
static char *
print_config(const struct config *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    config_print(c, f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_ptr_nonnull(text);
    return text;
}

/* parse must fail with an error starting with prefix ("t.ini:LINE: ...")
 * and containing msg. */
#define expect_error(text, prefix, msg) expect_error_at(text, prefix, msg, __LINE__)
static void
expect_error_at(const char *text, const char *prefix, const char *msg, int at)
{
    int rc = parse(text);
    ck_assert_msg(rc == -1, "line %d: parse returned %d for '%s'", at, rc, text);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "line %d: error '%s' does not start with '%s'",
                  at, err, prefix);
    ck_assert_msg(strstr(err, msg) != NULL, "line %d: error '%s' lacks '%s'", at, err, msg);
    config_release(&cfg);
}

/* ---- defaults and types ---- */

START_TEST(defaults_when_empty)
{
    ck_assert_int_eq(parse(""), 0);
    ck_assert_str_eq(cfg.path, "t.ini");
    ck_assert_str_eq(cfg.redis_url, "redis://127.0.0.1:6379/0");
    ck_assert_str_eq(cfg.redis_username, "");
    ck_assert_str_eq(cfg.redis_password, "");
    ck_assert_str_eq(cfg.redis_password_env, "");
    ck_assert_str_eq(cfg.redis_password_file, "");
    ck_assert_str_eq(cfg.prefix, "bull");
    ck_assert_int_eq(cfg.connect_timeout_ms, 2000);
    ck_assert_str_eq(cfg.include, "*");
    ck_assert_str_eq(cfg.exclude, "");
    ck_assert_str_eq(cfg.dlq, "dead-letter, *-dlq");
    ck_assert_int_eq(cfg.discover_every_ms, 30000);
    ck_assert_int_eq(cfg.poll_every_ms, 2000);
    ck_assert_str_eq(cfg.store_path, "bullwatch.db");
    ck_assert_int_eq(cfg.retention_ms, 30LL * 86400000);
    ck_assert(cfg.capture_data);
    ck_assert_str_eq(cfg.redact, "password, token, *secret*");
    ck_assert_int_eq(cfg.data_max_bytes, 64 * 1024);
    ck_assert_int_eq(cfg.stack_max_bytes, 16 * 1024);
    ck_assert_str_eq(cfg.log_level, "info");
    ck_assert_str_eq(cfg.http, "");
    ck_assert_int_eq(cfg.read_count, 1000);
    ck_assert_int_eq(cfg.block_ms, 1000);
    ck_assert(!cfg.read_only);
    ck_assert_str_eq(cfg.ep.host, "127.0.0.1");
    ck_assert_int_eq(cfg.ep.port, 6379);
    ck_assert_int_eq(cfg.ep.db, 0);
    ck_assert_ptr_null(cfg.ep.socket);
    ck_assert_ptr_null(cfg.ep.username);
    ck_assert_ptr_null(cfg.ep.password);
    ck_assert_str_eq(cfg.endpoint_addr, "127.0.0.1:6379/0");
    ck_assert_str_eq(cfg.endpoint_name, "default"); /* the stable name rows carry */
    ck_assert_int_eq(cfg.nsections, 0);
}
END_TEST

START_TEST(defaults_function_matches_empty_parse)
{
    struct config d;
    config_defaults(&d);
    ck_assert_int_eq(parse("\n\n"), 0);
    ck_assert_str_eq(d.prefix, cfg.prefix);
    ck_assert_int_eq(d.poll_every_ms, cfg.poll_every_ms);
    ck_assert_int_eq(d.retention_ms, cfg.retention_ms);
    ck_assert_int_eq(d.data_max_bytes, cfg.data_max_bytes);
    ck_assert_int_eq(d.capture_data, cfg.capture_data);
    ck_assert_str_eq(d.log_level, cfg.log_level);
    config_release(&d);
}
END_TEST

START_TEST(ha_options)
{
    ck_assert_int_eq(parse("\n"), 0);
    ck_assert(!cfg.ha); /* off unless asked */
    ck_assert_int_eq(cfg.ha_lease_ms, 10000);
    ck_assert_str_eq(cfg.ha_id, "");
    config_release(&cfg);
    memset(&cfg, 0, sizeof cfg);
    ck_assert_int_eq(parse("[agent]\nha = on\nha_lease = 2s\nha_id = host-a:1\n"), 0);
    ck_assert(cfg.ha);
    ck_assert_int_eq(cfg.ha_lease_ms, 2000);
    ck_assert_str_eq(cfg.ha_id, "host-a:1");
    config_release(&cfg);
    memset(&cfg, 0, sizeof cfg);
    ck_assert_int_eq(parse("[agent]\nha = on\n\nha_id = a;token=9\n"), -1);
    ck_assert_msg(strstr(err, "t.ini:4: [agent] ha_id"), "%s", err);
    config_release(&cfg);
    memset(&cfg, 0, sizeof cfg);
    ck_assert_int_eq(parse("[agent]\nha_lease = 100ms\n"), -1); /* below 500ms */
    ck_assert_msg(strstr(err, "t.ini:2"), "%s", err);
}
END_TEST

START_TEST(each_type)
{
    ck_assert_int_eq(parse("[redis]\n"
                           "prefix = myapp\n"                 /* string */
                           "connect_timeout = 1500ms\n"       /* duration */
                           "[queues]\n"
                           "include = email-*, *-dlq\n"       /* string with spaces */
                           "poll_every = 250ms\n"
                           "discover_every = 1.5s\n"
                           "[store]\n"
                           "capture_data = off\n"             /* bool */
                           "retention = 2h\n"
                           "data_max = 10MB\n"                /* size */
                           "stack_max = 512\n"
                           "[agent]\n"
                           "log_level = warn\n"               /* level */
                           "read_count = 50\n"                /* int */
                           "block = 10ms\n"
                           "read_only = yes\n"),
                     0);
    ck_assert_str_eq(cfg.prefix, "myapp");
    ck_assert_int_eq(cfg.connect_timeout_ms, 1500);
    ck_assert_str_eq(cfg.include, "email-*, *-dlq");
    ck_assert_int_eq(cfg.poll_every_ms, 250);
    ck_assert_int_eq(cfg.discover_every_ms, 1500);
    ck_assert(!cfg.capture_data);
    ck_assert_int_eq(cfg.retention_ms, 2 * 3600000);
    ck_assert_int_eq(cfg.data_max_bytes, 10 * 1024 * 1024);
    ck_assert_int_eq(cfg.stack_max_bytes, 512);
    ck_assert_str_eq(cfg.log_level, "warn");
    ck_assert_int_eq(cfg.read_count, 50);
    ck_assert_int_eq(cfg.block_ms, 10);
    ck_assert(cfg.read_only);
}
END_TEST

START_TEST(bool_spellings)
{
    static const char *const yes[] = {"true", "TRUE", "yes", "on", "1"};
    static const char *const no[] = {"false", "False", "no", "off", "0"};
    char text[128];
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        snprintf(text, sizeof text, "[agent]\nread_only = %s\n", yes[i]);
        ck_assert_msg(parse(text) == 0, "%s: %s", yes[i], err);
        ck_assert_msg(cfg.read_only, "'%s' should be true", yes[i]);
        config_release(&cfg);
        snprintf(text, sizeof text, "[store]\ncapture_data = %s\n", no[i]);
        ck_assert_msg(parse(text) == 0, "%s: %s", no[i], err);
        ck_assert_msg(!cfg.capture_data, "'%s' should be false", no[i]);
        config_release(&cfg);
    }
}
END_TEST

START_TEST(log_levels)
{
    static const char *const lv[] = {"debug", "info", "warn", "error"};
    char text[64];
    for (size_t i = 0; i < sizeof lv / sizeof lv[0]; i++) {
        snprintf(text, sizeof text, "[agent]\nlog_level = %s\n", lv[i]);
        ck_assert_msg(parse(text) == 0, "%s: %s", lv[i], err);
        ck_assert_str_eq(cfg.log_level, lv[i]);
        config_release(&cfg);
    }
}
END_TEST

START_TEST(comments_and_whitespace)
{
    ck_assert_int_eq(parse("; full line comment\n"
                           "# hash comment\n"
                           "   ; indented comment\n"
                           "\t# indented hash\n"
                           "[queues]   \n"
                           "  include   =   a-*, b   ; inline comment\n"
                           "exclude = c-* # inline hash comment\n"
                           "dlq = x;y#z\n" /* no space before ; or #: part of the value */
                           "[store] ; after a header too\r\n"
                           "path = /var/lib/bw.db\r\n"),
                     0);
    ck_assert_str_eq(cfg.include, "a-*, b");
    ck_assert_str_eq(cfg.exclude, "c-*");
    ck_assert_str_eq(cfg.dlq, "x;y#z");
    ck_assert_str_eq(cfg.store_path, "/var/lib/bw.db");
}
END_TEST

START_TEST(empty_string_value)
{
    ck_assert_int_eq(parse("[queues]\ninclude =\ndlq = ; nothing\n"), 0);
    ck_assert_str_eq(cfg.include, "");
    ck_assert_str_eq(cfg.dlq, "");
}
END_TEST

/* ---- errors: "NAME:LINE: message" ---- */

START_TEST(error_unknown_key)
{
    expect_error("[redis]\n\ncolour = blue\n", "t.ini:3: ", "unknown key 'colour' in [redis]");
    /* a key of another section is unknown here */
    expect_error("[redis]\nurl = redis://h:1/0\n[queues]\nprefix = x\n", "t.ini:4: ",
                 "unknown key 'prefix' in [queues]");
}
END_TEST

START_TEST(error_unknown_section)
{
    expect_error("; c\n[nope]\n", "t.ini:2: ", "unknown section [nope]");
}
END_TEST

START_TEST(error_bad_values)
{
    expect_error("[store]\n; c\ncapture_data = maybe\n", "t.ini:3: ", "bad value 'maybe' for capture_data");
    expect_error("[queues]\npoll_every = soon\n", "t.ini:2: ", "bad value 'soon' for poll_every");
    expect_error("[queues]\npoll_every = 5x\n", "t.ini:2: ", "bad value '5x' for poll_every");
    expect_error("[queues]\npoll_every = -1s\n", "t.ini:2: ", "bad value '-1s' for poll_every");
    expect_error("[store]\n\n\n\ndata_max = lots\n", "t.ini:5: ", "bad value 'lots' for data_max");
    expect_error("[agent]\nread_count = 5x\n", "t.ini:2: ", "bad value '5x' for read_count");
    expect_error("[agent]\nlog_level = loud\n", "t.ini:2: ", "bad value 'loud' for log_level");
}
END_TEST

START_TEST(error_out_of_range)
{
    expect_error("[queues]\npoll_every = 1ms\n", "t.ini:2: ", "value '1ms' for poll_every out of range");
    expect_error("[queues]\npoll_every = 2h\n", "t.ini:2: ", "value '2h' for poll_every out of range");
    expect_error("[agent]\n\nread_count = 0\n", "t.ini:3: ", "value '0' for read_count out of range");
    expect_error("[agent]\nread_count = 100001\n", "t.ini:2: ", "out of range");
    expect_error("[store]\ndata_max = 17MB\n", "t.ini:2: ", "value '17MB' for data_max out of range");
    expect_error("[store]\nretention = 1m\n", "t.ini:2: ", "out of range");
}
END_TEST

START_TEST(error_key_outside_section)
{
    expect_error("; c\n\nprefix = x\n[redis]\n", "t.ini:3: ", "key 'prefix' outside any section");
}
END_TEST

START_TEST(error_key_set_twice)
{
    expect_error("[redis]\nprefix = a\n\nprefix = b\n", "t.ini:4: ", "'prefix' set twice");
    ck_assert_ptr_nonnull(strstr(err, "line 2"));
    /* set twice in two [redis] blocks */
    expect_error("[redis]\nprefix = a\n[queues]\n[redis]\nprefix = b\n", "t.ini:5: ", "'prefix' set twice");
}
END_TEST

START_TEST(error_malformed_lines)
{
    expect_error("[redis\n", "t.ini:1: ", "malformed section header");
    expect_error("[redis]\n[queues] junk\n", "t.ini:2: ", "malformed section header");
    expect_error("[redis]\njust words\n", "t.ini:2: ", "expected 'key = value'");
}
END_TEST

START_TEST(error_rule_and_sink_sections)
{
    expect_error("[rule x]\nexpr = a\ncolour = red\n", "t.ini:3: ", "unknown key 'colour' in [rule x]");
    expect_error("[sink ops]\ntype = webhook\nexpr = a\n", "t.ini:3: ", "unknown key 'expr' in [sink ops]");
    expect_error("[redis]\n[rule]\n", "t.ini:2: ", "[rule] needs a name");
    expect_error("[sink]\n", "t.ini:1: ", "[sink] needs a name");
    expect_error("[rule x]\nexpr = a\n\n[rule x]\n", "t.ini:4: ", "[rule x] defined twice");
    ck_assert_ptr_nonnull(strstr(err, "line 1"));
    expect_error("[rule x]\nexpr = a\nfor = 1m\nexpr = b\n", "t.ini:4: ", "'expr' set twice in [rule x]");
}
END_TEST

START_TEST(error_cross_field)
{
    expect_error("[redis]\n\nurl = redis://h:1/0\ntls_ca_file = x\n", "t.ini:4: ", "not rediss://");
    expect_error("[redis]\nurl = redis://h:1/0\nusername = bob\n", "t.ini:3: ", "username needs a password");
    expect_error("[redis]\nprefix =\n", "t.ini:2: ", "prefix must not be empty");
}
END_TEST

START_TEST(rule_and_sink_same_name_ok)
{
    ck_assert_int_eq(parse("[rule x]\nexpr = a\n[sink x]\ntype = webhook\n"), 0);
    ck_assert_int_eq(cfg.nsections, 2);
}
END_TEST

START_TEST(sections_kept)
{
    ck_assert_int_eq(parse("[redis]\nprefix = bull\n\n"
                           "[rule backlog]\n"          /* line 4 */
                           "expr = waiting > 10\n"     /* 5 */
                           "; comment\n"               /* 6 */
                           "for = 5m ; inline\n"       /* 7 */
                           "[sink ops]\n"              /* 8 */
                           "type = webhook\n"          /* 9 */
                           "secret_env = OPS_SECRET\n" /* 10 */
                           "[store]\n"
                           "path = x.db\n"),
                     0);
    ck_assert_str_eq(cfg.store_path, "x.db");
    ck_assert_int_eq(cfg.nsections, 2);
    struct config_section *r = &cfg.sections[0], *s = &cfg.sections[1];
    ck_assert_str_eq(r->kind, "rule");
    ck_assert_str_eq(r->name, "backlog");
    ck_assert_int_eq(r->line, 4);
    ck_assert_int_eq(r->nkv, 2);
    ck_assert_str_eq(r->kv[0].key, "expr");
    ck_assert_str_eq(r->kv[0].value, "waiting > 10");
    ck_assert_int_eq(r->kv[0].line, 5);
    ck_assert_str_eq(r->kv[1].key, "for");
    ck_assert_str_eq(r->kv[1].value, "5m");
    ck_assert_int_eq(r->kv[1].line, 7);
    ck_assert_str_eq(s->kind, "sink");
    ck_assert_str_eq(s->name, "ops");
    ck_assert_int_eq(s->line, 8);
    ck_assert_int_eq(s->nkv, 2);
    ck_assert_str_eq(s->kv[1].key, "secret_env");
    ck_assert_str_eq(s->kv[1].value, "OPS_SECRET");
    ck_assert_int_eq(s->kv[1].line, 10);
}
END_TEST

/* ---- redis urls ---- */

START_TEST(url_host_port_db)
{
    struct redis_endpoint ep;
    char e[256];
    ck_assert_int_eq(redis_url_parse("redis://10.1.2.3:6380/4", &ep, e, sizeof e), 0);
    ck_assert_str_eq(ep.host, "10.1.2.3");
    ck_assert_int_eq(ep.port, 6380);
    ck_assert_int_eq(ep.db, 4);
    ck_assert_ptr_null(ep.socket);
    ck_assert_ptr_null(ep.username);
    ck_assert_ptr_null(ep.password);
    redis_endpoint_release(&ep);
    ck_assert_int_eq(redis_url_parse("redis://cache.local", &ep, e, sizeof e), 0);
    ck_assert_str_eq(ep.host, "cache.local");
    ck_assert_int_eq(ep.port, 6379);
    ck_assert_int_eq(ep.db, 0);
    redis_endpoint_release(&ep);
    ck_assert_int_eq(redis_url_parse("redis://h:7000/15", &ep, e, sizeof e), 0);
    ck_assert_int_eq(ep.port, 7000);
    ck_assert_int_eq(ep.db, 15);
    redis_endpoint_release(&ep);
}
END_TEST

START_TEST(url_credentials)
{
    struct redis_endpoint ep;
    char e[256];
    ck_assert_int_eq(redis_url_parse("redis://bob:p%40ss%2Fw%3Ard@10.1.2.3:6380/4", &ep, e, sizeof e), 0);
    ck_assert_str_eq(ep.username, "bob");
    ck_assert_str_eq(ep.password, "p@ss/w:rd");
    ck_assert_str_eq(ep.host, "10.1.2.3");
    ck_assert_int_eq(ep.port, 6380);
    redis_endpoint_release(&ep);
    ck_assert_int_eq(redis_url_parse("redis://al%69ce:x@h:1/0", &ep, e, sizeof e), 0);
    ck_assert_str_eq(ep.username, "alice");
    ck_assert_str_eq(ep.password, "x");
    redis_endpoint_release(&ep);
    /* password only */
    ck_assert_int_eq(redis_url_parse("redis://:only%21@h:1/0", &ep, e, sizeof e), 0);
    ck_assert_ptr_null(ep.username);
    ck_assert_str_eq(ep.password, "only!");
    ck_assert_str_eq(ep.host, "h");
    redis_endpoint_release(&ep);
}
END_TEST

START_TEST(url_ipv6_and_unix)
{
    struct redis_endpoint ep;
    char e[256];
    ck_assert_int_eq(redis_url_parse("redis://[::1]:6380", &ep, e, sizeof e), 0);
    ck_assert_str_eq(ep.host, "::1");
    ck_assert_int_eq(ep.port, 6380);
    ck_assert_int_eq(ep.db, 0);
    redis_endpoint_release(&ep);
    ck_assert_int_eq(redis_url_parse("redis://[fe80::2]/2", &ep, e, sizeof e), 0);
    ck_assert_str_eq(ep.host, "fe80::2");
    ck_assert_int_eq(ep.port, 6379);
    ck_assert_int_eq(ep.db, 2);
    redis_endpoint_release(&ep);
    ck_assert_int_eq(redis_url_parse("unix:///tmp/r.sock?db=3", &ep, e, sizeof e), 0);
    ck_assert_ptr_null(ep.host);
    ck_assert_str_eq(ep.socket, "/tmp/r.sock");
    ck_assert_int_eq(ep.db, 3);
    redis_endpoint_release(&ep);
    ck_assert_int_eq(redis_url_parse("unix:///var/run/redis.sock", &ep, e, sizeof e), 0);
    ck_assert_str_eq(ep.socket, "/var/run/redis.sock");
    ck_assert_int_eq(ep.db, 0);
    redis_endpoint_release(&ep);
}
END_TEST

START_TEST(url_rejected)
{
    struct redis_endpoint ep;
    char e[256];
    e[0] = '\0';
    static const char *const bad[] = {
        "redis://h:99999/0", "redis://h:0/0",   "redis://h:abc/0",    "redis://h:/0",
        "redis://h:6379/16", "redis://h:6379/-1", "redis://h:6379/x", "http://h",
        "redis://:1/0",      "redis://[::1/0",  "unix://relative.sock", "unix:///tmp/r.sock?db=16",
        "unix:///tmp/r.sock?x=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e[0] = '\0';
        ck_assert_msg(redis_url_parse(bad[i], &ep, e, sizeof e) == -1, "accepted '%s'", bad[i]);
        ck_assert_msg(strstr(e, bad[i]) != NULL, "error for '%s' does not quote it: %s", bad[i], e);
    }
}
END_TEST

/* an error about a bad url names it, but never with its password */
START_TEST(url_error_masks_password)
{
    struct redis_endpoint ep;
    char e[256];
    static const char *const bad[] = {"redis://u:Hunter2@h:99999/0", "redis://:Hunter2@h:1/99",
                                      "rediss://u:Hunter2@h:0/0", "http://u:Hunter2@h/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e[0] = '\0';
        ck_assert_int_eq(redis_url_parse(bad[i], &ep, e, sizeof e), -1);
        ck_assert_msg(strstr(e, "Hunter2") == NULL, "password in error: %s", e);
        ck_assert_msg(strstr(e, "@h") != NULL, "error does not name the host: %s", e);
    }
}
END_TEST

START_TEST(endpoint_names)
{
    ck_assert_int_eq(parse("[redis]\nurl = redis://[::1]:6380/2\n"), 0);
    ck_assert_str_eq(cfg.endpoint_addr, "[::1]:6380/2");
    config_release(&cfg);
    ck_assert_int_eq(parse("[redis]\nurl = unix:///tmp/r.sock?db=3\n"), 0);
    ck_assert_str_eq(cfg.endpoint_addr, "unix:/tmp/r.sock/3");
    ck_assert_str_eq(cfg.ep.socket, "/tmp/r.sock");
    config_release(&cfg);
    ck_assert_int_eq(parse("[redis]\nurl = redis://u:pw@10.0.0.5:6390/1\n"), 0);
    ck_assert_str_eq(cfg.endpoint_addr, "10.0.0.5:6390/1");
    ck_assert_str_eq(cfg.ep.username, "u");
    ck_assert_str_eq(cfg.ep.password, "pw");
}
END_TEST


/* ---- several endpoints: [redis NAME] ---- */

START_TEST(endpoints_named_sections)
{
    ck_assert_msg(parse("[redis eu]\nurl = redis://10.0.0.1:6379/0\nprefix = app\n"
                        "[queues]\ninclude = a*\n"
                        "[redis us-1.b_2]\nurl = redis://10.0.0.2:6380/3\nconnect_timeout = 700ms\n"
                        "username = u\npassword = pw\n") == 0, "%s", err);
    ck_assert_int_eq(cfg.nendpoints, 2);
    ck_assert_str_eq(cfg.endpoint_name, "eu");
    ck_assert_str_eq(cfg.endpoint_addr, "10.0.0.1:6379/0");
    ck_assert_str_eq(cfg.prefix, "app");
    ck_assert_str_eq(cfg.include, "a*");
    struct config v;
    config_endpoint(&cfg, 1, &v);
    ck_assert_str_eq(v.endpoint_name, "us-1.b_2");
    ck_assert_str_eq(v.endpoint_addr, "10.0.0.2:6380/3");
    ck_assert_str_eq(v.prefix, "bull"); /* per endpoint: the default, not eu's */
    ck_assert_int_eq(v.connect_timeout_ms, 700);
    ck_assert_int_eq(v.ep.port, 6380);
    ck_assert_str_eq(v.ep.username, "u");
    ck_assert_str_eq(v.ep.password, "pw");
    ck_assert_str_eq(v.include, "a*"); /* shared sections stay shared */
    ck_assert_int_eq(cfg.connect_timeout_ms, 2000);
    ck_assert_ptr_null(cfg.ep.username);
    ck_assert_int_eq(config_endpoint_index(&cfg, "us-1.b_2"), 1);
    ck_assert_int_eq(config_endpoint_index(&cfg, "nope"), -1);
    char names[64];
    config_endpoint_names(&cfg, names, sizeof names);
    ck_assert_str_eq(names, "eu, us-1.b_2");
    /* --redis: the picked one becomes the config's own */
    ck_assert_int_eq(config_pick_endpoint(&cfg, "us-1.b_2", err, sizeof err), 0);
    ck_assert_str_eq(cfg.endpoint_name, "us-1.b_2");
    ck_assert_str_eq(cfg.prefix, "bull");
    ck_assert_int_eq(cfg.ep.port, 6380);
    ck_assert(cfg.endpoint_picked);
    config_endpoint(&cfg, 1, &v);
    ck_assert_str_eq(v.endpoint_name, "eu");
    ck_assert_str_eq(v.prefix, "app");
    ck_assert_int_eq(config_pick_endpoint(&cfg, "zz", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "there are: eu, us-1.b_2")); /* file order still */
    ck_assert_int_eq(config_pick_endpoint(&cfg, "eu", err, sizeof err), 0);
    ck_assert_str_eq(cfg.endpoint_name, "eu");
    config_endpoint(&cfg, 1, &v);
    ck_assert_str_eq(v.endpoint_name, "us-1.b_2");
}
END_TEST

START_TEST(endpoints_plain_is_default)
{
    ck_assert_int_eq(parse("[redis]\nurl = redis://10.0.0.1:6379/0\n"), 0);
    ck_assert_int_eq(cfg.nendpoints, 1);
    ck_assert_str_eq(cfg.endpoint_name, "default");
    config_release(&cfg);
    ck_assert_int_eq(parse(""), 0);
    ck_assert_int_eq(cfg.nendpoints, 1);
    ck_assert_str_eq(cfg.endpoint_name, "default");
    ck_assert_int_eq(config_pick_endpoint(&cfg, "default", err, sizeof err), 0);
}
END_TEST

START_TEST(endpoints_errors)
{
    expect_error("[redis]\nurl = redis://h:1/0\n[redis b]\nurl = redis://h:2/0\n", "t.ini:3: ",
                 "cannot be mixed");
    expect_error("[redis b]\nurl = redis://h:2/0\n\n[redis]\n", "t.ini:4: ", "cannot be mixed");
    expect_error("[redis a]\nurl = redis://h:1/0\n[redis b]\nurl = redis://h:2/0\n[redis a]\n",
                 "t.ini:5: ", "[redis a] defined twice (first at line 1)");
    expect_error("[redis a]\n[redis b]\nurl = redis://h:2/0\n[redis b]\n", "t.ini:4: ",
                 "[redis b] defined twice (first at line 2)");
    expect_error("[redis a/b]\n", "t.ini:1: ", "bad endpoint name 'a/b'");
    expect_error("[redis a]\nurl = redis://h:1/0\n[redis b]\nurl = redis://h:2/0\nurl = redis://h:3/0\n",
                 "t.ini:5: ", "'url' set twice in [redis b] (first at line 4)");
    expect_error("[redis a]\nurl = redis://h:1/0\n[redis b]\nurl = http://h:2/0\n", "t.ini:4: ",
                 "bad redis url");
    expect_error("[redis a]\nurl = redis://h:1/0\n[redis b]\nbogus = 1\n", "t.ini:4: ",
                 "unknown key 'bogus' in [redis b]");
    expect_error("[redis a]\nurl = redis://h:1/0\n[redis b]\nprefix =\nurl = redis://h:2/0\n",
                 "t.ini:4: ", "prefix must not be empty");
    expect_error("[redis a]\nurl = redis://h:1/0\n[redis b]\nusername = x\nurl = redis://h:2/0\n",
                 "t.ini:4: ", "needs a password");
    /* the same Redis and prefix twice: every dead job twice */
    expect_error("[redis a]\nurl = redis://h:1/0\n[redis b]\nurl = redis://h:1/0\n", "t.ini:3: ",
                 "same Redis");
    ck_assert_int_eq(parse("[redis a]\nurl = redis://h:1/0\n[redis b]\nurl = redis://h:1/0\n"
                           "prefix = other\n"), 0);
}
END_TEST

/* The [redis] keys added for TLS are per endpoint too, with no code of
 * their own: the option table's "redis" section is what an endpoint has. */
START_TEST(endpoints_tls_each)
{
    ck_assert_msg(parse("[redis a]\nurl = rediss://h:1/0\ntls_verify = false\ntls_server_name = n.example\n"
                        "[redis b]\nurl = redis://h:2/0\n") == 0, "%s", err);
    struct config v;
    config_endpoint(&cfg, 1, &v);
    ck_assert(cfg.ep.tls);
    ck_assert(!cfg.ep.tls_verify);
    ck_assert_str_eq(cfg.ep.tls_server_name, "n.example");
    ck_assert(!v.ep.tls);
    ck_assert(v.ep.tls_verify);
    ck_assert_ptr_null(v.ep.tls_server_name);
    ck_assert_ptr_null(config_redis_differs(&cfg, &cfg));
    ck_assert_str_eq(config_redis_differs(&cfg, &v), "url");
    config_release(&cfg);
    expect_error("[redis a]\nurl = redis://h:1/0\n[redis b]\nurl = redis://h:2/0\ntls_ca_file = /x\n",
                 "t.ini:5: ", "[redis b] tls_ca_file is set but the url is not rediss://");
}
END_TEST

START_TEST(endpoints_secrets_each)
{
    ck_assert_int_eq(setenv("BULLWATCH_UT_PW2", "envB-Qx7", 1), 0);
    ck_assert_msg(parse("[redis a]\nurl = redis://h:1/0\npassword = plainA-Zz1\n"
                        "[redis b]\nurl = redis://h:2/0\npassword_env = BULLWATCH_UT_PW2\n") == 0,
                  "%s", err);
    struct config v;
    config_endpoint(&cfg, 1, &v);
    ck_assert_str_eq(cfg.ep.password, "plainA-Zz1");
    ck_assert_str_eq(v.ep.password, "envB-Qx7");
    char *out = print_config(&cfg);
    ck_assert_ptr_null(strstr(out, "plainA-Zz1"));
    ck_assert_ptr_null(strstr(out, "envB-Qx7"));
    ck_assert_ptr_nonnull(strstr(out, "[redis a]"));
    ck_assert_ptr_nonnull(strstr(out, "[redis b]"));
    /* printed, it reads back as the same two endpoints */
    struct config back;
    char e2[CONFIG_ERR_LEN];
    int rc = config_parse(&back, "printed", out, e2, sizeof e2);
    free(out);
    ck_assert_msg(rc == 0, "%s", e2);
    ck_assert_int_eq(back.nendpoints, 2);
    config_endpoint(&back, 1, &v);
    ck_assert_str_eq(v.endpoint_name, "b");
    ck_assert_str_eq(v.endpoint_addr, "h:2/0");
    ck_assert_str_eq(v.ep.password, "envB-Qx7");
    config_release(&back);
    unsetenv("BULLWATCH_UT_PW2");
    config_release(&cfg);
    expect_error("[redis a]\nurl = redis://h:1/0\n[redis b]\nurl = redis://h:2/0\n"
                 "password_env = BULLWATCH_UT_PW2\n", "t.ini:5: ", "is not set");
}
END_TEST

/* ---- secrets ---- */

START_TEST(password_env_resolved)
{
    ck_assert_int_eq(setenv("BULLWATCH_UT_PW", "from-env-Zq9", 1), 0);
    ck_assert_int_eq(parse("[redis]\nusername = svc\npassword_env = BULLWATCH_UT_PW\n"), 0);
    ck_assert_str_eq(cfg.redis_password, "from-env-Zq9");
    ck_assert_str_eq(cfg.ep.password, "from-env-Zq9");
    ck_assert_str_eq(cfg.ep.username, "svc");
    unsetenv("BULLWATCH_UT_PW");
}
END_TEST

START_TEST(password_env_missing)
{
    unsetenv("BULLWATCH_UT_NOPE");
    expect_error("[redis]\n; c\npassword_env = BULLWATCH_UT_NOPE\n", "t.ini:3: ",
                 "password_env names 'BULLWATCH_UT_NOPE'");
}
END_TEST

/* Write text to path; 0 on success. No assertion here, so that callers can
 * clean their temporary directory up before asserting anything. */
static int
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = fputs(text, f) >= 0;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

START_TEST(password_file_resolved)
{
    char dir[] = "/tmp/bullwatch-ut-XXXXXX";
    char path[128], text[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/pw", dir);
    int wrc = write_file(path, "file-Secret-7\r\nsecond line\n");
    snprintf(text, sizeof text, "[redis]\npassword_file = %s\n", path);
    int rc = parse(text);
    unlink(path);
    int rmrc = rmdir(dir);
    ck_assert_int_eq(wrc, 0);
    ck_assert_int_eq(rmrc, 0);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_str_eq(cfg.redis_password, "file-Secret-7");
    ck_assert_str_eq(cfg.ep.password, "file-Secret-7");
    char *out = print_config(&cfg);
    ck_assert_ptr_null(strstr(out, "file-Secret-7"));
    free(out);
    config_release(&cfg);
    /* the file is gone now: an error naming the line */
    expect_error(text, "t.ini:2: ", "cannot read password_file");
}
END_TEST

START_TEST(config_load_missing_file)
{
    ck_assert_int_eq(config_load(&cfg, "/nonexistent/bullwatch-ut/agent.ini", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/bullwatch-ut/agent.ini"));
}
END_TEST

START_TEST(config_load_names_file_and_line)
{
    char dir[] = "/tmp/bullwatch-ut-XXXXXX";
    char path[128], want[160];
    static char err2[CONFIG_ERR_LEN];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/agent.ini", dir);
    int w1 = write_file(path, "[queues]\npoll_every = 3s\n[agent]\nread_count = many\n");
    int rc = config_load(&cfg, path, err, sizeof err);
    config_release(&cfg);
    int w2 = write_file(path, "[queues]\npoll_every = 3s\n");
    int rc2 = config_load(&cfg, path, err2, sizeof err2);
    unlink(path);
    int rmrc = rmdir(dir);
    ck_assert_int_eq(w1, 0);
    ck_assert_int_eq(w2, 0);
    ck_assert_int_eq(rmrc, 0);
    ck_assert_int_eq(rc, -1);
    snprintf(want, sizeof want, "%s:4: ", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "'%s' does not start with '%s'", err, want);
    ck_assert_ptr_nonnull(strstr(err, "read_count"));
    ck_assert_msg(rc2 == 0, "%s", err2);
    ck_assert_int_eq(cfg.poll_every_ms, 3000);
    ck_assert_str_eq(cfg.path, path);
}
END_TEST

START_TEST(print_masks_password_env)
{
    ck_assert_int_eq(setenv("BULLWATCH_UT_PW", "from-env-Zq9", 1), 0);
    ck_assert_int_eq(parse("[redis]\npassword_env = BULLWATCH_UT_PW\n"), 0);
    unsetenv("BULLWATCH_UT_PW");
    char *out = print_config(&cfg);
    ck_assert_ptr_null(strstr(out, "from-env-Zq9"));
    ck_assert_ptr_nonnull(strstr(out, "password_env = BULLWATCH_UT_PW"));
    ck_assert_ptr_nonnull(strstr(out, "[redis]"));
    free(out);
}
END_TEST

START_TEST(print_masks_password_key)
{
    ck_assert_int_eq(parse("[redis]\nusername = bob\npassword = hunter2-Xy\n"), 0);
    ck_assert_str_eq(cfg.ep.password, "hunter2-Xy");
    char *out = print_config(&cfg);
    ck_assert_ptr_null(strstr(out, "hunter2-Xy"));
    ck_assert_ptr_nonnull(strstr(out, "password = ****"));
    ck_assert_ptr_nonnull(strstr(out, "username = bob"));
    free(out);
}
END_TEST

START_TEST(print_masks_url_password)
{
    ck_assert_int_eq(parse("[redis]\nurl = redis://u:hunter2@h:1/0\n"), 0);
    char *out = print_config(&cfg);
    ck_assert_ptr_null(strstr(out, "hunter2"));
    ck_assert_ptr_nonnull(strstr(out, "redis://u:****@h:1/0"));
    free(out);
    config_release(&cfg);
    /* percent-encoded: neither form may show */
    ck_assert_int_eq(parse("[redis]\nurl = redis://u:pa%40ss-Qw@h:1/0\n"), 0);
    ck_assert_str_eq(cfg.ep.password, "pa@ss-Qw");
    out = print_config(&cfg);
    ck_assert_ptr_null(strstr(out, "pa%40ss-Qw"));
    ck_assert_ptr_null(strstr(out, "ss-Qw"));
    free(out);
}
END_TEST

/* The parser takes the LAST '@' before the path as the end of the
 * credentials, so "redis://u:abc@Tail-S3cret@h:1/0" has the password
 * "abc@Tail-S3cret"; config_print must not show any of it. */
START_TEST(print_masks_url_password_with_raw_at)
{
    ck_assert_int_eq(parse("[redis]\nurl = redis://u:abc@Tail-S3cret@h:1/0\n"), 0);
    ck_assert_str_eq(cfg.ep.password, "abc@Tail-S3cret");
    ck_assert_str_eq(cfg.ep.host, "h");
    char *out = print_config(&cfg);
    const char *url = strstr(out, "\nurl = ");
    ck_assert_ptr_nonnull(url);
    ck_assert_msg(strstr(out, "Tail-S3cret") == NULL, "config_print leaks the password: %.*s",
                  (int)strcspn(url + 1, "\n"), url + 1);
    free(out);
}
END_TEST

START_TEST(print_masks_sink_secrets)
{
    ck_assert_int_eq(parse("[sink ops]\ntype = webhook\nsecret = sink-S3cret\nrouting_key = rk-S3cret\n"
                           "secret_env = OPS_SECRET\n"),
                     0);
    char *out = print_config(&cfg);
    ck_assert_ptr_null(strstr(out, "sink-S3cret"));
    ck_assert_ptr_null(strstr(out, "rk-S3cret"));
    ck_assert_ptr_nonnull(strstr(out, "[sink ops]"));
    ck_assert_ptr_nonnull(strstr(out, "secret_env = OPS_SECRET"));
    free(out);
}
END_TEST

/* "Print the effective configuration in ini form": reading the printed text
 * back gives the same effective values. */
START_TEST(print_round_trips)
{
    ck_assert_int_eq(parse("[redis]\nprefix = app\nconnect_timeout = 2500ms\n"
                           "[queues]\ninclude = a-*, b\npoll_every = 90s\ndiscover_every = 45s\n"
                           "[store]\nretention = 36h\ncapture_data = false\ndata_max = 10MB\n"
                           "[agent]\nlog_level = warn\nread_count = 77\nblock = 1500ms\n"),
                     0);
    char *out = print_config(&cfg);
    struct config back;
    char e2[CONFIG_ERR_LEN];
    int rc = config_parse(&back, "printed", out, e2, sizeof e2);
    ck_assert_msg(rc == 0, "printed config does not parse: %s\n%s", e2, out);
    ck_assert_str_eq(back.prefix, "app");
    ck_assert_str_eq(back.include, "a-*, b");
    ck_assert(!back.capture_data);
    ck_assert_int_eq(back.data_max_bytes, cfg.data_max_bytes);
    ck_assert_int_eq(back.read_count, 77);
    ck_assert_str_eq(back.log_level, "warn");
    ck_assert_msg(back.connect_timeout_ms == cfg.connect_timeout_ms, "connect_timeout %lld printed as %lld",
                  (long long)cfg.connect_timeout_ms, (long long)back.connect_timeout_ms);
    ck_assert_msg(back.block_ms == cfg.block_ms, "block %lld printed as %lld", (long long)cfg.block_ms,
                  (long long)back.block_ms);
    ck_assert_msg(back.poll_every_ms == cfg.poll_every_ms, "poll_every %lld printed as %lld",
                  (long long)cfg.poll_every_ms, (long long)back.poll_every_ms);
    ck_assert_msg(back.discover_every_ms == cfg.discover_every_ms, "discover_every %lld printed as %lld",
                  (long long)cfg.discover_every_ms, (long long)back.discover_every_ms);
    ck_assert_msg(back.retention_ms == cfg.retention_ms, "retention %lld printed as %lld",
                  (long long)cfg.retention_ms, (long long)back.retention_ms);
    config_release(&back);
    free(out);
}
END_TEST

/* ---- the option table and the shipped agent.ini ---- */

struct opt_list {
    int n;
    int bad_section;
    char ini[8192]; /* "[section]\nkey = default\n" for every option */
    char last_section[32];
};

static void
collect_option(const char *section, const char *key, const char *def, const char *help, void *ud)
{
    struct opt_list *l = ud;
    size_t len = strlen(l->ini);
    l->n++;
    if (strcmp(section, "redis") && strcmp(section, "queues") && strcmp(section, "store") &&
        strcmp(section, "agent"))
        l->bad_section++;
    ck_assert_ptr_nonnull(help);
    ck_assert_ptr_nonnull(def);
    if (strcmp(l->last_section, section) != 0) {
        snprintf(l->last_section, sizeof l->last_section, "%s", section);
        len += (size_t)snprintf(l->ini + len, sizeof l->ini - len, "[%s]\n", section);
    }
    snprintf(l->ini + len, sizeof l->ini - len, "%s = %s\n", key, def);
}

START_TEST(table_defaults_parse)
{
    static struct opt_list l;
    memset(&l, 0, sizeof l);
    config_each_option(collect_option, &l);
    ck_assert_int_ge(l.n, 20);
    ck_assert_int_eq(l.bad_section, 0);
    ck_assert_uint_lt(strlen(l.ini), sizeof l.ini - 1);
    ck_assert_msg(parse(l.ini) == 0, "the table's own defaults do not parse: %s", err);
    ck_assert_str_eq(cfg.prefix, "bull");
    ck_assert_int_eq(cfg.poll_every_ms, 2000);
}
END_TEST

static const char *
srcdir_path(char *buf, size_t n)
{
    const char *dir = getenv("BULLWATCH_SRCDIR");
    if (dir && *dir)
        snprintf(buf, n, "%s/%s", dir, SHIPPED_INI);
    else
        snprintf(buf, n, "%s", SHIPPED_INI);
    return buf;
}

/* Is there, inside [section] of text, a line starting with "key ="? */
static int
ini_has_key(const char *text, const char *section, const char *key)
{
    char want[128];
    char cur[64] = "";
    int n = snprintf(want, sizeof want, "%s =", key);
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 0 && p[0] == '[') {
            const char *close = memchr(p, ']', len);
            size_t sl = close ? (size_t)(close - p - 1) : 0;
            if (sl >= sizeof cur)
                sl = sizeof cur - 1;
            memcpy(cur, p + 1, sl);
            cur[sl] = '\0';
        } else if (strcmp(cur, section) == 0 && len >= (size_t)n && strncmp(p, want, (size_t)n) == 0) {
            return 1;
        }
        p = nl ? nl + 1 : p + len;
    }
    return 0;
}

struct keyscan {
    const char *text;
    int checked;
    int missing;
    char first_missing[96];
};

static void
check_key(const char *section, const char *key, const char *def, const char *help, void *ud)
{
    struct keyscan *ks = ud;
    (void)def;
    (void)help;
    ks->checked++;
    if (!ini_has_key(ks->text, section, key)) {
        if (!ks->missing)
            snprintf(ks->first_missing, sizeof ks->first_missing, "[%s] %s", section, key);
        ks->missing++;
    }
}

START_TEST(ini_has_key_helper)
{
    const char *t = "; x\n[redis]\nurl = a\n; prefix = no\n[queues]\nprefix = wrong section\n";
    ck_assert(ini_has_key(t, "redis", "url"));
    ck_assert(!ini_has_key(t, "redis", "prefix"));
    ck_assert(!ini_has_key(t, "queues", "url"));
    ck_assert(ini_has_key(t, "queues", "prefix"));
    ck_assert(!ini_has_key(t, "redis", "ur"));
}
END_TEST

START_TEST(shipped_ini_loads_and_documents_every_key)
{
    char path[512];
    srcdir_path(path, sizeof path);
    int rc = config_load(&cfg, path, err, sizeof err);
    ck_assert_msg(rc == 0, "%s does not load: %s", path, err);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    ck_assert_uint_lt(n, sizeof text - 1);
    text[n] = '\0';
    struct keyscan ks;
    memset(&ks, 0, sizeof ks);
    ks.text = text;
    config_each_option(check_key, &ks);
    ck_assert_int_ge(ks.checked, 20);
    ck_assert_msg(ks.missing == 0, "%s does not document %d key(s), first %s", path, ks.missing,
                  ks.first_missing);
}
END_TEST

Suite *
config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, ut_cfg_setup, ut_cfg_teardown);
    tcase_add_test(tc, defaults_when_empty);
    tcase_add_test(tc, defaults_function_matches_empty_parse);
    tcase_add_test(tc, each_type);
    tcase_add_test(tc, ha_options);
    tcase_add_test(tc, bool_spellings);
    tcase_add_test(tc, log_levels);
    tcase_add_test(tc, comments_and_whitespace);
    tcase_add_test(tc, empty_string_value);
    tcase_add_test(tc, sections_kept);
    tcase_add_test(tc, rule_and_sink_same_name_ok);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, ut_cfg_setup, ut_cfg_teardown);
    tcase_add_test(tc, error_unknown_key);
    tcase_add_test(tc, error_unknown_section);
    tcase_add_test(tc, error_bad_values);
    tcase_add_test(tc, error_out_of_range);
    tcase_add_test(tc, error_key_outside_section);
    tcase_add_test(tc, error_key_set_twice);
    tcase_add_test(tc, error_malformed_lines);
    tcase_add_test(tc, error_rule_and_sink_sections);
    tcase_add_test(tc, error_cross_field);
    suite_add_tcase(s, tc);

    tc = tcase_create("url");
    tcase_add_checked_fixture(tc, ut_cfg_setup, ut_cfg_teardown);
    tcase_add_test(tc, url_host_port_db);
    tcase_add_test(tc, url_credentials);
    tcase_add_test(tc, url_ipv6_and_unix);
    tcase_add_test(tc, url_rejected);
    tcase_add_test(tc, url_error_masks_password);
    tcase_add_test(tc, endpoint_names);
    tcase_add_test(tc, endpoints_named_sections);
    tcase_add_test(tc, endpoints_plain_is_default);
    tcase_add_test(tc, endpoints_errors);
    tcase_add_test(tc, endpoints_secrets_each);
    tcase_add_test(tc, endpoints_tls_each);
    suite_add_tcase(s, tc);

    tc = tcase_create("secrets");
    tcase_add_checked_fixture(tc, ut_cfg_setup, ut_cfg_teardown);
    tcase_add_test(tc, password_env_resolved);
    tcase_add_test(tc, password_env_missing);
    tcase_add_test(tc, password_file_resolved);
    tcase_add_test(tc, config_load_missing_file);
    tcase_add_test(tc, config_load_names_file_and_line);
    tcase_add_test(tc, print_masks_password_env);
    tcase_add_test(tc, print_masks_password_key);
    tcase_add_test(tc, print_masks_url_password);
    tcase_add_test(tc, print_masks_url_password_with_raw_at);
    tcase_add_test(tc, print_masks_sink_secrets);
    tcase_add_test(tc, print_round_trips);
    suite_add_tcase(s, tc);

    tc = tcase_create("shipped");
    tcase_add_checked_fixture(tc, ut_cfg_setup, ut_cfg_teardown);
    tcase_add_test(tc, table_defaults_parse);
    tcase_add_test(tc, ini_has_key_helper);
    tcase_add_test(tc, shipped_ini_loads_and_documents_every_key);
    suite_add_tcase(s, tc);
    return s;
}
