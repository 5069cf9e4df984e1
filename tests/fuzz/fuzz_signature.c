/* The signature normaliser (agent/signature.c): any bytes give a
 * normalised text and a 12-hex id; the id is a function of the text. */
#include <stdio.h>

#include "buf.h"
#include "fuzz_util.h"
#include "signature.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf out;
    buf_init(&out, 0);
    signature_normalise((const char *)data, size, &out);
    char id[SIGNATURE_ID_LEN + 1], id2[SIGNATURE_ID_LEN + 1];
    signature_id(out.data ? out.data : "", out.len, id);
    signature_id(out.data ? out.data : "", out.len, id2);
    if (strlen(id) != SIGNATURE_ID_LEN || strcmp(id, id2) != 0)
        abort();
    for (int i = 0; i < SIGNATURE_ID_LEN; i++)
        if (!strchr("0123456789abcdef", id[i]))
            abort();
    buf_release(&out);
    return 0;
}
