/* labels: see labels.h */
#include "labels.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

void
labels_set(struct labels *l, const char *key, const char *value)
{
    int i = 0;
    while (i < l->n && strcmp(l->k[i], key) < 0)
        i++;
    if (i < l->n && !strcmp(l->k[i], key)) {
        l->v[i] = value;
        return;
    }
    if (l->n == LABELS_MAX)
        return;
    memmove(&l->k[i + 1], &l->k[i], sizeof l->k[0] * (size_t)(l->n - i));
    memmove(&l->v[i + 1], &l->v[i], sizeof l->v[0] * (size_t)(l->n - i));
    l->k[i] = key;
    l->v[i] = value;
    l->n++;
}

const char *
labels_get(const struct labels *l, const char *key)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->k[i], key))
            return l->v[i];
    return NULL;
}

void
labels_json(const struct labels *l, struct buf *out)
{
    buf_addc(out, '{');
    for (int i = 0; i < l->n; i++) {
        if (i)
            buf_addc(out, ',');
        buf_add_json_str(out, l->k[i], strlen(l->k[i]));
        buf_addc(out, ':');
        buf_add_json_str(out, l->v[i], strlen(l->v[i]));
    }
    buf_addc(out, '}');
}

void
labels_fingerprint(const char *rule, const struct labels *l, char out[17])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    struct buf b;
    buf_init(&b, 0);
    buf_add(&b, rule, strlen(rule) + 1);
    for (int i = 0; i < l->n; i++) {
        buf_add(&b, l->k[i], strlen(l->k[i]) + 1);
        buf_add(&b, l->v[i], strlen(l->v[i]) + 1);
    }
    SHA256((const unsigned char *)b.data, b.len, md);
    buf_release(&b);
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

bool
labels_match(const char *matchers, const char *rule, const char *severity, const struct labels *l)
{
    char m[512];
    snprintf(m, sizeof m, "%s", matchers);
    for (char *save = NULL, *tok = strtok_r(m, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return false; /* not a matcher: matches nothing rather than everything */
        *eq = '\0';
        const char *v = !strcmp(tok, "rule") ? rule : !strcmp(tok, "severity") ? severity
                                                                                : labels_get(l, tok);
        if (!v || fnmatch(eq + 1, v, 0) != 0)
            return false;
    }
    return true;
}
