/* The one Check runner: every suite of tests/unit. Check itself honours
 * CK_RUN_SUITE / CK_RUN_CASE (run one suite or test case) and CK_FORK. */
#include <stdlib.h>

#include <hiredis/hiredis.h>

#include <string.h>

#include "suites.h"

struct config ut_cfg;
char ut_err[CONFIG_ERR_LEN];

int
ut_parse(const char *text)
{
    ut_err[0] = '\0';
    config_release(&ut_cfg);
    return config_parse(&ut_cfg, "t.ini", text, ut_err, sizeof ut_err);
}

void
ut_cfg_setup(void)
{
    memset(&ut_cfg, 0, sizeof ut_cfg);
    ut_err[0] = '\0';
}

void
ut_cfg_teardown(void)
{
    config_release(&ut_cfg);
}

struct redisReply *
ut_resp(const char *bytes, size_t n)
{
    redisReader *r = redisReaderCreate();
    void *reply = NULL;
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(redisReaderFeed(r, bytes, n), REDIS_OK);
    ck_assert_int_eq(redisReaderGetReply(r, &reply), REDIS_OK);
    ck_assert_ptr_nonnull(reply);
    redisReaderFree(r);
    return reply;
}

/* The tests' own UTF-8 oracle, written apart from buf.c on purpose. */
bool
ut_utf8_valid(const unsigned char *s, size_t n, bool terminal)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len;
        unsigned cp;
        if (terminal && (c < 0x20 || c == 0x7f))
            return false;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
            return false; /* overlong */
        if (terminal && (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f)))
            return false;
        i += len;
    }
    return true;
}

int
main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_add_suite(sr, event_suite());
    srunner_add_suite(sr, bmq_suite());
    srunner_add_suite(sr, signature_suite());
    srunner_add_suite(sr, jobdata_suite());
    srunner_add_suite(sr, buf_suite());
    srunner_add_suite(sr, util_suite());
    srunner_add_suite(sr, dlq_suite());
    srunner_add_suite(sr, dlqexec_suite());
    srunner_add_suite(sr, strmap_suite());
    srunner_add_suite(sr, alerts_suite());
    srunner_add_suite(sr, ingest_suite());
    srunner_add_suite(sr, opts_suite());
    srunner_add_suite(sr, tui_suite());
    srunner_add_suite(sr, store_suite());
    srunner_add_suite(sr, cluster_suite());
    srunner_add_suite(sr, tls_suite());
    srunner_add_suite(sr, sentinel_suite());
    srunner_add_suite(sr, lease_suite());
    srunner_add_suite(sr, newsig_suite());
    srunner_run_all(sr, CK_NORMAL); /* prints "NN%: Checks: N, Failures: F, Errors: E" */
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
