/* webhooks.c - the target check, the signature and one signed POST
 * (webhooks.h). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base/base.h"
#include "jobs/webhooks.h"
#include "base/banned.h"

static ob_webhook_cfg cfg = {60000, 12, 10000};

void ob_webhooks_configure(const ob_webhook_cfg *c)
{
    if (c->backoff_ms > 0) cfg.backoff_ms = c->backoff_ms;
    if (c->max_attempts > 0) cfg.max_attempts = c->max_attempts;
    if (c->timeout_ms > 0) cfg.timeout_ms = c->timeout_ms;
}

ob_webhook_cfg ob_webhooks_cfg(void) { return cfg; }

int64_t ob_webhook_backoff_ms(int base_ms, int failures, uint32_t random)
{
    int64_t base = base_ms > 0 ? base_ms : 60000, d = base;
    for (int i = 1; i < failures && d < base * 480; i++) d *= 2;
    if (d > base * 480) d = base * 480;
    return d + (int64_t)(random % (uint32_t)(d / 8 + 1));
}

void ob_webhook_sign(const char *secret, const char *timestamp, const char *body, size_t n,
                     char out[OB_WEBHOOK_SIG_LEN])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)timestamp, strlen(timestamp));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, n);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "v1=", 3);
    sodium_bin2hex(out + 3, OB_WEBHOOK_SIG_LEN - 3, mac, sizeof mac);
}

/* --- where a target may point -------------------------------------------- */

static bool in4(uint32_t a, uint32_t net, int bits) { return bits == 0 || (a >> (32 - bits)) == (net >> (32 - bits)); }

/* Addresses that reach the host itself, its networks or nowhere public. */
static bool private_v4(uint32_t a)
{
    static const struct {
        uint32_t net;
        int bits;
    } r[] = {
        {0x00000000, 8},  {0x0a000000, 8},  {0x64400000, 10}, {0x7f000000, 8},  {0xa9fe0000, 16},
        {0xac100000, 12}, {0xc0000000, 24}, {0xc0a80000, 16}, {0xc6120000, 15}, {0xe0000000, 4},
        {0xf0000000, 4},
    };
    for (size_t i = 0; i < OB_ARRAY_LEN(r); i++)
        if (in4(a, r[i].net, r[i].bits)) return true;
    return false;
}

static bool private_v6(const unsigned char *b)
{
    static const unsigned char zero[16];
    /* IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address */
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return private_v4((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15]);
    if (memcmp(b, zero, 15) == 0 && b[15] <= 1) return true; /* :: and ::1 */
    if ((b[0] & 0xfe) == 0xfc) return true;                  /* fc00::/7 unique local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  /* fe80::/10 link-local */
    if (b[0] == 0xff) return true;                           /* multicast */
    if (memcmp(b, zero, 12) == 0) return true;               /* ::a.b.c.d, deprecated */
    return false;
}

typedef struct target {
    char host[256];
    long port;
    bool literal;                 /* the URL names an address: nothing to resolve */
    char addr[INET6_ADDRSTRLEN];  /* the checked address to connect to */
    bool v6;
} target;

static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static int resolve(const char *url, bool allow_private, target *t, ob_err *err)
{
    pthread_once(&curl_once, curl_init_once);
    memset(t, 0, sizeof *t);
    if (!url || strlen(url) > 2000) return ob_err_set(err, OB_E_UNPROCESSABLE, "url: must be at most 2000 characters");
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
    int rc = 0;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        rc = ob_err_set(err, OB_E_UNPROCESSABLE, "url: not an absolute http or https URL");
    } else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        rc = ob_err_set(err, OB_E_UNPROCESSABLE, "url: only http and https targets are allowed");
    } else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        rc = ob_err_set(err, OB_E_UNPROCESSABLE, "url: credentials in the URL are not allowed (sign with the secret)");
    } else {
        size_t n = strlen(host);
        const char *h = host;
        if (n >= 2 && host[0] == '[') {
            h = host + 1;
            n -= 2;
        }
        if (n == 0 || n >= sizeof t->host) rc = ob_err_set(err, OB_E_UNPROCESSABLE, "url: the host is not valid");
        else {
            memcpy(t->host, h, n);
            t->host[n] = 0;
            t->port = strtol(port, NULL, 10);
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_url_cleanup(u);
    if (rc) return rc;
    unsigned char bin[16];
    t->literal = inet_pton(AF_INET, t->host, bin) == 1 || inet_pton(AF_INET6, t->host, bin) == 1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(t->host, NULL, &hints, &res) != 0 || !res)
        return ob_err_set(err, OB_E_UNPROCESSABLE, "url: the host \"%.100s\" does not resolve", t->host);
    for (struct addrinfo *ai = res; ai && rc == 0; ai = ai->ai_next) {
        bool priv;
        char text[INET6_ADDRSTRLEN] = "";
        if (ai->ai_family == AF_INET) {
            const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)ai->ai_addr;
            priv = private_v4(ntohl(s4->sin_addr.s_addr));
            inet_ntop(AF_INET, &s4->sin_addr, text, sizeof text);
        } else if (ai->ai_family == AF_INET6) {
            const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)ai->ai_addr;
            priv = private_v6(s6->sin6_addr.s6_addr);
            inet_ntop(AF_INET6, &s6->sin6_addr, text, sizeof text);
        } else {
            continue;
        }
        if (priv && !allow_private)
            rc = ob_err_set(err, OB_E_UNPROCESSABLE,
                            "url: %s is a private, loopback or reserved address; webhooks go to public hosts only",
                            text);
        else if (!t->addr[0]) {
            memcpy(t->addr, text, sizeof text);
            t->v6 = ai->ai_family == AF_INET6;
        }
    }
    freeaddrinfo(res);
    if (rc == 0 && !t->addr[0]) rc = ob_err_set(err, OB_E_UNPROCESSABLE, "url: the host has no usable address");
    return rc;
}

