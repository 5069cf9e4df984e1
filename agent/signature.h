/*
 * signature: an error message normalised so that messages differing only in
 * numbers, hex, UUIDs, IPs, e-mails or quoted values group together:
 *   "timeout after 3012ms" and "timeout after 98ms" -> "timeout after <n>ms".
 * The id is 12 hex digits of a 64-bit FNV-1a hash of the normalised text.
 * Pure.
 */
#ifndef AGENT_SIGNATURE_H
#define AGENT_SIGNATURE_H

#include <stddef.h>

#include "buf.h"

#define SIGNATURE_MAX 256
#define SIGNATURE_ID_LEN 12

/* Append the normalised form of s (n bytes) to out (at most SIGNATURE_MAX). */
void signature_normalise(const char *s, size_t n, struct buf *out);
/* id of a normalised text: SIGNATURE_ID_LEN hex chars + NUL into out. */
void signature_id(const char *norm, size_t n, char out[SIGNATURE_ID_LEN + 1]);

#endif
