/* store.c - the local, content-addressed file store (files.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "files/files.h"
#include "base/banned.h"

static int mkdir_p(const char *path, ob_err *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf) return ob_err_set(err, OB_E_INTERNAL, "path too long");
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0750) != 0 && errno != EEXIST) return ob_err_set(err, OB_E_UNAVAILABLE, "cannot create \"%s\": %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0750) != 0 && errno != EEXIST)
        return ob_err_set(err, OB_E_UNAVAILABLE, "cannot create \"%s\": %s", buf, strerror(errno));
    return 0;
}

/* A tenant slug and a hex digest are the only names that reach paths. */
static bool safe_part(const char *s)
{
    if (!*s || *s == '.') return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_')) return false;
    return true;
}

static bool safe_key(const char *k)
{
    /* "ab/<64 hex>" */
    if (strlen(k) != 67 || k[2] != '/') return false;
    for (int i = 0; k[i]; i++)
        if (i != 2 && !((k[i] >= '0' && k[i] <= '9') || (k[i] >= 'a' && k[i] <= 'f'))) return false;
    return strncmp(k, k + 3, 2) == 0;
}

static int local_put(const ob_file_store *s, ob_arena *a, const char *tenant, const char *sha256, const char *src,
                     const char **key, ob_err *err)
{
    if (!safe_part(tenant) || strlen(sha256) != 64) {
        unlink(src);
        return ob_err_set(err, OB_E_INTERNAL, "bad file store name");
    }
    const char *k = ob_arena_printf(a, "%.2s/%s", sha256, sha256);
    const char *dir = ob_arena_printf(a, "%s/files/%s/%.2s", s->root, tenant, sha256);
    if (mkdir_p(dir, err) != 0) {
        unlink(src);
        return -1;
    }
    const char *dst = ob_arena_printf(a, "%s/files/%s/%s", s->root, tenant, k);
    struct stat sb;
    if (stat(dst, &sb) == 0) {
        unlink(src); /* the same content is stored already */
    } else if (rename(src, dst) != 0) {
        int e = errno;
        unlink(src);
        return ob_err_set(err, OB_E_UNAVAILABLE, "cannot store the file: %s", strerror(e));
    } else {
        /* the new name is durable once its directory is */
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    *key = k;
    return 0;
}

static int local_open(const ob_file_store *s, ob_arena *a, const char *tenant, const char *key, int *fd,
                      int64_t *size, ob_err *err)
{
    if (!safe_part(tenant) || !safe_key(key)) return ob_err_set(err, OB_E_NOT_FOUND, "the file's content is missing");
    const char *path = ob_arena_printf(a, "%s/files/%s/%s", s->root, tenant, key);
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) return ob_err_set(err, OB_E_NOT_FOUND, "the file's content is missing");
    struct stat sb;
    if (fstat(f, &sb) != 0) {
        close(f);
        return ob_err_set(err, OB_E_UNAVAILABLE, "cannot read the file");
    }
    *fd = f;
    *size = (int64_t)sb.st_size;
    return 0;
}

static int local_remove(const ob_file_store *s, ob_arena *a, const char *tenant, const char *key, ob_err *err)
{
    if (!safe_part(tenant) || !safe_key(key)) return ob_err_set(err, OB_E_INTERNAL, "bad file store name");
    const char *path = ob_arena_printf(a, "%s/files/%s/%s", s->root, tenant, key);
    if (unlink(path) != 0 && errno != ENOENT)
        return ob_err_set(err, OB_E_UNAVAILABLE, "cannot remove the file: %s", strerror(errno));
    return 0;
}

/* Set once before the worker threads start, read by them afterwards. */
static const ob_file_store *current;

void ob_files_use(const ob_file_store *s)
{
    current = s;
}

const ob_file_store *ob_files_current(void)
{
    return current;
}

const char *ob_file_spool_name(const ob_file_store *s, ob_arena *a, const char *suffix)
{
    char id[OB_UUID_LEN];
    ob_uuid7(id);
    return ob_arena_printf(a, "%s/made-%s%s", s->spool, id, suffix);
}

int ob_file_store_add(const ob_file_store *s, ob_arena *a, const char *tenant, const char *path, const char **sha256,
                      int64_t *size, const char **key, ob_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        unlink(path);
        return ob_err_set(err, OB_E_UNAVAILABLE, "cannot read a made file: %s", strerror(errno));
    }
    ob_sha256 h;
    ob_sha256_init(&h);
    char buf[65536];
    int64_t total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        ob_sha256_update(&h, buf, (size_t)n);
        total += n;
    }
    int rc = n < 0 || fsync(fd) != 0 ? -1 : 0;
    close(fd);
    if (rc != 0) {
        unlink(path);
        return ob_err_set(err, OB_E_UNAVAILABLE, "cannot read a made file");
    }
    char hex[65];
    ob_sha256_final(&h, hex);
    *sha256 = ob_arena_strdup(a, hex);
    *size = total;
    return s->put(s, a, tenant, *sha256, path, key, err);
}

int ob_file_store_local(ob_file_store *s, const char *root, char **spool_dir, ob_err *err)
{
    memset(s, 0, sizeof *s);
    s->put = local_put;
    s->open = local_open;
    s->remove = local_remove;
    s->root = root;
    size_t n = strlen(root) + 16;
    char *files = malloc(n), *spool = malloc(n);
    if (!files || !spool) abort();
    snprintf(files, n, "%s/files", root);
    snprintf(spool, n, "%s/spool", root);
    int rc = mkdir_p(files, err) == 0 && mkdir_p(spool, err) == 0 ? 0 : -1;
    free(files);
    if (rc != 0) {
        free(spool);
        return -1;
    }
    *spool_dir = spool;
    s->spool = spool;
    return 0;
}
