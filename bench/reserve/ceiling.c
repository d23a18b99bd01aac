/* ceiling.c - the engine's bare conditional UPDATE, the ceiling of a stock
 * reservation: per operation one transaction holding one
 *   UPDATE inventory SET quantity_reserved = quantity_reserved + 1, version = version + 1
 *    WHERE id = ? AND quantity_reserved + 1 <= quantity_on_hand
 * on a random id of a file, by N threads for S seconds, at the durability
 * opsbase uses (SQLite WAL + synchronous=FULL; PostgreSQL's default commit).
 * With --lines MIN-MAX a transaction updates MIN to MAX consecutive ids of the
 * file from a random one instead (an order's confirm reserves each of its
 * lines in one transaction: bench/workflows). No HTTP, no JSON, no audit, no
 * ledger entry. Not part of opsbase.
 *
 * usage: ceiling (--sqlite FILE | --pg URL --schema S) --ids FILE --threads N --seconds S [--lines MIN-MAX]
 * prints: CEILING ops_per_s=... refused=...  (an operation is one transaction) */
#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *sqlite_path, *pg_url, *pg_schema;
static char **ids;
static int nids, seconds = 5, lines_min = 1, lines_max = 1;
static atomic_long done_ops, refused;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* How many rows the next transaction updates; no draw when it is fixed, so the
 * single-row ceiling takes the same random ids as before --lines existed. */
static int lines_of(unsigned *seed)
{
    if (lines_min >= lines_max) return lines_min;
    return lines_min + (int)(rand_r(seed) % (unsigned)(lines_max - lines_min + 1));
}

static const char *UPDATE_SQL = "UPDATE inventory SET quantity_reserved = quantity_reserved + 1, version = version + 1 "
                                "WHERE id = %s AND quantity_reserved + 1 <= quantity_on_hand";

static void *run_sqlite(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    sqlite3 *db;
    if (sqlite3_open(sqlite_path, &db) != SQLITE_OK) exit(1);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL);
    char sql[256];
    snprintf(sql, sizeof sql, UPDATE_SQL, "?");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) exit(1);
    double end = now_s() + seconds;
    while (now_s() < end) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        int k = lines_of(&seed), from = (int)(rand_r(&seed) % (unsigned)nids);
        for (int j = 0; j < k; j++) {
            sqlite3_bind_text(st, 1, ids[(from + j) % nids], -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) exit(1);
            if (sqlite3_changes(db) != 1) refused++;
            sqlite3_reset(st);
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) exit(1);
        done_ops++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return NULL;
}

static void *run_pg(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    PGconn *c = PQconnectdb(pg_url);
    if (PQstatus(c) != CONNECTION_OK) exit(1);
    char sql[256];
    snprintf(sql, sizeof sql, "SET search_path TO \"%s\"", pg_schema);
    PQclear(PQexec(c, sql));
    snprintf(sql, sizeof sql, UPDATE_SQL, "$1");
    PQclear(PQprepare(c, "u", sql, 1, NULL));
    double end = now_s() + seconds;
    while (now_s() < end) {
        int k = lines_of(&seed), from = (int)(rand_r(&seed) % (unsigned)nids);
        PQclear(PQexec(c, "BEGIN"));
        for (int j = 0; j < k; j++) {
            const char *v[1] = {ids[(from + j) % nids]};
            PGresult *r = PQexecPrepared(c, "u", 1, v, NULL, NULL, 0);
            if (PQresultStatus(r) != PGRES_COMMAND_OK) exit(1);
            if (strcmp(PQcmdTuples(r), "1") != 0) refused++;
            PQclear(r);
        }
        PQclear(PQexec(c, "COMMIT"));
        done_ops++;
    }
    PQfinish(c);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = 2;
    const char *idfile = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--sqlite")) sqlite_path = argv[i + 1];
        else if (!strcmp(argv[i], "--pg")) pg_url = argv[i + 1];
        else if (!strcmp(argv[i], "--schema")) pg_schema = argv[i + 1];
        else if (!strcmp(argv[i], "--ids")) idfile = argv[i + 1];
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--lines") && sscanf(argv[i + 1], "%d-%d", &lines_min, &lines_max) != 2) {
            fprintf(stderr, "--lines takes MIN-MAX\n");
            return 2;
        }
    }
    FILE *f = idfile ? fopen(idfile, "r") : NULL;
    if (!f || (!sqlite_path && !(pg_url && pg_schema)) || lines_min < 1 || lines_max < lines_min) {
        fprintf(stderr, "usage: ceiling (--sqlite FILE | --pg URL --schema S) --ids FILE --threads N --seconds S "
                        "[--lines MIN-MAX]\n");
        return 2;
    }
    char line[128];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!*line) continue;
        ids = realloc(ids, sizeof *ids * (size_t)(nids + 1));
        ids[nids++] = strdup(line);
    }
    fclose(f);
    pthread_t t[64];
    if (threads < 1 || threads > 64) threads = 2;
    double t0 = now_s();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, sqlite_path ? run_sqlite : run_pg, (void *)(uintptr_t)(i * 7919 + 1));
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    printf("CEILING ops_per_s=%.1f refused=%ld\n", (double)done_ops / (now_s() - t0), (long)refused);
    return 0;
}
