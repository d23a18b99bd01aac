/* tarball.c - an export directory as one ustar archive (see tarball.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "ops/tarball.h"
#include "base/banned.h"

#define BLOCK 512

static int io_fail(ob_err *err, const char *what, const char *path)
{
    return ob_err_set(err, OB_E_STORAGE, "%s %.300s: %s", what, path, strerror(errno));
}

/* n-1 octal digits, zero-padded, then NUL (values too large are refused
 * before: an export's parts stay far below 8 GiB) */
static void octal(char *dst, size_t n, uint64_t v)
{
    dst[n - 1] = 0;
    for (size_t i = n - 1; i-- > 0; v >>= 3) dst[i] = (char)('0' + (v & 7));
}

static void header(unsigned char h[BLOCK], const char *name, char type, uint64_t size, int64_t mtime)
{
    memset(h, 0, BLOCK);
    memcpy(h, name, strlen(name));
    octal((char *)h + 100, 8, type == '5' ? 0700 : 0600);
    octal((char *)h + 108, 8, 0);
    octal((char *)h + 116, 8, 0);
    octal((char *)h + 124, 12, size);
    octal((char *)h + 136, 12, (uint64_t)(mtime > 0 ? mtime : 0));
    h[156] = (unsigned char)type;
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < BLOCK; i++) sum += h[i];
    octal((char *)h + 148, 7, sum); /* six digits, NUL, then a space */
    h[155] = ' ';
}

typedef struct tar_out {
    FILE *f;
    crypto_hash_sha256_state sha;
    int64_t bytes;
    int64_t mtime;
} tar_out;

static int put(tar_out *o, const void *p, size_t n, ob_err *err)
{
    if (fwrite(p, 1, n, o->f) != n) return ob_err_set(err, OB_E_STORAGE, "cannot write the archive");
    crypto_hash_sha256_update(&o->sha, p, n);
    o->bytes += (int64_t)n;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add dir/rel (a file or a directory, recursively, names sorted). */
static int add_tree(tar_out *o, const char *root, const char *rel, ob_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    struct stat st;
    if (lstat(path, &st) != 0) return io_fail(err, "cannot read", path);
    unsigned char h[BLOCK];
    if (S_ISREG(st.st_mode)) {
        if (st.st_size >= 077777777777LL) return ob_err_set(err, OB_E_STORAGE, "%.300s is too large to archive", path);
        if (strlen(rel) > 99) return ob_err_set(err, OB_E_STORAGE, "name too long for the archive: %.200s", rel);
        header(h, rel, '0', (uint64_t)st.st_size, o->mtime);
        if (put(o, h, BLOCK, err) != 0) return -1;
        FILE *in = fopen(path, "rb");
        if (!in) return io_fail(err, "cannot open", path);
        unsigned char buf[65536];
        size_t n;
        int64_t total = 0;
        while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
            if (put(o, buf, n, err) != 0) break;
            total += (int64_t)n;
        }
        fclose(in);
        if (total != st.st_size) return ob_err_set(err, OB_E_STORAGE, "%.300s changed while archived", path);
        static const unsigned char zero[BLOCK];
        size_t pad = (size_t)((BLOCK - total % BLOCK) % BLOCK);
        return pad ? put(o, zero, pad, err) : 0;
    }
    if (!S_ISDIR(st.st_mode)) return ob_err_set(err, OB_E_STORAGE, "not a file or directory: %.300s", path);
    if (*rel) {
        char name[128];
        if (strlen(rel) > 98) return ob_err_set(err, OB_E_STORAGE, "name too long for the archive: %.200s", rel);
        snprintf(name, sizeof name, "%s/", rel);
        header(h, name, '5', 0, o->mtime);
        if (put(o, h, BLOCK, err) != 0) return -1;
    }
    DIR *d = opendir(path);
    if (!d) return io_fail(err, "cannot list", path);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **m = realloc(names, cap * sizeof *names);
            if (!m) break;
            names = m;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_names);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", names[i] ? names[i] : "");
        if (rc == 0 && names[i]) rc = add_tree(o, root, sub, err);
        free(names[i]);
    }
    free(names);
    return rc;
}

void ob_tar_rmtree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) ob_tar_rmtree(p);
            else unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Pack dir into out_path through out_path.part, synced and renamed. */
static int pack(const char *dir, const char *out_path, int64_t mtime, ob_archive_report *rep, ob_err *err)
{
    char part[4096];
    snprintf(part, sizeof part, "%s.part", out_path);
    int fd = open(part, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return io_fail(err, "cannot create", part);
    tar_out o = {.f = fdopen(fd, "wb"), .mtime = mtime};
    if (!o.f) {
        close(fd);
        unlink(part);
        return io_fail(err, "cannot open", part);
    }
    crypto_hash_sha256_init(&o.sha);
    int rc = add_tree(&o, dir, "", err);
    static const unsigned char zero[BLOCK * 2];
    if (rc == 0) rc = put(&o, zero, sizeof zero, err); /* the end: two zero blocks */
    if (rc == 0 && (fflush(o.f) != 0 || fsync(fileno(o.f)) != 0)) rc = io_fail(err, "cannot sync", part);
    if (fclose(o.f) != 0 && rc == 0) rc = io_fail(err, "cannot close", part);
    if (rc == 0 && link(part, out_path) != 0) rc = io_fail(err, "cannot create", out_path); /* never replaces */
    unlink(part);
    if (rc != 0) return -1;
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&o.sha, d);
    sodium_bin2hex(rep->sha256, sizeof rep->sha256, d, sizeof d);
    rep->bytes = o.bytes;
    return 0;
}

