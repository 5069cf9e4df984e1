/* The Check suites of bullwatch's pure modules; tests/unit/main.c runs them. */
#ifndef TESTS_UNIT_H
#define TESTS_UNIT_H

#include <check.h>

Suite *u_config_suite(void);
Suite *u_event_suite(void);
Suite *u_signature_suite(void);
Suite *u_jobdata_suite(void);
Suite *u_util_suite(void);
Suite *u_dlq_suite(void);

#endif
