/* sniff.c - what an upload is, read from its bytes (libmagic), and names
 * made safe (files.h). */
#include <magic.h>
#include <pthread.h>
#include <string.h>

#include "base/base.h"
#include "files/files.h"
#include "base/banned.h"

/* One libmagic handle for the process: loading the database costs
 * milliseconds, and a handle must not be used by two threads at once. */
static pthread_mutex_t magic_lock = PTHREAD_MUTEX_INITIALIZER;
static magic_t cookie;

int ob_file_sniff(ob_arena *a, const char *path, const char **mime, ob_err *err)
{
    pthread_mutex_lock(&magic_lock);
    if (!cookie) {
        cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS);
        if (cookie && magic_load(cookie, NULL) != 0) {
            magic_close(cookie);
            cookie = NULL;
        }
    }
    const char *m = cookie ? magic_file(cookie, path) : NULL;
    *mime = m ? ob_arena_strdup(a, m) : NULL;
    pthread_mutex_unlock(&magic_lock);
    if (!*mime) return ob_err_set(err, OB_E_INTERNAL, "the file type could not be read");
    return 0;
}

/* Documents, images and data files the seed systems keep; nothing that
 * runs (executables, scripts, HTML). */
static const char *const allowed[] = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/tiff",
    "text/plain",
    "text/csv",
    "application/json",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/msword",
};

bool ob_file_mime_allowed(const char *mime)
{
    for (size_t i = 0; i < OB_ARRAY_LEN(allowed); i++)
        if (strcmp(mime, allowed[i]) == 0) return true;
    return false;
}

const char *ob_file_clean_name(ob_arena *a, const char *name)
{
    if (!name) return "file";
    const char *base = name;
    for (const char *p = name; *p; p++)
        if (*p == '/' || *p == '\\') base = p + 1;
    while (*base == '.' || *base == ' ') base++;
    size_t n = strlen(base);
    if (n > 200) {
        n = 200;
        while (n > 0 && ((unsigned char)base[n] & 0xC0) == 0x80) n--; /* not inside a character */
    }
    char *out = ob_arena_alloc(a, n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)base[i];
        out[i] = (c < 0x20 || c == 0x7f || strchr(":*?\"<>|;", c)) ? '_' : (char)c;
    }
    out[n] = 0;
    while (n > 0 && out[n - 1] == ' ') out[--n] = 0;
    return n ? out : "file";
}
