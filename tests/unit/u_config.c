/* config: the option table parser on literal ini text */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "unit.h"

static struct config cfg;
static char err[CONFIG_ERR_LEN];

static int
parse(const char *text)
{
    err[0] = '\0';
    return config_parse(&cfg, "t.ini", text, err, sizeof err);
}

static void
teardown(void)
{
    config_release(&cfg);
}

START_TEST(defaults_and_types)
{
    ck_assert_int_eq(parse(""), 0);
    ck_assert_str_eq(cfg.prefix, "bull");
    ck_assert_int_eq(cfg.poll_every_ms, 2000);
    ck_assert_int_eq(cfg.retention_ms, 30LL * 86400000);
    ck_assert(cfg.capture_data);
    ck_assert_str_eq(cfg.endpoint_name, "127.0.0.1:6379/0");
    config_release(&cfg);
    ck_assert_int_eq(parse("; comment\n# comment\n[store]\ncapture_data = off ; inline\n"
                           "data_max = 10MB\n[queues]\npoll_every = 250ms\ninclude = a-*, b\n"
                           "[agent]\nlog_level = warn\nread_count = 50\n"),
                     0);
    ck_assert(!cfg.capture_data);
    ck_assert_int_eq(cfg.data_max_bytes, 10 * 1024 * 1024);
    ck_assert_int_eq(cfg.poll_every_ms, 250);
    ck_assert_str_eq(cfg.include, "a-*, b");
    ck_assert_str_eq(cfg.log_level, "warn");
    ck_assert_int_eq(cfg.read_count, 50);
}
END_TEST

static void
expect_error(const char *text, const char *msg)
{
    ck_assert_int_eq(parse(text), -1);
    ck_assert_msg(strstr(err, msg) != NULL, "error '%s' lacks '%s'", err, msg);
    config_release(&cfg);
}

START_TEST(errors_name_the_line)
{
    expect_error("[redis]\n\ncolour = blue\n", "t.ini:3: unknown key 'colour' in [redis]");
    expect_error("[nope]\n", "t.ini:1: unknown section [nope]");
    expect_error("[store]\ncapture_data = maybe\n", "t.ini:2: bad value 'maybe' for capture_data");
    expect_error("[queues]\npoll_every = soon\n", "t.ini:2: bad value 'soon' for poll_every");
    expect_error("[queues]\npoll_every = 1ms\n", "t.ini:2: value '1ms' for poll_every out of range");
    expect_error("prefix = x\n", "t.ini:1: key 'prefix' outside any section");
    expect_error("[redis]\nprefix = a\nprefix = b\n", "t.ini:3: 'prefix' set twice");
    expect_error("[redis\n", "t.ini:1: malformed section header");
    expect_error("[redis]\njust words\n", "t.ini:2: expected 'key = value'");
    expect_error("[rule x]\nexpr = a\ncolour = red\n", "t.ini:3: unknown key 'colour' in [rule x]");
    expect_error("[rule]\n", "t.ini:1: [rule] needs a name");
    expect_error("[rule x]\n[rule x]\n", "t.ini:2: [rule x] defined twice");
    expect_error("[agent]\nlog_level = loud\n", "t.ini:2: bad value 'loud' for log_level");
}
END_TEST

START_TEST(sections_kept)
{
    ck_assert_int_eq(parse("[rule backlog]\nexpr = waiting > 10\nfor = 5m\n[sink ops]\n"
                           "type = webhook\nsecret_env = OPS_SECRET\n"),
                     0);
    ck_assert_int_eq(cfg.nsections, 2);
    ck_assert_str_eq(cfg.sections[0].kind, "rule");
    ck_assert_str_eq(cfg.sections[0].name, "backlog");
    ck_assert_str_eq(cfg.sections[0].kv[1].key, "for");
    ck_assert_str_eq(cfg.sections[0].kv[1].value, "5m");
    ck_assert_int_eq(cfg.sections[0].kv[1].line, 3);
    ck_assert_str_eq(cfg.sections[1].kind, "sink");
}
END_TEST

