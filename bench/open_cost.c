/* open_cost.c - what opening a tenant file costs a connection: the time from
 * sqlite3_open_v2 to a first prepared statement (which parses the whole
 * schema) and the schema heap the connection then holds
 * (SQLITE_DBSTATUS_SCHEMA_USED). Files are opened alternately, N rounds, so
 * machine noise hits each alike; medians are printed per file.
 *
 * build: cc -O2 -std=c11 -o open_cost bench/open_cost.c -lsqlite3
 * usage: open_cost ROUNDS FILE...
 */
#define _POSIX_C_SOURCE 200809L
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: open_cost ROUNDS FILE...\n");
        return 2;
    }
    int rounds = atoi(argv[1]), nf = argc - 2;
    if (rounds < 1) rounds = 1;
    double *ms = calloc((size_t)rounds * (size_t)nf, sizeof *ms);
    int *heap = calloc((size_t)nf, sizeof *heap);
    if (!ms || !heap) return 1;
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < nf; k++) {
            int f = (r % 2) ? nf - 1 - k : k; /* alternate the order too */
            double t0 = now_ms();
            sqlite3 *db = NULL;
            sqlite3_stmt *st = NULL;
            if (sqlite3_open_v2(argv[2 + f], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
                sqlite3_prepare_v2(db, "SELECT version FROM schema_migrations LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
                fprintf(stderr, "%s: %s\n", argv[2 + f], db ? sqlite3_errmsg(db) : "cannot open");
                return 1;
            }
            sqlite3_finalize(st);
            ms[f * rounds + r] = now_ms() - t0;
            int cur = 0, hi = 0;
            sqlite3_db_status(db, SQLITE_DBSTATUS_SCHEMA_USED, &cur, &hi, 0);
            heap[f] = cur;
            sqlite3_close(db);
        }
    printf("file\trounds\topen_ms_median\topen_ms_min\tschema_heap_kb\n");
    for (int f = 0; f < nf; f++) {
        qsort(ms + f * rounds, (size_t)rounds, sizeof *ms, cmp);
        printf("%s\t%d\t%.2f\t%.2f\t%d\n", argv[2 + f], rounds, ms[f * rounds + rounds / 2], ms[f * rounds],
               heap[f] / 1024);
    }
    free(ms);
    free(heap);
    return 0;
}
