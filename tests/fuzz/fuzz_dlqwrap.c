/* The dead-letter wrapper unpacker (agent/dlq.c dlq_unpack): any job data
 * unpacks or is refused; no undefined conversions (UBSan: maxAttempts
 * 6666666660 and failedAt 1e100 were, issue 12 item 5). What it keeps is
 * JSON where it says so. */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "dlq.h"
#include "fuzz_util.h"
#include "jobdata.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dlq_wrapper w;
    int rc = dlq_unpack((const char *)data, size, &w);
    if (rc == 0) {
        if (!w.queue || !w.queue[0] || strchr(w.queue, ':') || !w.name || !w.data || !w.opts)
            abort();
        if (!jobdata_json_valid(w.data, strlen(w.data)) || !jobdata_json_valid(w.opts, strlen(w.opts)))
            abort();
        if (w.failed_at < 0)
            abort();
    }
    dlq_wrapper_release(&w);
    return 0;
}
