/* sqlite.c - the store for embedded SQLite: the data directory layout
 * (DATA/control.db, DATA/tenants/<slug>.db), tenant create/drop/list and the
 * store half of the driver. Connections are in sqlite_conn.c, statements in
 * sqlite_stmt.c; pooling and write locks are the core's (core_pool.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/sqlite_int.h"
#include "base/banned.h"

#define DEFAULT_BUSY_TIMEOUT_MS 5000
/* Memory for open connections, in MiB (see core_pool.c). A connection to a
 * tenant database holds about 1 MB, mostly its parsed schema, and a busy
 * tenant needs two (its writer and a reader), so this keeps about 100 busy
 * tenants open; beyond that every miss pays a schema parse. */
#define DEFAULT_CONN_MEMORY_MB 256

static int parse_sync(const char *v, int *level)
{
    static const char *const names[] = { "off", "normal", "full", "extra" };
    if (!v || !*v) {
        *level = 2;
        return 0;
    }
    for (int i = 0; i < 4; i++)
        if (strcasecmp(v, names[i]) == 0) {
            *level = i;
            return 0;
        }
    return -1;
}

/* mkdir -p; the last component gets `mode`, parents 0755 (less umask). */
static int mkdir_p(const char *dir, mode_t mode)
{
    char buf[OB_SQLITE_PATH_MAX];
    int len = snprintf(buf, sizeof buf, "%s", dir);
    if (len <= 0 || (size_t)len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return -1;
    struct stat sb;
    if (stat(buf, &sb) != 0)
        return -1;
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* Make a new or removed directory entry durable. */
static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static void tenants_dir(const ob_store *s, char *out, size_t n)
{
    snprintf(out, n, "%s/tenants", s->data_dir);
}

static void store_free(ob_store *s)
{
    ob_db_core_free(s);
    free(s->data_dir);
    free(s);
}

int ob_sqlite_store_open(ob_store **out, const ob_store_opts *opts, ob_err *err)
{
    *out = NULL;
    if (!opts->data_dir || !*opts->data_dir)
        return ob_db_err(err, OB_E_BAD_REQUEST, "no data directory given");
    /* leave room for "/tenants/<63>.db-wal" */
    if (strlen(opts->data_dir) > OB_SQLITE_PATH_MAX - 100)
        return ob_db_err(err, OB_E_BAD_REQUEST, "the data directory path is too long");
    int level;
    if (parse_sync(opts->synchronous, &level))
        return ob_db_err(err, OB_E_BAD_REQUEST, "unknown synchronous mode '%s'",
                             opts->synchronous);

    ob_store *s = ob_db_xcalloc(1, sizeof *s);
    ob_db_core_init(s, &ob_sqlite_ops,
                    opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : DEFAULT_BUSY_TIMEOUT_MS,
                    opts->conn_memory > 0 ? opts->conn_memory : (size_t)DEFAULT_CONN_MEMORY_MB << 20);
    s->data_dir = ob_db_xstrdup(opts->data_dir);
    s->sync_level = level;

    char path[OB_SQLITE_PATH_MAX], tdir[OB_SQLITE_PATH_MAX];
    ob_sqlite_path(s, NULL, path, sizeof path);
    tenants_dir(s, tdir, sizeof tdir);
    if (opts->create && (mkdir_p(s->data_dir, 0700) || mkdir_p(tdir, 0700))) {
        ob_db_err(err, OB_E_STORAGE, "cannot create the data directory '%s': %s",
                      s->data_dir, strerror(errno));
        store_free(s);
        return -1;
    }
    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (!exists && !opts->create) {
        ob_db_err(err, OB_E_NOT_FOUND, "no data directory at '%s'; run `opsbase migrate`",
                      s->data_dir);
        store_free(s);
        return -1;
    }
    /* An existing data directory from before tenants/ existed still works. */
    if (exists && mkdir(tdir, 0700) != 0 && errno != EEXIST) {
        ob_db_err(err, OB_E_STORAGE, "cannot create '%s': %s", tdir, strerror(errno));
        store_free(s);
        return -1;
    }
    /* Create the file ourselves so it gets mode 0600 (SQLite would use 0644);
     * its -wal and -shm files copy the mode. */
    if (!exists) {
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            ob_db_err(err, OB_E_STORAGE, "cannot create '%s': %s", path, strerror(errno));
            store_free(s);
            return -1;
        }
        close(fd);
    }
    /* Open once: creates control.db when asked, and proves an existing file
     * is a database we can put in WAL mode before anyone relies on it. */
    ob_conn *c;
    if (ob_sqlite_conn_open(s, NULL, OB_DB_WRITE, !exists, &c, err)) {
        store_free(s);
        return -1;
    }
    ob_sqlite_conn_close(c);
    if (!exists)
        fsync_dir(s->data_dir);
    *out = s;
    return 0;
}

void ob_sqlite_store_close(ob_store *s)
{
    if (!s)
        return;
    store_free(s);
}

/* PRAGMA user_version reads the header through the WAL and needs no schema
 * parse: a fraction of a millisecond, against several for a full open. */
int ob_sqlite_peek_version(ob_store *s, const char *slug, int *version, ob_err *err)
{
    char path[OB_SQLITE_PATH_MAX];
    if (!ob_db_slug_valid(slug) || ob_sqlite_path(s, slug, path, sizeof path) != 0)
        return ob_db_err(err, OB_E_NOT_FOUND, "no tenant \"%.60s\"", slug);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    sqlite3_stmt *st = NULL;
    if (rc == SQLITE_OK) sqlite3_busy_timeout(db, 5000);
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (rc != SQLITE_OK) *version = -1; /* the full open will report the problem */
    return 0;
}

/* Mix one file's identity and last write into h (FNV-1a over the fields).
 * Not the change time: SQLite sets the owner and mode of a -wal each time a
 * connection opens it (a read of our own would look like a change). */
static uint64_t stamp_mix(uint64_t h, const struct stat *sb)
{
    const uint64_t f[] = { (uint64_t)sb->st_ino, (uint64_t)sb->st_size, (uint64_t)sb->st_mtim.tv_sec,
                           (uint64_t)sb->st_mtim.tv_nsec };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        for (int b = 0; b < 64; b += 8)
            h = (h ^ ((f[i] >> b) & 0xff)) * 0x100000001b3ULL;
    return h;
}

int ob_sqlite_tenant_stamp(ob_store *s, const char *slug, uint64_t *stamp)
{
    char path[OB_SQLITE_PATH_MAX], wal[OB_SQLITE_PATH_MAX];
    struct stat sb;
    if (ob_sqlite_path(s, slug, path, sizeof path) != 0 || stat(path, &sb) != 0)
        return 0;
    uint64_t h = stamp_mix(0xcbf29ce484222325ULL, &sb);
    /* An empty -wal is left out: it comes and goes with this process's own
     * connections (created on open, removed on the last close) and holds no
     * commit; a checkpoint that empties a full one changes the database file. */
    if (snprintf(wal, sizeof wal, "%s-wal", path) < (int)sizeof wal && stat(wal, &sb) == 0 && sb.st_size > 0)
        h = stamp_mix(h ^ 1, &sb);
    *stamp = h;
    return 1;
}

bool ob_sqlite_tenant_exists(ob_store *s, const char *slug)
{
    char path[OB_SQLITE_PATH_MAX];
    struct stat sb;
    return ob_db_slug_valid(slug) && ob_sqlite_path(s, slug, path, sizeof path) == 0 &&
           stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Remove the WAL, shared-memory and rollback-journal files next to path. */
static void unlink_aux(const char *path)
{
    static const char *const suffixes[] = { "-wal", "-shm", "-journal" };
    char aux[OB_SQLITE_PATH_MAX];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (snprintf(aux, sizeof aux, "%s%s", path, suffixes[i]) < (int)sizeof aux)
            unlink(aux);
}

/* Remove path and its companions. Only the main file's absence is an error
 * the caller cares about (errno is kept from its unlink). */
static int unlink_db_files(const char *path)
{
    int rc = unlink(path);
    int e = errno;
    unlink_aux(path);
    errno = e;
    return rc;
}

/* db.c holds the tenant's write lock around create and drop, so they run
 * entirely before or after each other and any write to the tenant. */
int ob_sqlite_create_tenant(ob_store *s, const char *slug, ob_err *err)
{
    char path[OB_SQLITE_PATH_MAX], tdir[OB_SQLITE_PATH_MAX];
    ob_sqlite_path(s, slug, path, sizeof path);
    tenants_dir(s, tdir, sizeof tdir);
    /* O_EXCL decides "exists" atomically, even between processes. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (errno == EEXIST) {
            ob_db_err(err, OB_E_CONFLICT, "tenant '%s' exists", slug);
        } else {
            ob_db_err(err, OB_E_STORAGE, "storage error: cannot create tenant '%s': %s", slug,
                          strerror(errno));
        }
        return -1;
    }
    close(fd);
    /* A -wal left by a crashed drop would be replayed into the new empty
     * database and resurrect old rows: remove leftovers first. */
    unlink_aux(path);

    ob_conn *c;
    if (ob_sqlite_conn_open(s, slug, OB_DB_WRITE, true, &c, err)) {
        unlink_db_files(path);
        return -1;
    }
    ob_sqlite_conn_close(c);
    fsync_dir(tdir);
    return 0;
}

int ob_sqlite_drop_tenant(ob_store *s, const char *slug, ob_err *err)
{
    char path[OB_SQLITE_PATH_MAX], tdir[OB_SQLITE_PATH_MAX];
    ob_sqlite_path(s, slug, path, sizeof path);
    tenants_dir(s, tdir, sizeof tdir);
    if (unlink_db_files(path) != 0) {
        if (errno == ENOENT)
            return ob_db_err(err, OB_E_NOT_FOUND, "no tenant '%s'", slug);
        return ob_db_err(err, OB_E_STORAGE, "storage error: cannot remove tenant '%s': %s", slug,
                         strerror(errno));
    }
    fsync_dir(tdir);
    return 0;
}

static int cmp_slug(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* fn returns 0 to go on; anything else stops the walk and is returned. */
int ob_sqlite_each_tenant(ob_store *s, int (*fn)(const char *slug, void *ctx), void *ctx, ob_err *err)
{
    char tdir[OB_SQLITE_PATH_MAX];
    tenants_dir(s, tdir, sizeof tdir);
    DIR *d = opendir(tdir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return ob_db_err(err, OB_E_STORAGE, "storage error: cannot list tenants: %s",
                             strerror(errno));
    }
    typedef char slug_buf[OB_DB_SLUG_MAX];
    slug_buf *slugs = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 4 || len - 3 >= OB_DB_SLUG_MAX || strcmp(de->d_name + len - 3, ".db") != 0)
            continue;
        if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
            continue;
        char slug[OB_DB_SLUG_MAX];
        memcpy(slug, de->d_name, len - 3);
        slug[len - 3] = '\0';
        if (!ob_db_slug_valid(slug))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            slug_buf *grown = realloc(slugs, cap * sizeof *slugs);
            if (!grown)
                abort();
            slugs = grown;
        }
        memcpy(slugs[n++], slug, len - 2);
    }
    closedir(d);
    if (n)
        qsort(slugs, n, sizeof *slugs, cmp_slug);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = fn(slugs[i], ctx);
    free(slugs);
    return rc;
}