START_TEST(redis_urls)
{
    struct redis_endpoint ep;
    char e[256];
    ck_assert_int_eq(redis_url_parse("redis://bob:p%40ss@10.1.2.3:6380/4", &ep, e, sizeof e), 0);
    ck_assert_str_eq(ep.host, "10.1.2.3");
    ck_assert_int_eq(ep.port, 6380);
    ck_assert_int_eq(ep.db, 4);
    ck_assert_str_eq(ep.username, "bob");
    ck_assert_str_eq(ep.password, "p@ss");
    redis_endpoint_release(&ep);
    ck_assert_int_eq(redis_url_parse("redis://[::1]:6390", &ep, e, sizeof e), 0);
    ck_assert_str_eq(ep.host, "::1");
    ck_assert_int_eq(ep.port, 6390);
    redis_endpoint_release(&ep);
    ck_assert_int_eq(redis_url_parse("unix:///tmp/r.sock?db=3", &ep, e, sizeof e), 0);
    ck_assert_str_eq(ep.socket, "/tmp/r.sock");
    ck_assert_int_eq(ep.db, 3);
    redis_endpoint_release(&ep);
    ck_assert_int_eq(redis_url_parse("rediss://h:1/0", &ep, e, sizeof e), -1);
    ck_assert_ptr_nonnull(strstr(e, "TLS"));
    ck_assert_int_eq(redis_url_parse("redis://h:99999/0", &ep, e, sizeof e), -1);
    ck_assert_int_eq(redis_url_parse("redis://h:6379/16", &ep, e, sizeof e), -1);
    ck_assert_int_eq(redis_url_parse("http://h", &ep, e, sizeof e), -1);
}
END_TEST

START_TEST(secrets)
{
    setenv("U_TEST_PW", "from-env", 1);
    ck_assert_int_eq(parse("[redis]\npassword_env = U_TEST_PW\n"), 0);
    ck_assert_str_eq(cfg.ep.password, "from-env");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    config_print(&cfg, f);
    fclose(f);
    ck_assert_ptr_null(strstr(text, "from-env"));
    free(text);
    config_release(&cfg);
    ck_assert_int_eq(parse("[redis]\nurl = redis://u:hunter2@h:1/0\n"), 0);
    f = open_memstream(&text, &len);
    config_print(&cfg, f);
    fclose(f);
    ck_assert_ptr_null(strstr(text, "hunter2"));
    ck_assert_ptr_nonnull(strstr(text, "redis://u:****@h:1/0"));
    free(text);
    config_release(&cfg);
    unsetenv("U_TEST_PW");
    expect_error("[redis]\npassword_env = U_TEST_PW\n", "t.ini:2: password_env names 'U_TEST_PW'");
    ck_assert_int_eq(config_load(&cfg, "/nonexistent/agent.ini", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/agent.ini"));
}
END_TEST

struct keyscan {
    const char *text;
    int missing;
};

static void
check_key(const char *section, const char *key, const char *def, const char *help, void *ud)
{
    struct keyscan *ks = ud;
    char hdr[64], line[128];
    (void)def;
    (void)help;
    snprintf(hdr, sizeof hdr, "\n[%s]\n", section);
    snprintf(line, sizeof line, "\n%s =", key);
    const char *sec = strstr(ks->text, hdr);
    const char *next = sec ? strstr(sec + 1, "\n[") : NULL;
    const char *at = sec ? strstr(sec, line) : NULL;
    if (!at || (next && at > next)) {
        fprintf(stderr, "agent.ini does not document [%s] %s\n", section, key);
        ks->missing++;
    }
}

START_TEST(shipped_ini_documents_every_key)
{
    const char *dir = getenv("BULLWATCH_SRCDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/agent.ini", dir ? dir : ".");
    ck_assert_int_eq(config_load(&cfg, path, err, sizeof err), 0);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    struct keyscan ks = {text, 0};
    config_each_option(check_key, &ks);
    ck_assert_int_eq(ks.missing, 0);
}
END_TEST

Suite *
u_config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, defaults_and_types);
    tcase_add_test(tc, errors_name_the_line);
    tcase_add_test(tc, sections_kept);
    tcase_add_test(tc, redis_urls);
    tcase_add_test(tc, secrets);
    tcase_add_test(tc, shipped_ini_documents_every_key);
    suite_add_tcase(s, tc);
    return s;
}
