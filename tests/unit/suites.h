/* The Check suites of bullwatch's pure modules; check_main.c runs them all.
 * One file per module: check_<module>.c exports <module>_suite(). */
#ifndef TESTS_UNIT_SUITES_H
#define TESTS_UNIT_SUITES_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

/* Is s valid UTF-8 (no truncated or overlong sequence)? terminal: also no
 * C0/C1 control, DEL, surrogate or code point past U+10FFFF. */
bool ut_utf8_valid(const unsigned char *s, size_t n, bool terminal);

/* One reply parsed from n RESP bytes (what hiredis would hand us); free
 * with freeReplyObject. RESP("...") for a literal. */
struct redisReply *ut_resp(const char *bytes, size_t n);
#define RESP(lit) ut_resp(lit, sizeof(lit) - 1)

/* The config suites' fixture: ut_parse releases the config parsed before
 * (a no-op on a released one) and parses text as "t.ini", its message in
 * ut_err; ut_cfg_setup/teardown for tcase_add_checked_fixture. */
#include "config.h"
extern struct config ut_cfg;
extern char ut_err[CONFIG_ERR_LEN];
int ut_parse(const char *text);
void ut_cfg_setup(void);
void ut_cfg_teardown(void);

Suite *config_suite(void);
Suite *event_suite(void);
Suite *bmq_suite(void);
Suite *signature_suite(void);
Suite *jobdata_suite(void);
Suite *buf_suite(void);
Suite *util_suite(void);
Suite *dlq_suite(void);
Suite *dlqexec_suite(void);
Suite *strmap_suite(void);
Suite *alerts_suite(void);
Suite *ingest_suite(void);
Suite *opts_suite(void);
Suite *tui_suite(void);
Suite *store_suite(void);
Suite *cluster_suite(void);
Suite *tls_suite(void);
Suite *sentinel_suite(void);
Suite *lease_suite(void);
Suite *newsig_suite(void);

#endif
