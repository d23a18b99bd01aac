/* smtp.h - sending one e-mail to the configured SMTP server (libcurl smtp://
 * or smtps://). What is sent and when is the domain's (domain/notify/
 * outbox.c): every message is a notification_logs row, each attempt a job. */
#ifndef OB_SMTP_H
#define OB_SMTP_H

#include "base/err.h"

/* Process-wide settings from serve and worker (--smtp-url, --smtp-from);
 * the strings are copied. url NULL or empty: e-mail is off, and a send
 * fails (the message stays pending and its job retries). */
void ob_smtp_configure(const char *url, const char *from, int timeout_ms);

/* Send a text/plain UTF-8 message. OB_E_UNAVAILABLE with the server's or
 * the connection's reason; OB_E_UNPROCESSABLE for an address that cannot be
 * put in a header (CR, LF, angle brackets). */
int ob_smtp_send(const char *to, const char *subject, const char *body, ob_err *err);

/* A file sent with a message: its name (ASCII, no quotes), MIME type and bytes. */
typedef struct ob_smtp_file {
    const char *name, *mime;
    const void *data;
    size_t len;
} ob_smtp_file;

/* The same with files: multipart/mixed, the text first, then each file
 * base64-encoded as an attachment. n == 0 sends what ob_smtp_send does. */
int ob_smtp_send_files(const char *to, const char *subject, const char *body, const ob_smtp_file *files, int n,
                       ob_err *err);

#endif