int ob_webhook_check_target(const char *url, bool allow_private, ob_err *err)
{
    target t;
    return resolve(url, allow_private, &t, err);
}

/* A response body, kept up to a cap (NULL buf: thrown away). */
typedef struct sink {
    char *buf;
    size_t len, cap;
    bool keep;
} sink;

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    sink *s = arg;
    size_t m = size * n;
    if (!s->keep) return m;
    if (s->len + m > OB_HTTP_MAX_RESPONSE) return 0; /* an answer past the cap fails the call */
    if (s->len + m + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + m + 1) cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b) return 0;
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, m);
    s->len += m;
    s->buf[s->len] = 0;
    return m;
}

int ob_http_send(const ob_http_call *call, long *status, char **body, ob_err *err)
{
    *status = 0;
    if (body) *body = NULL;
    target t;
    if (resolve(call->url, call->allow_private, &t, err) != 0) return -1;
    CURL *c = curl_easy_init();
    if (!c) return ob_err_set(err, OB_E_INTERNAL, "cannot start an HTTP client");
    struct curl_slist *hd = NULL, *pin = NULL;
    for (const char *const *h = call->headers; h && *h; h++) hd = curl_slist_append(hd, *h);
    hd = curl_slist_append(hd, "Expect:");
    char line[512];
    if (!t.literal) {
        /* connect to the address that was checked, not to a second answer */
        snprintf(line, sizeof line, "%s:%ld:%s%s%s", t.host, t.port, t.v6 ? "[" : "", t.addr, t.v6 ? "]" : "");
        pin = curl_slist_append(pin, line);
        curl_easy_setopt(c, CURLOPT_RESOLVE, pin);
    }
    sink s = {NULL, 0, 0, body != NULL};
    curl_easy_setopt(c, CURLOPT_URL, call->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (call->connect_timeout_ms > 0) curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)call->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(call->timeout_ms > 0 ? call->timeout_ms : cfg.timeout_ms));
    curl_easy_setopt(c, CURLOPT_USERAGENT, call->agent ? call->agent : "opsbase/1");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    if (call->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, call->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(call->body));
    }
    if (call->method && strcmp(call->method, "GET") != 0 && strcmp(call->method, "POST") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, call->method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    CURLcode cc = curl_easy_perform(c);
    int rc = 0;
    if (cc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    else rc = ob_err_set(err, OB_E_UNAVAILABLE, "%s", curl_easy_strerror(cc));
    curl_easy_cleanup(c);
    curl_slist_free_all(hd);
    curl_slist_free_all(pin);
    if (rc == 0 && body) *body = s.buf ? s.buf : strdup("");
    else free(s.buf);
    return rc;
}

int ob_webhook_post(const char *url, bool allow_private, const char *event, const char *delivery_id,
                    const char *secret, const char *body, long *status, ob_err *err)
{
    char ts[24], sig[OB_WEBHOOK_SIG_LEN], ev[512], dl[512], tsl[64], sgl[128];
    snprintf(ts, sizeof ts, "%lld", (long long)(ob_now_ms() / 1000));
    ob_webhook_sign(secret, ts, body, strlen(body), sig);
    snprintf(ev, sizeof ev, "Opsbase-Event: %s", event);
    snprintf(dl, sizeof dl, "Opsbase-Delivery: %s", delivery_id);
    snprintf(tsl, sizeof tsl, "Opsbase-Timestamp: %s", ts);
    snprintf(sgl, sizeof sgl, "Opsbase-Signature: %s", sig);
    const char *hd[] = {"Content-Type: application/json", ev, dl, tsl, sgl, NULL};
    ob_http_call call = {.method = "POST", .url = url, .headers = hd, .body = body,
                         .allow_private = allow_private, .agent = "opsbase-webhooks/1"};
    return ob_http_send(&call, status, NULL, err);
}
