/* smtp.c - one e-mail over SMTP with libcurl (smtp.h). */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/base.h"
#include "base/clock.h"
#include "jobs/smtp.h"
#include "base/banned.h"

static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static char *cfg_url, *cfg_from;
static int cfg_timeout_ms = 30000;

void ob_smtp_configure(const char *url, const char *from, int timeout_ms)
{
    pthread_mutex_lock(&cfg_lock);
    free(cfg_url);
    free(cfg_from);
    cfg_url = url && *url ? strdup(url) : NULL;
    cfg_from = strdup(from && *from ? from : "opsbase@localhost");
    if (timeout_ms > 0) cfg_timeout_ms = timeout_ms;
    pthread_mutex_unlock(&cfg_lock);
}

/* An address that cannot end a header line or an SMTP command early. */
static bool plain_address(const char *s)
{
    if (!s || !*s || strlen(s) > 254 || !strchr(s, '@')) return false;
    for (; *s; s++)
        if (*s == '\r' || *s == '\n' || *s == '<' || *s == '>' || *s == ' ' || *s == ',') return false;
    return true;
}

typedef struct reader {
    const char *p;
    size_t left;
} reader;

static size_t feed(char *out, size_t size, size_t n, void *arg)
{
    reader *r = arg;
    size_t k = size * n < r->left ? size * n : r->left;
    memcpy(out, r->p, k);
    r->p += k;
    r->left -= k;
    return k;
}

/* The subject as an RFC 2047 encoded word when it is not plain ASCII. */
static void subject_header(ob_sb *m, const char *subject)
{
    bool ascii = true;
    for (const unsigned char *s = (const unsigned char *)subject; *s; s++) ascii &= *s >= 0x20 && *s < 0x7f;
    if (ascii) {
        ob_sb_addf(m, "Subject: %s\r\n", subject);
        return;
    }
    ob_sb_adds(m, "Subject: =?UTF-8?Q?");
    for (const unsigned char *s = (const unsigned char *)subject; *s; s++) {
        if (*s == '\r' || *s == '\n') continue;
        if (*s > 0x20 && *s < 0x7f && *s != '=' && *s != '?' && *s != '_') ob_sb_addc(m, (char)*s);
        else ob_sb_addf(m, "=%02X", *s);
    }
    ob_sb_adds(m, "?=\r\n");
}

/* The body as CRLF lines (curl dot-stuffs lines that start with '.'). */
static void add_text(ob_sb *m, const char *body)
{
    for (const char *s = body; *s; s++) {
        if (*s == '\n' && (s == body || s[-1] != '\r')) ob_sb_addc(m, '\r');
        ob_sb_addc(m, *s);
    }
    ob_sb_adds(m, "\r\n");
}

/* bytes as base64 (RFC 2045), lines of 76 characters */
static void add_base64(ob_sb *m, const unsigned char *p, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int col = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {abc[v >> 18 & 63], abc[v >> 12 & 63], i + 1 < n ? abc[v >> 6 & 63] : '=',
                     i + 2 < n ? abc[v & 63] : '='};
        ob_sb_add(m, q, 4);
        if ((col += 4) == 76) {
            ob_sb_adds(m, "\r\n");
            col = 0;
        }
    }
    if (col) ob_sb_adds(m, "\r\n");
}

/* The message after its From/To/Subject headers. */
static void add_content(ob_sb *m, const char *body, const ob_smtp_file *files, int n)
{
    ob_sb_adds(m, "MIME-Version: 1.0\r\n");
    if (n == 0) {
        ob_sb_adds(m, "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
        add_text(m, body);
        return;
    }
    /* a boundary that cannot occur in base64 or, being random, in the text */
    unsigned char raw[12];
    randombytes_buf(raw, sizeof raw);
    char boundary[48] = "=_ob_";
    for (size_t i = 0; i < sizeof raw; i++) snprintf(boundary + 5 + 2 * i, 3, "%02x", raw[i]);
    ob_sb_addf(m, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", boundary);
    ob_sb_addf(m, "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
               boundary);
    add_text(m, body);
    for (int i = 0; i < n; i++) {
        ob_sb_addf(m, "--%s\r\nContent-Type: %s; name=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n"
                      "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n",
                   boundary, files[i].mime, files[i].name, files[i].name);
        add_base64(m, files[i].data, files[i].len);
    }
    ob_sb_addf(m, "--%s--\r\n", boundary);
}

int ob_smtp_send(const char *to, const char *subject, const char *body, ob_err *err)
{
    return ob_smtp_send_files(to, subject, body, NULL, 0, err);
}

int ob_smtp_send_files(const char *to, const char *subject, const char *body, const ob_smtp_file *files, int n,
                       ob_err *err)
{
    if (!plain_address(to)) return ob_err_set(err, OB_E_UNPROCESSABLE, "the recipient is not one e-mail address");
    pthread_mutex_lock(&cfg_lock);
    char *url = cfg_url ? strdup(cfg_url) : NULL, *from = strdup(cfg_from ? cfg_from : "opsbase@localhost");
    int timeout_ms = cfg_timeout_ms;
    pthread_mutex_unlock(&cfg_lock);
    if (!url) {
        free(from);
        return ob_err_set(err, OB_E_UNAVAILABLE, "e-mail is off: serve with --smtp-url smtp://host:port");
    }
    char date[OB_TS_LEN];
    ob_ts_format(ob_now_ms(), date);
    ob_sb m;
    ob_sb_init(&m, strlen(body) + 512);
    ob_sb_addf(&m, "From: <%s>\r\nTo: <%s>\r\n", from, to);
    subject_header(&m, subject ? subject : "");
    add_content(&m, body, files, n);
    reader r = {m.buf, m.len};
    char rcpt_buf[300], from_buf[300];
    snprintf(rcpt_buf, sizeof rcpt_buf, "<%s>", to);
    snprintf(from_buf, sizeof from_buf, "<%s>", from);
    CURL *c = curl_easy_init();
    int rc = 0;
    if (!c) {
        rc = ob_err_set(err, OB_E_INTERNAL, "cannot start an SMTP client");
    } else {
        struct curl_slist *rcpt = curl_slist_append(NULL, rcpt_buf);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, from_buf);
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, feed);
        curl_easy_setopt(c, CURLOPT_READDATA, &r);
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        CURLcode cc = curl_easy_perform(c);
        if (cc != CURLE_OK) {
            long code = 0;
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
            rc = ob_err_set(err, OB_E_UNAVAILABLE, "smtp: %s (server code %ld)", curl_easy_strerror(cc), code);
        }
        curl_slist_free_all(rcpt);
        curl_easy_cleanup(c);
    }
    ob_sb_release(&m);
    free(url);
    free(from);
    return rc;
}
