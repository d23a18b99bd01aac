/* log.h - JSON log lines on stderr, one per event.
 *
 * Every line is one JSON object with "time" and "level" and the fields given.
 * Writes are a single write(2) per line so lines from threads do not mix. */
#ifndef OB_LOG_H
#define OB_LOG_H

typedef enum { OB_LOG_DEBUG, OB_LOG_INFO, OB_LOG_WARN, OB_LOG_ERROR, OB_LOG_OFF } ob_log_level;

void ob_log_set_level(ob_log_level l);
ob_log_level ob_log_get_level(void);
/* Parse "debug", "info", "warn", "error", "off"; 0 on success. */
int ob_log_level_parse(const char *s, ob_log_level *out);

/* Log a message with optional string key/value pairs ending with NULL:
 *   ob_log(OB_LOG_INFO, "listening", "addr", "127.0.0.1:8080", NULL); */
void ob_log(ob_log_level l, const char *msg, ...) __attribute__((sentinel));
/* Log a preformatted JSON object body (without braces), e.g. the access log. */
void ob_log_raw(ob_log_level l, const char *json_fields);

#endif