int ob_tenant_archive(ob_store *s, const char *tenant, const char *version, const char *files_root,
                      const char *out_path, ob_archive_report *rep, ob_err *err)
{
    memset(rep, 0, sizeof *rep);
    struct stat st;
    if (stat(out_path, &st) == 0) return ob_err_set(err, OB_E_CONFLICT, "%.300s exists already", out_path);
    char scratch[4096];
    snprintf(scratch, sizeof scratch, "%s.dir", out_path);
    ob_backup_opts bo = {.out_dir = scratch, .tenant = tenant, .version = version, .files_root = files_root};
    ob_backup_report br;
    int rc = ob_backup(s, &bo, &br, err);
    if (rc == 0) {
        rep->rows = br.rows;
        rep->files = br.files;
        rc = pack(scratch, out_path, ob_now_ms() / 1000, rep, err);
    }
    ob_tar_rmtree(scratch);
    return rc;
}

/* Whether an archive member's name is one an export writes. */
static bool safe_name(const char *n)
{
    if (!*n || *n == '/' || strstr(n, "//")) return false;
    for (const char *p = n; p;) {
        if (!strncmp(p, "..", 2) && (p[2] == '/' || !p[2])) return false;
        p = strchr(p, '/');
        if (p) p++;
    }
    return true;
}

int ob_tar_extract(const char *tar_path, const char *dir, ob_err *err)
{
    FILE *in = fopen(tar_path, "rb");
    if (!in) return io_fail(err, "cannot open", tar_path);
    if (mkdir(dir, 0700) != 0) {
        fclose(in);
        return io_fail(err, "cannot create", dir);
    }
    unsigned char h[BLOCK];
    int rc = 0;
    bool ended = false;
    while (rc == 0 && fread(h, 1, BLOCK, in) == BLOCK) {
        if (h[0] == 0) {
            ended = true;
            break;
        }
        unsigned sum = 0, stored;
        for (int i = 0; i < BLOCK; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
        char field[16];
        memcpy(field, h + 148, 8);
        field[8] = 0;
        char namebuf[101];
        memcpy(namebuf, h, 100);
        namebuf[100] = 0;
        memcpy(field, h + 124, 12);
        field[12] = 0;
        unsigned long long size = strtoull(field, NULL, 8);
        char ck[9];
        memcpy(ck, h + 148, 8);
        ck[8] = 0;
        stored = (unsigned)strtoul(ck, NULL, 8);
        if (stored != sum || memcmp(h + 257, "ustar", 5) != 0) {
            rc = ob_err_set(err, OB_E_UNPROCESSABLE, "%.300s is not a tenant export archive", tar_path);
            break;
        }
        char type = (char)h[156];
        size_t nl = strlen(namebuf);
        if (type == '5' && nl && namebuf[nl - 1] == '/') namebuf[--nl] = 0;
        if (!safe_name(namebuf) || (type != '0' && type != '\0' && type != '5')) {
            rc = ob_err_set(err, OB_E_UNPROCESSABLE, "the archive holds an entry an export never has: %.100s",
                            namebuf);
            break;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, namebuf);
        if (type == '5') {
            if (mkdir(path, 0700) != 0 && errno != EEXIST) rc = io_fail(err, "cannot create", path);
            continue;
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0) {
            rc = io_fail(err, "cannot create", path);
            break;
        }
        unsigned char buf[65536];
        unsigned long long left = size;
        while (rc == 0 && left > 0) {
            size_t want = left < sizeof buf ? (size_t)left : sizeof buf;
            if (fread(buf, 1, want, in) != want) rc = ob_err_set(err, OB_E_UNPROCESSABLE, "the archive is cut short");
            else if (write(fd, buf, want) != (ssize_t)want) rc = io_fail(err, "cannot write", path);
            left -= want;
        }
        close(fd);
        size_t pad = (size_t)((BLOCK - size % BLOCK) % BLOCK);
        if (rc == 0 && pad && fseek(in, (long)pad, SEEK_CUR) != 0) rc = io_fail(err, "cannot read", tar_path);
    }
    if (rc == 0 && !ended) rc = ob_err_set(err, OB_E_UNPROCESSABLE, "the archive is cut short");
    fclose(in);
    if (rc != 0) ob_tar_rmtree(dir);
    return rc;
}
