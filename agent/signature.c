/* signature: see signature.h */
#include "signature.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

static int
is_word(unsigned char c)
{
    return isalnum(c) || c == '_';
}

static int
is_hex(unsigned char c)
{
    return isxdigit(c);
}

/* UUID 8-4-4-4-12 at s; returns its length or 0 */
static size_t
match_uuid(const unsigned char *s, size_t n)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    size_t i = 0;
    for (int g = 0; g < 5; g++) {
        for (int k = 0; k < groups[g]; k++, i++)
            if (i >= n || !is_hex(s[i]))
                return 0;
        if (g < 4) {
            if (i >= n || s[i] != '-')
                return 0;
            i++;
        }
    }
    if (i < n && is_word(s[i]))
        return 0;
    return i;
}

static int
is_email_local(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '_' || c == '+' || c == '-' || c == '%';
}

/* e-mail at s: local@domain.tld */
static size_t
match_email(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n && is_email_local(s[i]))
        i++;
    if (i == 0 || i >= n || s[i] != '@')
        return 0;
    i++;
    size_t dstart = i;
    int dots = 0;
    while (i < n && (isalnum(s[i]) || s[i] == '-' || s[i] == '.')) {
        if (s[i] == '.')
            dots++;
        i++;
    }
    while (i > dstart && s[i - 1] == '.') {
        i--;
        dots--;
    }
    if (i == dstart || dots < 1)
        return 0;
    return i;
}

/* IPv4 with optional :port */
static size_t
match_ipv4(const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        size_t d = 0;
        while (i < n && isdigit(s[i]) && d < 4) {
            i++;
            d++;
        }
        if (d == 0 || d > 3)
            return 0;
        if (part < 3) {
            if (i >= n || s[i] != '.')
                return 0;
            i++;
        }
    }
    if (i < n && (isdigit(s[i]) || (s[i] == '.' && i + 1 < n && isdigit(s[i + 1]))))
        return 0;
    if (i + 1 < n && s[i] == ':' && isdigit(s[i + 1])) {
        i++;
        while (i < n && isdigit(s[i]))
            i++;
    }
    return i;
}

/* IPv6: hex groups separated by ':' with "::" or at least 7 colons */
static size_t
match_ipv6(const unsigned char *s, size_t n)
{
    size_t i = 0;
    int colons = 0, dbl = 0, hexrun = 0;
    while (i < n && (is_hex(s[i]) || s[i] == ':')) {
        if (s[i] == ':') {
            colons++;
            if (i + 1 < n && s[i + 1] == ':')
                dbl = 1;
            hexrun = 0;
        } else if (++hexrun > 4) {
            return 0;
        }
        i++;
    }
    if (i < n && (isalnum(s[i]) || s[i] == '_'))
        return 0;
    if ((dbl && colons >= 2) || colons >= 7)
        return i;
    return 0;
}

/* 0x... or a run of >= 8 hex chars with a digit and a letter */
static size_t
match_hex(const unsigned char *s, size_t n)
{
    size_t i = 0;
    if (n >= 3 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && is_hex(s[2])) {
        i = 2;
        while (i < n && is_hex(s[i]))
            i++;
        return (i < n && is_word(s[i])) ? 0 : i;
    }
    int digit = 0, alpha = 0;
    while (i < n && is_hex(s[i])) {
        if (isdigit(s[i]))
            digit = 1;
        else
            alpha = 1;
        i++;
    }
    if (i >= 8 && digit && alpha && !(i < n && is_word(s[i])))
        return i;
    return 0;
}

static size_t
match_number(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n && isdigit(s[i]))
        i++;
    if (i == 0)
        return 0;
    if (i + 1 < n && (s[i] == '.' || s[i] == ',') && isdigit(s[i + 1])) {
        i++;
        while (i < n && isdigit(s[i]))
            i++;
    }
    return i;
}

void
signature_normalise(const char *str, size_t n, struct buf *out)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t start = out->len;
    size_t i = 0;
    int space = 0;
    while (i < n && out->len - start < SIGNATURE_MAX) {
        unsigned char c = s[i];
        int boundary = (i == 0) || !is_word(s[i - 1]);
        size_t m;
        if (isspace(c) || c < 0x20) {
            space = 1;
            i++;
            continue;
        }
        if (space && out->len > start)
            buf_addc(out, ' ');
        space = 0;
        if (c == '"' || c == '\'' || c == '`') {
            const unsigned char *close = memchr(s + i + 1, c, n - i - 1 > 512 ? 512 : n - i - 1);
            /* an apostrophe inside a word ("can't") is not a quote */
            if (close && !(c == '\'' && i > 0 && isalpha(s[i - 1]))) {
                buf_addc(out, (char)c);
                buf_adds(out, "<v>");
                buf_addc(out, (char)c);
                i = (size_t)(close - s) + 1;
                continue;
            }
        }
        if (boundary && (m = match_uuid(s + i, n - i))) {
            buf_adds(out, "<uuid>");
            i += m;
        } else if (boundary && (m = match_email(s + i, n - i))) {
            buf_adds(out, "<email>");
            i += m;
        } else if (boundary && (m = match_ipv4(s + i, n - i))) {
            buf_adds(out, "<ip>");
            i += m;
        } else if (boundary && (m = match_ipv6(s + i, n - i))) {
            buf_adds(out, "<ip>");
            i += m;
        } else if (boundary && (m = match_hex(s + i, n - i))) {
            buf_adds(out, "<hex>");
            i += m;
        } else if (boundary && (m = match_number(s + i, n - i))) {
            buf_adds(out, "<n>");
            i += m;
        } else if (!boundary && isdigit(c)) {
            /* digits glued to a word: "E11000", "sha256", "v2": keep */
            while (i < n && is_word(s[i]))
                buf_addc(out, (char)s[i++]);
        } else {
            buf_addc(out, (char)c);
            i++;
        }
    }
    if (out->len - start > SIGNATURE_MAX) {
        out->len = start + SIGNATURE_MAX;
        out->data[out->len] = '\0';
    }
}

void
signature_id(const char *norm, size_t n, char out[SIGNATURE_ID_LEN + 1])
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)norm[i];
        h *= 1099511628211ULL;
    }
    static const char hex[] = "0123456789abcdef";
    h >>= 16; /* 48 bits: 12 hex digits */
    for (int i = SIGNATURE_ID_LEN - 1; i >= 0; i--) {
        out[i] = hex[h & 0xf];
        h >>= 4;
    }
    out[SIGNATURE_ID_LEN] = '\0';
}
