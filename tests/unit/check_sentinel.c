/* sentinel: redis+sentinel:// urls and the [redis] sentinel_* keys on
 * literal text (errors as FILE:LINE), and the decoding of a
 * SENTINEL get-master-addr-by-name reply from RESP bytes. */
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "sentinel.h"
#include "suites.h"

START_TEST(url_sentinels_master_db)
{
    struct redis_endpoint ep;
    char e[256];
    ck_assert_int_eq(redis_url_parse("redis+sentinel://10.0.0.1:26379,10.0.0.2:26380,s3/mymaster/4",
                                     &ep, e, sizeof e), 0);
    ck_assert_int_eq(ep.nsentinels, 3);
    ck_assert_str_eq(ep.sentinel_hosts[0], "10.0.0.1");
    ck_assert_int_eq(ep.sentinel_ports[0], 26379);
    ck_assert_str_eq(ep.sentinel_hosts[1], "10.0.0.2");
    ck_assert_int_eq(ep.sentinel_ports[1], 26380);
    ck_assert_str_eq(ep.sentinel_hosts[2], "s3");
    ck_assert_int_eq(ep.sentinel_ports[2], 26379); /* Sentinel's default port */
    ck_assert_str_eq(ep.sentinel_master, "mymaster");
    ck_assert_int_eq(ep.db, 4);
    ck_assert_ptr_null(ep.host); /* resolved at connect */
    ck_assert_ptr_null(ep.socket);
    ck_assert_ptr_null(ep.username);
    ck_assert_ptr_null(ep.password);
    redis_endpoint_release(&ep);
    ck_assert_int_eq(redis_url_parse("redis+sentinel://[::1]:26379,[fe80::2]/m", &ep, e, sizeof e), 0);
    ck_assert_int_eq(ep.nsentinels, 2);
    ck_assert_str_eq(ep.sentinel_hosts[0], "::1");
    ck_assert_str_eq(ep.sentinel_hosts[1], "fe80::2");
    ck_assert_int_eq(ep.sentinel_ports[1], 26379);
    ck_assert_str_eq(ep.sentinel_master, "m");
    ck_assert_int_eq(ep.db, 0);
    redis_endpoint_release(&ep);
    ck_assert_int_eq(redis_url_parse("redis+sentinel://h:1/m/", &ep, e, sizeof e), 0);
    ck_assert_int_eq(ep.db, 0);
    redis_endpoint_release(&ep);
}
END_TEST

/* user:pass in the url are the data nodes' (as in redis://) */
START_TEST(url_data_credentials)
{
    struct redis_endpoint ep;
    char e[256];
    ck_assert_int_eq(redis_url_parse("redis+sentinel://bob:p%40ss@h1:1,h2:2/mymaster/1", &ep, e,
                                     sizeof e), 0);
    ck_assert_str_eq(ep.username, "bob");
    ck_assert_str_eq(ep.password, "p@ss");
    ck_assert_int_eq(ep.nsentinels, 2);
    ck_assert_str_eq(ep.sentinel_hosts[0], "h1");
    ck_assert_ptr_null(ep.sentinel_password);
    redis_endpoint_release(&ep);
    ck_assert_int_eq(redis_url_parse("redis+sentinel://:pw@h1/mymaster", &ep, e, sizeof e), 0);
    ck_assert_ptr_null(ep.username);
    ck_assert_str_eq(ep.password, "pw");
    redis_endpoint_release(&ep);
}
END_TEST

START_TEST(url_sentinel_rejected)
{
    struct redis_endpoint ep;
    char e[256];
    static const char *const bad[] = {
        "redis+sentinel://h:26379",          /* no master name */
        "redis+sentinel://h:26379/",         /* empty master name */
        "redis+sentinel:///mymaster",        /* no sentinel */
        "redis+sentinel://h1,,h2/mymaster",  /* empty entry */
        "redis+sentinel://h:0/mymaster",     "redis+sentinel://h:99999/mymaster",
        "redis+sentinel://h:x/mymaster",     "redis+sentinel://h:/mymaster",
        "redis+sentinel://h/mymaster/16",    "redis+sentinel://h/mymaster/x",
        "redis+sentinel://[::1/mymaster",    "redis+sentinel://[::1]x/mymaster",
        "redis+sentinel://h/my master",      "redis+sentinel://h//0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e[0] = '\0';
        ck_assert_msg(redis_url_parse(bad[i], &ep, e, sizeof e) == -1, "accepted '%s'", bad[i]);
        ck_assert_msg(strstr(e, bad[i]) != NULL, "error for '%s' does not quote it: %s", bad[i], e);
    }
    /* a password in a bad url is masked */
    ck_assert_int_eq(redis_url_parse("redis+sentinel://u:Hunter2@h:0/m", &ep, e, sizeof e), -1);
    ck_assert_ptr_null(strstr(e, "Hunter2"));
    ck_assert_ptr_nonnull(strstr(e, "@h:0/m"));
}
END_TEST

/* the config fixture the config suites share (check_main.c) */
#define cfg ut_cfg
#define err ut_err
#define parse ut_parse

