/* The config parser (agent/config.c config_parse): any text is a config
 * or an error "NAME:LINE: message"; nothing leaks (ASan) either way. */
#include <stdio.h>

#include "config.h"
#include "fuzz_util.h"
#include "log.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    char *text = fuzz_cstr(data, size);
    struct config cfg;
    char err[CONFIG_ERR_LEN];
    err[0] = '\0';
    int rc = config_parse(&cfg, "fuzz.ini", text, err, sizeof err);
    if (rc != 0 && strncmp(err, "fuzz.ini", 8) != 0)
        abort(); /* every error names the file */
    config_release(&cfg);
    log_set_level(LOG_ERROR);
    free(text);
    return 0;
}
