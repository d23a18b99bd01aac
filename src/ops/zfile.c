/* zfile.c - zstd line files for backups. The writer hashes the compressed
 * bytes as it writes them, so the manifest's checksum is of exactly what is on
 * disk; the reader refuses a file whose checksum differs before it yields any
 * line, so a restore never starts from damaged data. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "ops/zfile.h"
#include "base/banned.h"

#define ZLEVEL 3 /* zstd's default: fast, and most of the gain for row text */

struct ob_zwriter {
    FILE *f;
    char *path;
    ZSTD_CCtx *cc;
    crypto_hash_sha256_state sha;
    int64_t bytes;
    ob_sb in;  /* lines not yet handed to zstd */
    char *out; /* one zstd output block */
    size_t outcap;
};

static void hex_of(const unsigned char d[crypto_hash_sha256_BYTES], char hex[65])
{
    sodium_bin2hex(hex, 65, d, crypto_hash_sha256_BYTES);
}

static int io_fail(ob_err *err, const char *what, const char *path)
{
    return ob_err_set(err, OB_E_STORAGE, "%s %.200s: %s", what, path, strerror(errno));
}

int ob_zw_open(ob_zwriter **out, const char *path, ob_err *err)
{
    ob_zwriter *w = calloc(1, sizeof *w);
    if (!w) return ob_err_set(err, OB_E_INTERNAL, "out of memory");
    /* never overwrite (a backup directory is written once); 0600: rows hold secrets */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    w->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!w->f) {
        if (fd >= 0) close(fd);
        free(w);
        return io_fail(err, "cannot create", path);
    }
    w->path = strdup(path);
    w->cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(w->cc, ZSTD_c_compressionLevel, ZLEVEL);
    ZSTD_CCtx_setParameter(w->cc, ZSTD_c_checksumFlag, 1);
    crypto_hash_sha256_init(&w->sha);
    ob_sb_init(&w->in, 1 << 17);
    w->outcap = ZSTD_CStreamOutSize();
    w->out = malloc(w->outcap);
    *out = w;
    return 0;
}

/* Compress what is buffered; with end, finish the frame. */
static int pump(ob_zwriter *w, ZSTD_EndDirective mode, ob_err *err)
{
    ZSTD_inBuffer in = {w->in.buf, w->in.len, 0};
    for (;;) {
        ZSTD_outBuffer o = {w->out, w->outcap, 0};
        size_t left = ZSTD_compressStream2(w->cc, &o, &in, mode);
        if (ZSTD_isError(left)) return ob_err_set(err, OB_E_INTERNAL, "zstd: %s", ZSTD_getErrorName(left));
        if (o.pos) {
            if (fwrite(w->out, 1, o.pos, w->f) != o.pos) return io_fail(err, "cannot write", w->path);
            crypto_hash_sha256_update(&w->sha, (const unsigned char *)w->out, o.pos);
            w->bytes += (int64_t)o.pos;
        }
        bool done = mode == ZSTD_e_continue ? in.pos == in.size : left == 0;
        if (done) break;
    }
    ob_sb_reset(&w->in);
    return 0;
}

int ob_zw_line(ob_zwriter *w, const char *s, size_t n, ob_err *err)
{
    ob_sb_add(&w->in, s, n);
    ob_sb_addc(&w->in, '\n');
    return w->in.len >= (1u << 17) ? pump(w, ZSTD_e_continue, err) : 0;
}

int ob_zw_sync(ob_zwriter *w, ob_err *err)
{
    if (pump(w, ZSTD_e_flush, err) != 0) return -1;
    if (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0) return io_fail(err, "cannot sync", w->path);
    return 0;
}

static void zw_free(ob_zwriter *w)
{
    ZSTD_freeCCtx(w->cc);
    ob_sb_release(&w->in);
    free(w->out);
    free(w->path);
    free(w);
}

