/* The one Check runner: every suite of tests/unit. Check itself honours
 * CK_RUN_SUITE / CK_RUN_CASE (run one suite or test case) and CK_FORK. */
#include <stdlib.h>

#include "suites.h"

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
    srunner_add_suite(sr, strmap_suite());
    srunner_add_suite(sr, alerts_suite());
    srunner_run_all(sr, CK_NORMAL); /* prints "NN%: Checks: N, Failures: F, Errors: E" */
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
