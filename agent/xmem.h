/*
 * xmem: allocation that never returns NULL. Out of memory aborts with a
 * message; callers never check. Everything in bullwatch allocates here.
 */
#ifndef AGENT_XMEM_H
#define AGENT_XMEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* xmemdup: copy n bytes and add a NUL after them. */
char *xmemdup(const void *p, size_t n);

#endif
