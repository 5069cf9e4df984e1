/* The one Check runner: every suite; CK_RUN_SUITE / CK_RUN_CASE pick one. */
#include <stdlib.h>

#include "unit.h"

int
main(void)
{
    SRunner *sr = srunner_create(u_config_suite());
    srunner_add_suite(sr, u_event_suite());
    srunner_add_suite(sr, u_signature_suite());
    srunner_add_suite(sr, u_jobdata_suite());
    srunner_add_suite(sr, u_util_suite());
    srunner_add_suite(sr, u_dlq_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