int ob_zw_close(ob_zwriter *w, char sha256_hex[65], int64_t *bytes, ob_err *err)
{
    int rc = pump(w, ZSTD_e_end, err);
    if (rc == 0 && (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0)) rc = io_fail(err, "cannot sync", w->path);
    if (fclose(w->f) != 0 && rc == 0) rc = io_fail(err, "cannot close", w->path);
    if (rc == 0) {
        unsigned char d[crypto_hash_sha256_BYTES];
        crypto_hash_sha256_final(&w->sha, d);
        hex_of(d, sha256_hex);
        *bytes = w->bytes;
    } else {
        unlink(w->path);
    }
    zw_free(w);
    return rc;
}

void ob_zw_abort(ob_zwriter *w)
{
    if (!w) return;
    fclose(w->f);
    unlink(w->path);
    zw_free(w);
}

int ob_file_sha256(const char *path, char hex[65], ob_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return io_fail(err, "cannot open", path);
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) crypto_hash_sha256_update(&st, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) return io_fail(err, "cannot read", path);
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, d);
    hex_of(d, hex);
    return 0;
}

struct ob_zreader {
    FILE *f;
    ZSTD_DCtx *dc;
    char *in;
    size_t incap;
    ZSTD_inBuffer ib;
    ob_sb text;  /* decompressed, not yet handed out */
    size_t pos;  /* start of the next line in text */
    bool eof;
};

int ob_zr_open(ob_zreader **out, const char *path, const char *want_hex, ob_err *err)
{
    char have[65];
    if (ob_file_sha256(path, have, err) != 0) return -1;
    if (!want_hex || strcmp(have, want_hex) != 0)
        return ob_err_set(err, OB_E_VALIDATION, "%.200s: checksum %s does not match the manifest", path, have);
    ob_zreader *r = calloc(1, sizeof *r);
    if (!r) return ob_err_set(err, OB_E_INTERNAL, "out of memory");
    r->f = fopen(path, "rb");
    if (!r->f) {
        free(r);
        return io_fail(err, "cannot open", path);
    }
    r->dc = ZSTD_createDCtx();
    r->incap = ZSTD_DStreamInSize();
    r->in = malloc(r->incap);
    r->ib = (ZSTD_inBuffer){r->in, 0, 0};
    ob_sb_init(&r->text, 1 << 17);
    *out = r;
    return 0;
}

/* Decompress more into text; false at the end of the file. */
static int refill(ob_zreader *r, ob_err *err)
{
    if (r->ib.pos == r->ib.size) {
        size_t n = fread(r->in, 1, r->incap, r->f);
        if (n == 0) {
            if (ferror(r->f)) return ob_err_set(err, OB_E_STORAGE, "cannot read a backup file");
            r->eof = true;
            return 0;
        }
        r->ib = (ZSTD_inBuffer){r->in, n, 0};
    }
    ob_sb_grow(&r->text, 1 << 17);
    ZSTD_outBuffer o = {r->text.buf + r->text.len, r->text.cap - r->text.len - 1, 0};
    size_t rc = ZSTD_decompressStream(r->dc, &o, &r->ib);
    if (ZSTD_isError(rc)) return ob_err_set(err, OB_E_VALIDATION, "zstd: %s", ZSTD_getErrorName(rc));
    r->text.len += o.pos;
    r->text.buf[r->text.len] = '\0';
    return 0;
}

int ob_zr_line(ob_zreader *r, const char **line, size_t *n, ob_err *err)
{
    for (;;) {
        char *start = r->text.buf + r->pos;
        char *nl = memchr(start, '\n', r->text.len - r->pos);
        if (nl) {
            *nl = '\0';
            *line = start;
            *n = (size_t)(nl - start);
            r->pos += *n + 1;
            return 1;
        }
        if (r->eof) {
            if (r->pos < r->text.len) return ob_err_set(err, OB_E_VALIDATION, "a backup file ends mid-line");
            return 0;
        }
        if (r->pos > 0) { /* drop what was handed out before growing */
            memmove(r->text.buf, r->text.buf + r->pos, r->text.len - r->pos);
            r->text.len -= r->pos;
            r->text.buf[r->text.len] = '\0';
            r->pos = 0;
        }
        if (refill(r, err) != 0) return -1;
    }
}

void ob_zr_close(ob_zreader *r)
{
    if (!r) return;
    fclose(r->f);
    ZSTD_freeDCtx(r->dc);
    free(r->in);
    ob_sb_release(&r->text);
    free(r);
}
