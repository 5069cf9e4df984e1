/* tls: rediss:// urls and the [redis] tls_* keys as config_parse reads
 * them, and the FILE:LINE errors for TLS files that cannot be used. The
 * handshake itself is tested against a real redis-server (t_tls.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "suites.h"

/* the config fixture the config suites share (check_main.c) */
#define cfg ut_cfg
#define err ut_err
#define parse ut_parse

START_TEST(rediss_url_parts)
{
    struct redis_endpoint ep;
    char e[256];
    ck_assert_int_eq(redis_url_parse("rediss://bob:p%40ss@cache.example.com:6380/4", &ep, e, sizeof e), 0);
    ck_assert(ep.tls);
    ck_assert_str_eq(ep.host, "cache.example.com");
    ck_assert_int_eq(ep.port, 6380);
    ck_assert_int_eq(ep.db, 4);
    ck_assert_str_eq(ep.username, "bob");
    ck_assert_str_eq(ep.password, "p@ss");
    redis_endpoint_release(&ep);
    ck_assert_int_eq(redis_url_parse("rediss://[::1]:7000", &ep, e, sizeof e), 0);
    ck_assert(ep.tls);
    ck_assert_str_eq(ep.host, "::1");
    redis_endpoint_release(&ep);
    ck_assert_int_eq(redis_url_parse("redis://h:1/0", &ep, e, sizeof e), 0);
    ck_assert(!ep.tls);
    redis_endpoint_release(&ep);
    static const char *const bad[] = {"rediss://h:99999/0", "rediss://:1/0", "rediss://h/16",
                                      "redisss://h:1/0", "rediss:/h:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e[0] = '\0';
        ck_assert_msg(redis_url_parse(bad[i], &ep, e, sizeof e) == -1, "accepted '%s'", bad[i]);
        ck_assert_msg(strstr(e, bad[i]) != NULL, "error for '%s' does not quote it: %s", bad[i], e);
    }
}
END_TEST

START_TEST(keys_defaults)
{
    /* verification off here so that no system store is needed on the test machine */
    ck_assert_int_eq(parse("[redis]\nurl = rediss://10.0.0.7:6380/1\ntls_verify = false\n"), 0);
    ck_assert(cfg.ep.tls);
    ck_assert(!cfg.ep.tls_verify);
    ck_assert_str_eq(cfg.ep.tls_server_name, "10.0.0.7"); /* the url's host */
    ck_assert_ptr_null(cfg.ep.tls_ca_file);
    ck_assert_ptr_null(cfg.ep.tls_cert_file);
    ck_assert_ptr_nonnull(cfg.ep.tls_ctx);
    config_release(&cfg);
    ck_assert_int_eq(parse("[redis]\nurl = rediss://10.0.0.7:6380/1\ntls_verify = false\n"
                           "tls_server_name = redis.internal\n"), 0);
    ck_assert_str_eq(cfg.ep.tls_server_name, "redis.internal");
    config_release(&cfg);
    ck_assert_int_eq(parse("[redis]\nurl = redis://h:1/0\n"), 0);
    ck_assert(!cfg.ep.tls);
    ck_assert(cfg.ep.tls_verify); /* on by default */
    ck_assert_ptr_null(cfg.ep.tls_ctx);
}
END_TEST

START_TEST(keys_need_rediss)
{
    static const char *const keys[] = {"tls_ca_file", "tls_ca_dir", "tls_cert_file",
                                       "tls_key_file", "tls_server_name"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "[redis]\nurl = redis://h:1/0\nprefix = bull\n%s = x\n", keys[i]);
        ck_assert_int_eq(parse(text), -1);
        char want[128];
        snprintf(want, sizeof want, "t.ini:4: [redis] %s is set but the url is not rediss://", keys[i]);
        ck_assert_msg(strstr(err, want) != NULL, "%s: %s", keys[i], err);
        config_release(&cfg);
    }
}
END_TEST

/* a file in a scratch directory */
static void
scratch_file(char *path, size_t n, const char *name, const char *content)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/bw-ut-tls.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
    }
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    fclose(f);
}

START_TEST(bad_files_name_file_and_line)
{
    char junk[256], text[1024];
    scratch_file(junk, sizeof junk, "junk.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
                                                "-----END CERTIFICATE-----\n");
    snprintf(text, sizeof text, "[redis]\nurl = rediss://h:1/0\n\ntls_ca_file = %s\n", junk);
    ck_assert_int_eq(parse(text), -1);
    ck_assert_msg(strstr(err, "t.ini:4: [redis] tls_ca_file '") && strstr(err, "no CA certificate in it"),
                  "%s", err);
    config_release(&cfg);

    snprintf(text, sizeof text, "[redis]\nurl = rediss://h:1/0\ntls_ca_file = /nonexistent/ca.pem\n");
    ck_assert_int_eq(parse(text), -1);
    ck_assert_msg(strstr(err, "t.ini:3: [redis] cannot read tls_ca_file '/nonexistent/ca.pem': No such "
                              "file or directory"), "%s", err);
    config_release(&cfg);

    snprintf(text, sizeof text, "[redis]\nurl = rediss://h:1/0\ntls_verify = false\ntls_ca_dir = /nonexistent/d\n");
    ck_assert_int_eq(parse(text), -1);
    ck_assert_msg(strstr(err, "t.ini:4: [redis] cannot read tls_ca_dir '/nonexistent/d'"), "%s", err);
    config_release(&cfg);

    snprintf(text, sizeof text, "[redis]\nurl = rediss://h:1/0\ntls_verify = false\ntls_cert_file = %s\n",
             junk);
    ck_assert_int_eq(parse(text), -1);
    ck_assert_msg(strstr(err, "tls_cert_file and tls_key_file go together"), "%s", err);
    config_release(&cfg);

    snprintf(text, sizeof text,
             "[redis]\nurl = rediss://h:1/0\ntls_verify = false\ntls_cert_file = %s\ntls_key_file = %s\n",
             junk, junk);
    ck_assert_int_eq(parse(text), -1);
    ck_assert_msg(strstr(err, "t.ini:4: [redis] tls_cert_file '") && strstr(err, "no certificate in it"),
                  "%s", err);
    unlink(junk);
}
END_TEST

START_TEST(verify_false_is_printed)
{
    ck_assert_int_eq(parse("[redis]\nurl = rediss://h:1/0\ntls_verify = false\n"), 0);
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    config_print(&cfg, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(out, "tls_verify = false"));
    ck_assert_ptr_nonnull(strstr(out, "url = rediss://h:1/0"));
    free(out);
}
END_TEST

Suite *
tls_suite(void)
{
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, ut_cfg_setup, ut_cfg_teardown);
    tcase_add_test(tc, rediss_url_parts);
    tcase_add_test(tc, keys_defaults);
    tcase_add_test(tc, keys_need_rediss);
    tcase_add_test(tc, bad_files_name_file_and_line);
    tcase_add_test(tc, verify_false_is_printed);
    suite_add_tcase(s, tc);
    return s;
}
