/*
 * fuzz_util: what the libFuzzer harnesses share. Each harness defines
 * LLVMFuzzerTestOneInput; `make fuzz` builds them with clang
 * -fsanitize=fuzzer,address,undefined against the core library built the
 * same way (build-fuzz/).
 */
#ifndef TESTS_FUZZ_UTIL_H
#define TESTS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (caller frees). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Replies parsed from RESP bytes the way hiredis reads them off a socket
 * (the hiredis test approach): up to max of them into out; returns how
 * many. The caller frees each with freeReplyObject. */
static inline int
fuzz_replies(const uint8_t *data, size_t size, redisReply **out, int max)
{
    /* hiredis 0.14 allocates the element array a "*N" header claims before
     * any element arrives (*322222222: 2.5 GB; it has no maxelements, a
     * finding in hiredis, not ours to fix here): such inputs are skipped */
    for (size_t i = 0; i < size; i++) {
        if (data[i] != '*') /* anywhere: hiredis does not check every CRLF */
            continue;
        size_t v = 0, k = i + 1;
        while (k < size && data[k] >= '0' && data[k] <= '9' && v <= 100000)
            v = v * 10 + (size_t)(data[k++] - '0');
        if (v > 100000)
            return 0;
    }
    redisReader *r = redisReaderCreate();
    int n = 0;
    if (!r)
        abort();
    /* bounded nesting: hiredis refuses deeper than 7 levels itself */
    redisReaderFeed(r, (const char *)data, size);
    while (n < max) {
        void *rep = NULL;
        if (redisReaderGetReply(r, &rep) != REDIS_OK || !rep)
            break;
        out[n++] = rep;
    }
    redisReaderFree(r);
    return n;
}

#endif
