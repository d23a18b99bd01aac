/* files.c - a tenant's uploaded files in its backup (see ops_int.h).
 *
 * The file store is content-addressed and never rewrites a file
 * (DATA/files/<slug>/<2 hex>/<sha256>), so copying it after the tenant's
 * database snapshot yields every file a snapshot row can point to; files
 * uploaded in between are extra and harmless. The part is a zstd line file:
 * for each file a header {"k": key, "n": size} and then its bytes in base64url
 * lines {"d": ...} of at most CHUNK bytes, so no file is held whole in memory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "base/codec.h"
#include "ops/ops_int.h"
#include "ops/zfile.h"
#include "base/banned.h"

#define CHUNK (192 * 1024)

static bool is_hex(const char *s, size_t n)
{
    if (strlen(s) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

/* "ab/<64 hex starting with ab>": the only names read from a backup that
 * reach a path. */
static bool key_ok(const char *k)
{
    return strlen(k) == 67 && k[2] == '/' && strncmp(k, k + 3, 2) == 0 && is_hex(k + 3, 64) &&
           (k[0] >= '0' && k[0] <= 'f');
}

static int dump_file(ob_zwriter *w, const char *path, const char *key, ob_sb *line, unsigned char *buf, ob_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ob_err_set(err, OB_E_STORAGE, "cannot read %.200s: %s", path, strerror(errno));
    struct stat sb;
    int rc = fstat(fd, &sb) == 0 ? 0 : ob_err_set(err, OB_E_STORAGE, "cannot stat %.200s", path);
    if (rc == 0) {
        ob_sb_reset(line);
        ob_sb_addf(line, "{\"k\":\"%s\",\"n\":%lld}", key, (long long)sb.st_size);
        rc = ob_zw_line(w, line->buf, line->len, err);
    }
    int64_t left = rc == 0 ? (int64_t)sb.st_size : 0;
    while (rc == 0 && left > 0) {
        ssize_t n = read(fd, buf, left < CHUNK ? (size_t)left : CHUNK);
        if (n <= 0) {
            rc = ob_err_set(err, OB_E_STORAGE, "cannot read %.200s", path);
            break;
        }
        ob_sb_reset(line);
        ob_sb_adds(line, "{\"d\":\"");
        ob_b64url_encode(line, buf, (size_t)n);
        ob_sb_adds(line, "\"}");
        rc = ob_zw_line(w, line->buf, line->len, err);
        left -= n;
    }
    close(fd);
    return rc;
}

int ob_ops_files_dump(const char *root, const char *slug, const char *out, ob_ops_files *f, ob_err *err)
{
    memset(f, 0, sizeof *f);
    ob_zwriter *w;
    if (ob_zw_open(&w, out, err) != 0) return -1;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/files/%s", root, slug);
    DIR *top = opendir(dir); /* none: the tenant never uploaded */
    ob_sb line;
    ob_sb_init(&line, CHUNK * 2);
    unsigned char *buf = malloc(CHUNK);
    if (!buf) abort();
    int rc = 0;
    struct dirent *d;
    while (rc == 0 && top && (d = readdir(top))) {
        if (!is_hex(d->d_name, 2)) continue;
        char sub[1100];
        snprintf(sub, sizeof sub, "%s/%.2s", dir, d->d_name);
        DIR *in = opendir(sub);
        struct dirent *e;
        while (rc == 0 && in && (e = readdir(in))) {
            if (!is_hex(e->d_name, 64) || strncmp(e->d_name, d->d_name, 2) != 0) continue; /* spool leftovers */
            char path[1200], key[68];
            snprintf(path, sizeof path, "%s/%.64s", sub, e->d_name);
            snprintf(key, sizeof key, "%.2s/%.64s", d->d_name, e->d_name);
            rc = dump_file(w, path, key, &line, buf, err);
            if (rc == 0) f->count++;
        }
        if (in) closedir(in);
    }
    if (top) closedir(top);
    ob_sb_release(&line);
    free(buf);
    if (rc != 0) {
        ob_zw_abort(w);
        return -1;
    }
    return ob_zw_close(w, f->sha256, &f->bytes, err);
}

/* Write one file of the part to its place: a temporary name, its content
 * checked against the SHA-256 in its name, fsync, rename. */
typedef struct sink {
    int fd;
    char tmp[1300], dst[1200];
    int64_t left;
    ob_sha256 h;
    const char *key;
} sink;