/* templates/<key>.db; the key is hex (a hash), checked so that it can never
 * name anything outside the directory. */
static int template_path(const ob_store *s, const char *key, char *out, size_t n)
{
    size_t len = strlen(key);
    if (len == 0 || len > 64 || strspn(key, "0123456789abcdef") != len)
        return -1;
    return snprintf(out, n, "%s/templates/%s.db", s->data_dir, key) < (int)n ? 0 : -1;
}

int ob_sqlite_template_load(ob_conn *c, const char *key, bool *loaded, ob_err *err)
{
    char path[OB_SQLITE_PATH_MAX];
    struct stat sb;
    if (!c->base.store || template_path(c->base.store, key, path, sizeof path) != 0 || stat(path, &sb) != 0)
        return 0;
    sqlite3 *src = NULL;
    if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        sqlite3_close(src); /* unreadable: made again by this creation */
        return 0;
    }
    /* Page by page into c's (empty) database, as one write of c's: its WAL
     * and synchronous setting make the copy as durable as the DDL was. */
    sqlite3_backup *b = sqlite3_backup_init(c->db, "main", src, "main");
    int rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(c->db);
    if (b)
        sqlite3_backup_finish(b);
    sqlite3_close(src);
    if (rc != SQLITE_DONE)
        return ob_sqlite_fail(err, c->db, rc);
    *loaded = true;
    return 0;
}

void ob_sqlite_template_save(ob_conn *c, const char *key)
{
    char path[OB_SQLITE_PATH_MAX], dir[OB_SQLITE_PATH_MAX], tmp[OB_SQLITE_PATH_MAX + 32];
    struct stat sb;
    ob_store *s = c->base.store;
    if (!s || template_path(s, key, path, sizeof path) != 0 || stat(path, &sb) == 0)
        return;
    snprintf(dir, sizeof dir, "%s/templates", s->data_dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return;
    /* a private name, then a rename: another process creating a tenant at
     * the same moment never reads half a template */
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    unlink(tmp);
    char *sql = sqlite3_mprintf("VACUUM INTO %Q", tmp);
    int rc = sql ? sqlite3_exec(c->db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    int fd = rc == SQLITE_OK ? open(tmp, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0)
        fchmod(fd, 0600); /* as private as the databases made from it */
    if (fd >= 0 && fsync(fd) == 0 && rename(tmp, path) == 0)
        fsync_dir(dir);
    else
        unlink(tmp);
    if (fd >= 0)
        close(fd);
}