START_TEST(config_sentinel_auth_and_names)
{
    ck_assert_int_eq(parse("[redis]\nurl = redis+sentinel://127.0.0.1:26379,[::1]:26380/mymaster/2\n"
                           "sentinel_username = watcher\nsentinel_password = s3cret\n"), 0);
    ck_assert_str_eq(cfg.ep.sentinel_username, "watcher");
    ck_assert_str_eq(cfg.ep.sentinel_password, "s3cret");
    ck_assert_str_eq(cfg.ep.sentinel_master, "mymaster");
    ck_assert_str_eq(cfg.endpoint_name, "default");
    ck_assert_str_eq(cfg.ep.name, "default");
    ck_assert_str_eq(cfg.endpoint_addr, "sentinel:127.0.0.1:26379,[::1]:26380/mymaster/2");
    config_release(&cfg);
    setenv("BW_TEST_SENTINEL_PW", "from-env", 1);
    ck_assert_int_eq(parse("[redis]\nurl = redis+sentinel://h/m\n"
                           "sentinel_password_env = BW_TEST_SENTINEL_PW\n"), 0);
    ck_assert_str_eq(cfg.ep.sentinel_password, "from-env");
    ck_assert_ptr_null(cfg.ep.password); /* the data nodes' stays unset */
    config_release(&cfg);
    unsetenv("BW_TEST_SENTINEL_PW");
}
END_TEST

START_TEST(config_sentinel_errors)
{
    ck_assert_int_eq(parse("[redis]\n\nurl = redis+sentinel://h:0/m\n"), -1);
    ck_assert_msg(strncmp(err, "t.ini:3: bad redis url", 22) == 0, "%s", err);
    ck_assert_int_eq(parse("[redis]\nurl = redis://h:1/0\nsentinel_password = x\n"), -1);
    ck_assert_msg(strstr(err, "t.ini:3: sentinel_password is set but url is not a redis+sentinel")
                  != NULL, "%s", err);
    ck_assert_int_eq(parse("[redis]\nurl = redis+sentinel://h/m\nsentinel_username = u\n"), -1);
    ck_assert_msg(strstr(err, "t.ini:3: a sentinel_username needs a sentinel_password") != NULL,
                  "%s", err);
    unsetenv("BW_TEST_NO_SUCH_VAR");
    ck_assert_int_eq(parse("[redis]\nurl = redis+sentinel://h/m\n"
                           "sentinel_password_env = BW_TEST_NO_SUCH_VAR\n"), -1);
    ck_assert_msg(strstr(err, "t.ini:3: sentinel_password_env names 'BW_TEST_NO_SUCH_VAR'") != NULL,
                  "%s", err);
    ck_assert_int_eq(parse("[redis]\nurl = redis+sentinel://h/m\n"
                           "sentinel_password_file = /nonexistent/pw\n"), -1);
    ck_assert_msg(strstr(err, "t.ini:3: cannot read sentinel_password_file") != NULL, "%s", err);
    config_release(&cfg);
}
END_TEST

START_TEST(addr_reply)
{
    char host[64], e[128];
    int port = 0;
    redisReply *r = RESP("*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n");
    ck_assert_int_eq(sentinel_parse_addr(r, "m", host, sizeof host, &port, e, sizeof e), 0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(port, 6380);
    freeReplyObject(r);
    r = RESP("*-1\r\n"); /* an unknown master name */
    ck_assert_int_eq(sentinel_parse_addr(r, "m", host, sizeof host, &port, e, sizeof e), -1);
    ck_assert_str_eq(e, "does not know master 'm'");
    freeReplyObject(r);
    r = RESP("-NOAUTH Authentication required.\r\n");
    ck_assert_int_eq(sentinel_parse_addr(r, "m", host, sizeof host, &port, e, sizeof e), -1);
    ck_assert_str_eq(e, "NOAUTH Authentication required.");
    freeReplyObject(r);
    static const char *const odd[] = {
        "*2\r\n$9\r\n127.0.0.1\r\n$1\r\nx\r\n", "*2\r\n$9\r\n127.0.0.1\r\n$5\r\n70000\r\n",
        "*1\r\n$9\r\n127.0.0.1\r\n",            "*2\r\n$0\r\n\r\n$4\r\n6380\r\n",
        ":1\r\n",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        r = ut_resp(odd[i], strlen(odd[i]));
        ck_assert_int_eq(sentinel_parse_addr(r, "m", host, sizeof host, &port, e, sizeof e), -1);
        ck_assert_ptr_nonnull(strstr(e, "unexpected reply"));
        freeReplyObject(r);
    }
}
END_TEST

Suite *
sentinel_suite(void)
{
    Suite *s = suite_create("sentinel");
    TCase *tc = tcase_create("urls");
    tcase_add_test(tc, url_sentinels_master_db);
    tcase_add_test(tc, url_data_credentials);
    tcase_add_test(tc, url_sentinel_rejected);
    suite_add_tcase(s, tc);
    tc = tcase_create("config");
    tcase_add_test(tc, config_sentinel_auth_and_names);
    tcase_add_test(tc, config_sentinel_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("replies");
    tcase_add_test(tc, addr_reply);
    suite_add_tcase(s, tc);
    return s;
}
