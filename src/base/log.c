/* log.c - one JSON object per line on stderr. */
#include "base/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/jsonw.h"
#include "base/strbuf.h"
#include "base/banned.h"

static _Atomic int log_level = OB_LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error", "off" };

void ob_log_set_level(ob_log_level l)
{
    atomic_store_explicit(&log_level, (int)l, memory_order_relaxed);
}

ob_log_level ob_log_get_level(void)
{
    return (ob_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

int ob_log_level_parse(const char *s, ob_log_level *out)
{
    if (!s)
        return -1;
    for (int i = 0; i <= (int)OB_LOG_OFF; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (ob_log_level)i;
            return 0;
        }
    }
    return -1;
}

static bool log_enabled(ob_log_level l)
{
    return l >= OB_LOG_DEBUG && l < OB_LOG_OFF && (int)l >= (int)ob_log_get_level();
}

static void log_begin(ob_sb *sb, ob_log_level l)
{
    char ts[OB_TS_LEN];
    ob_ts_format(ob_now_ms(), ts);
    ob_sb_adds(sb, "{\"time\":\"");
    ob_sb_adds(sb, ts);
    ob_sb_adds(sb, "\",\"level\":\"");
    ob_sb_adds(sb, level_names[l]);
    ob_sb_addc(sb, '"');
}

/* One write(2) per line so concurrent lines do not interleave; the loop only
 * matters for a signal or a short write to a pipe. */
static void log_emit(ob_sb *sb)
{
    ob_sb_adds(sb, "}\n");
    const char *p = sb->buf;
    size_t left = sb->len;
    while (left) {
        ssize_t n = write(STDERR_FILENO, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        p += n;
        left -= (size_t)n;
    }
}

static void add_string(ob_sb *sb, const char *s)
{
    if (!s) {
        ob_sb_adds(sb, "null");
        return;
    }
    ob_sb_addc(sb, '"');
    ob_json_escape(sb, s, strlen(s));
    ob_sb_addc(sb, '"');
}

void ob_log(ob_log_level l, const char *msg, ...)
{
    if (!log_enabled(l))
        return;
    int saved = errno; /* logging must not disturb the caller's errno */
    ob_sb sb;
    ob_sb_init(&sb, 256);
    log_begin(&sb, l);
    ob_sb_adds(&sb, ",\"msg\":");
    add_string(&sb, msg);
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        ob_sb_addc(&sb, ',');
        add_string(&sb, k);
        ob_sb_addc(&sb, ':');
        add_string(&sb, v);
    }
    va_end(ap);
    log_emit(&sb);
    ob_sb_release(&sb);
    errno = saved;
}

void ob_log_raw(ob_log_level l, const char *json_fields)
{
    if (!log_enabled(l))
        return;
    int saved = errno;
    ob_sb sb;
    ob_sb_init(&sb, 256);
    log_begin(&sb, l);
    if (json_fields && *json_fields) {
        ob_sb_addc(&sb, ',');
        ob_sb_adds(&sb, json_fields);
    }
    log_emit(&sb);
    ob_sb_release(&sb);
    errno = saved;
}