static int sink_finish(sink *s, ob_err *err)
{
    char got[65];
    ob_sha256_final(&s->h, got);
    int rc = fsync(s->fd) == 0 ? 0 : ob_err_set(err, OB_E_STORAGE, "cannot write %.200s", s->tmp);
    close(s->fd);
    s->fd = -1;
    if (rc == 0 && strcmp(got, s->key + 3) != 0)
        rc = ob_err_set(err, OB_E_VALIDATION, "the backup's file %.70s does not hold its content", s->key);
    if (rc == 0 && rename(s->tmp, s->dst) != 0)
        rc = ob_err_set(err, OB_E_STORAGE, "cannot rename %.200s: %s", s->tmp, strerror(errno));
    if (rc != 0) unlink(s->tmp);
    return rc;
}

static int mkdir_one(const char *p, ob_err *err)
{
    if (mkdir(p, 0750) != 0 && errno != EEXIST)
        return ob_err_set(err, OB_E_STORAGE, "cannot create %.200s: %s", p, strerror(errno));
    return 0;
}

static int sink_start(sink *s, const char *root, const char *slug, const char *key, int64_t n, ob_err *err)
{
    char dir[1100];
    /* On PostgreSQL nothing else makes the data directory: a restore into a
     * new store may be the first to write there. */
    int rc = mkdir_one(root, err);
    snprintf(dir, sizeof dir, "%s/files", root);
    if (rc == 0) rc = mkdir_one(dir, err);
    snprintf(dir, sizeof dir, "%s/files/%s", root, slug);
    if (rc == 0) rc = mkdir_one(dir, err);
    snprintf(dir, sizeof dir, "%s/files/%s/%.2s", root, slug, key);
    if (rc == 0) rc = mkdir_one(dir, err);
    if (rc != 0) return -1;
    snprintf(s->dst, sizeof s->dst, "%s/files/%s/%s", root, slug, key);
    /* a name of this process's own: two restores of the same tenant may race */
    snprintf(s->tmp, sizeof s->tmp, "%s.restore-%ld", s->dst, (long)getpid());
    s->fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (s->fd < 0) return ob_err_set(err, OB_E_STORAGE, "cannot create %.200s: %s", s->tmp, strerror(errno));
    s->left = n;
    s->key = key;
    ob_sha256_init(&s->h);
    return 0;
}

int ob_ops_files_load(const char *root, const char *slug, const char *in, const char *sha256, int64_t *count,
                      ob_err *err)
{
    *count = 0;
    ob_zreader *r;
    if (ob_zr_open(&r, in, sha256, err) != 0) return -1;
    sink s = {.fd = -1};
    char key[68] = "";
    ob_sb bytes;
    ob_sb_init(&bytes, CHUNK);
    const char *line;
    size_t n;
    int rc = 0, more;
    while (rc == 0 && (more = ob_zr_line(r, &line, &n, err)) == 1) {
        json_error_t je;
        json_t *doc = json_loadb(line, n, 0, &je);
        const char *k = json_string_value(json_object_get(doc, "k"));
        json_t *size = json_object_get(doc, "n"), *data = json_object_get(doc, "d");
        if (s.fd < 0) { /* a header: a key and a size */
            if (!k || !key_ok(k) || !json_is_integer(size) || json_integer_value(size) < 0) {
                rc = ob_err_set(err, OB_E_VALIDATION, "a malformed line in a backup's files");
            } else {
                snprintf(key, sizeof key, "%s", k);
                rc = sink_start(&s, root, slug, key, json_integer_value(size), err);
            }
        } else { /* the file's next bytes */
            ob_sb_reset(&bytes);
            if (!json_is_string(data) || ob_b64url_decode(&bytes, json_string_value(data), json_string_length(data)) != 0 ||
                (int64_t)bytes.len > s.left)
                rc = ob_err_set(err, OB_E_VALIDATION, "a malformed line in a backup's files");
            else if (write(s.fd, bytes.buf, bytes.len) != (ssize_t)bytes.len)
                rc = ob_err_set(err, OB_E_STORAGE, "cannot write %.200s", s.tmp);
            if (rc == 0) {
                ob_sha256_update(&s.h, bytes.buf, bytes.len);
                s.left -= (int64_t)bytes.len;
            }
        }
        json_decref(doc);
        if (rc == 0 && s.fd >= 0 && s.left == 0) {
            rc = sink_finish(&s, err);
            if (rc == 0) (*count)++;
        }
    }
    if (rc == 0 && more < 0) rc = -1;
    if (rc == 0 && s.fd >= 0) rc = ob_err_set(err, OB_E_VALIDATION, "a backup's files end inside %.70s", key);
    if (s.fd >= 0) {
        close(s.fd);
        unlink(s.tmp);
    }
    ob_sb_release(&bytes);
    ob_zr_close(r);
    return rc;
}
