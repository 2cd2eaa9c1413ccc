/* PODIUM.APPLY1: the common case of apply_single.lua as a Redis module command.
 *
 * The script's KEYS and ARGV (podium/index/sharded/lua/apply_single.lua), given as the
 * command's arguments, keys first (12), then its 7 arguments and one more, the board's tie
 * width (16, or 30 on a board with a subscore); same replies: 0 when the board is locked, -1
 * when the map or the set's fence moved past the writer's epoch, else {positions applied,
 * ranks, members in the set, the bucket's writes in the last second}. One reply more: -2
 * when the batch is not the common case (an intent is recorded, the board keeps dense tie
 * groups, a hidden user's rank is asked, a total past 18 digits): nothing was written, and
 * the writer runs the script, which handles every case.
 *
 * The batch's rows are not the script's: a row holds what a user's member and state are
 * made of, and the module makes them (in Python that was most of the writer's time a total):
 *   user \t version \t flag \t total \t tie (hex, no leading zeros) \t partition \t offset \t details
 * member: the tie zero-padded to the board's width, ':', the user (index.redis.member);
 * state: version|flag|tie|total|partition|offset, then |details if any (index.redis.state_of);
 * the set's score: -total on a desc board (index.redis.zscore).
 *
 * The writes are replicated as the script's are, as their effects (SET, ZREM, ZADD, HSET,
 * HINCRBY, EXPIRE in one MULTI/EXEC): a replica, or an AOF replayed elsewhere, needs no
 * module.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redismodule.h"

enum {
    K_LOCK = 1, K_MAP, K_USERS, K_INTENTS, K_SET, K_FENCE, K_WRITES, K_WRITES_LAST,
    K_GROUP_SIZES, K_GROUPS, K_CHANGES, K_WRITERS,
    A_EPOCH, A_BUCKET, A_DENSE, A_RANKS, A_ROWS, A_WRITER, A_ORDER, A_WIDTH,
    ARGC
};

/* A field of a row: from p to the next sep (or end); *next is past the separator. */
static const char *field(const char *p, const char *end, char sep, size_t *len, const char **next) {
    const char *q = memchr(p, sep, (size_t)(end - p));
    if (!q) q = end;
    *len = (size_t)(q - p);
    *next = q < end ? q + 1 : end;
    return p;
}

static long long digits(const char *p, size_t n, int *ok) {
    long long v = 0;
    *ok = n > 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') { *ok = 0; return 0; }
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static long long string_number(RedisModuleKey *key) {
    /* A string key as a number (missing: 0), as tonumber(GET) reads it. */
    if (RedisModule_KeyType(key) != REDISMODULE_KEYTYPE_STRING) return 0;
    size_t n;
    const char *p = RedisModule_StringDMA(key, &n, REDISMODULE_READ);
    char buf[32];
    if (n >= sizeof buf) n = sizeof buf - 1;
    memcpy(buf, p, n);
    buf[n] = 0;
    return strtoll(buf, NULL, 10);
}

#define ZEROS "000000000000000000000000000000"

/* The user's member from what its state holds (state.lua's member_in). */
static RedisModuleString *member_in(RedisModuleCtx *ctx, const char *held, size_t n, const char *user, size_t un) {
    if (memchr(held, ':', n)) return RedisModule_CreateString(ctx, held, n);
    size_t width = n <= 16 ? 16 : 30, pad = width > n ? width - n : 0;
    char stack[128];
    size_t total = pad + n + 1 + un;
    char *buf = total <= sizeof stack ? stack : RedisModule_Alloc(total);
    memcpy(buf, ZEROS, pad);
    memcpy(buf + pad, held, n);
    buf[pad + n] = ':';
    memcpy(buf + pad + n + 1, user, un);
    RedisModuleString *s = RedisModule_CreateString(ctx, buf, total);
    if (buf != stack) RedisModule_Free(buf);
    return s;
}

typedef struct {
    const char *user, *version, *total, *tie, *partition, *offset, *details;
    size_t user_n, version_n, total_n, tie_n, partition_n, offset_n, details_n;
    long long version_v;
    char flag;
} Row;

/* The set's score as text: the total, negated on a desc board (lua's sorted_score). */
static RedisModuleString *sorted_score(RedisModuleCtx *ctx, const Row *r, int desc) {
    if (!desc || (r->total_n == 1 && r->total[0] == '0')) return RedisModule_CreateString(ctx, r->total, r->total_n);
    if (r->total[0] == '-') return RedisModule_CreateString(ctx, r->total + 1, r->total_n - 1);
    char buf[24];
    buf[0] = '-';
    memcpy(buf + 1, r->total, r->total_n);
    return RedisModule_CreateString(ctx, buf, r->total_n + 1);
}

/* The user's member: the tie at the board's width, ':', the user. */
static RedisModuleString *new_member(RedisModuleCtx *ctx, const Row *r, size_t width) {
    char stack[160];
    size_t pad = width > r->tie_n ? width - r->tie_n : 0, n = pad + r->tie_n + 1 + r->user_n;
    char *buf = n <= sizeof stack ? stack : RedisModule_Alloc(n), *w = buf;
    memcpy(w, ZEROS, pad), w += pad;
    memcpy(w, r->tie, r->tie_n), w += r->tie_n;
    *w++ = ':';
    memcpy(w, r->user, r->user_n);
    RedisModuleString *s = RedisModule_CreateString(ctx, buf, n);
    if (buf != stack) RedisModule_Free(buf);
    return s;
}

/* The user's state: version|flag|tie|total|partition|offset[|details]. */
static RedisModuleString *new_state(RedisModuleCtx *ctx, const Row *r) {
    char stack[256];
    size_t n = r->version_n + 1 + 1 + 1 + r->tie_n + 1 + r->total_n + 1 + r->partition_n + 1 + r->offset_n;
    if (r->details_n) n += 1 + r->details_n;
    char *buf = n <= sizeof stack ? stack : RedisModule_Alloc(n), *w = buf;
#define PUT(p, len) (memcpy(w, (p), (len)), w += (len))
    PUT(r->version, r->version_n), *w++ = '|';
    *w++ = r->flag, *w++ = '|';
    PUT(r->tie, r->tie_n), *w++ = '|';
    PUT(r->total, r->total_n), *w++ = '|';
    PUT(r->partition, r->partition_n), *w++ = '|';
    PUT(r->offset, r->offset_n);
    if (r->details_n) *w++ = '|', PUT(r->details, r->details_n);
#undef PUT
    RedisModuleString *s = RedisModule_CreateString(ctx, buf, n);
    if (buf != stack) RedisModule_Free(buf);
    return s;
}

static int apply1(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != ARGC) return RedisModule_WrongArity(ctx);
    RedisModule_AutoMemory(ctx);

    /* The checks first: nothing is written before the batch is known to be ours. */
    RedisModuleKey *lock = RedisModule_OpenKey(ctx, argv[K_LOCK], REDISMODULE_READ);
    if (RedisModule_KeyType(lock) != REDISMODULE_KEYTYPE_EMPTY) return RedisModule_ReplyWithLongLong(ctx, 0);
    size_t epoch_n;
    const char *epoch = RedisModule_StringPtrLen(argv[A_EPOCH], &epoch_n);
    RedisModuleKey *map = RedisModule_OpenKey(ctx, argv[K_MAP], REDISMODULE_READ);
    if (RedisModule_KeyType(map) != REDISMODULE_KEYTYPE_STRING) return RedisModule_ReplyWithLongLong(ctx, -1);
    {
        char want[64];
        if (epoch_n > 40) return RedisModule_ReplyWithError(ctx, "ERR epoch");
        int wn = snprintf(want, sizeof want, "\"epoch\":%.*s,", (int)epoch_n, epoch);
        size_t map_n;
        const char *m = RedisModule_StringDMA(map, &map_n, REDISMODULE_READ);
        if (!memmem(m, map_n, want, (size_t)wn)) return RedisModule_ReplyWithLongLong(ctx, -1);
    }
    long long epoch_v;
    if (RedisModule_StringToLongLong(argv[A_EPOCH], &epoch_v) != REDISMODULE_OK)
        return RedisModule_ReplyWithError(ctx, "ERR epoch");
    if (string_number(RedisModule_OpenKey(ctx, argv[K_FENCE], REDISMODULE_READ)) > epoch_v)
        return RedisModule_ReplyWithLongLong(ctx, -1);
    size_t dense_n;
    RedisModule_StringPtrLen(argv[A_DENSE], &dense_n);
    if (dense_n > 0) return RedisModule_ReplyWithLongLong(ctx, -2);  /* tie groups: the script */
    RedisModuleKey *intents = RedisModule_OpenKey(ctx, argv[K_INTENTS], REDISMODULE_READ);
    if (RedisModule_ValueLength(intents) > 0) return RedisModule_ReplyWithLongLong(ctx, -2);
    size_t ranks_n;
    const char *ranks_arg = RedisModule_StringPtrLen(argv[A_RANKS], &ranks_n);
    int want_ranks = ranks_n == 1 && ranks_arg[0] == '1';
    size_t order_n;
    const char *order = RedisModule_StringPtrLen(argv[A_ORDER], &order_n);
    int desc = order_n == 2 && order[0] == '-';
    long long width;
    if (RedisModule_StringToLongLong(argv[A_WIDTH], &width) != REDISMODULE_OK || width < 1 || width > 64)
        return RedisModule_ReplyWithError(ctx, "ERR width");

    /* The rows, a line each (see the top). */
    size_t rows_n;
    const char *p = RedisModule_StringPtrLen(argv[A_ROWS], &rows_n), *end = p + rows_n;
    size_t cap = 64, n = 0;
    Row *rows = RedisModule_PoolAlloc(ctx, cap * sizeof *rows);
    while (p < end) {
        const char *line_end = memchr(p, '\n', (size_t)(end - p));
        if (!line_end) line_end = end;
        if (n == cap) {
            Row *bigger = RedisModule_PoolAlloc(ctx, 2 * cap * sizeof *rows);
            memcpy(bigger, rows, cap * sizeof *rows);
            rows = bigger;
            cap *= 2;
        }
        Row *r = &rows[n];
        size_t fn;
        const char *f;
        r->user = field(p, line_end, '\t', &r->user_n, &p);
        r->version = field(p, line_end, '\t', &r->version_n, &p);
        f = field(p, line_end, '\t', &fn, &p);
        r->total = field(p, line_end, '\t', &r->total_n, &p);
        r->tie = field(p, line_end, '\t', &r->tie_n, &p);
        r->partition = field(p, line_end, '\t', &r->partition_n, &p);
        r->offset = field(p, line_end, '\t', &r->offset_n, &p);
        r->details = p;
        r->details_n = (size_t)(line_end - p);
        int ok;
        r->version_v = digits(r->version, r->version_n, &ok);
        if (!ok || fn != 1 || r->user_n == 0 || r->total_n == 0 || r->tie_n == 0 || r->tie_n > 64)
            return RedisModule_ReplyWithError(ctx, "ERR row");
        if (r->total_n > 18) return RedisModule_ReplyWithLongLong(ctx, -2);  /* past a long long: the script */
        r->flag = f[0];
        if (want_ranks && r->flag == '2') return RedisModule_ReplyWithLongLong(ctx, -2);  /* count_lt: the script */
        n++;
        p = line_end < end ? line_end + 1 : end;
    }

    /* raise_changes.lua */
    RedisModuleKey *changes = RedisModule_OpenKey(ctx, argv[K_CHANGES], REDISMODULE_READ | REDISMODULE_WRITE);
    long long was = string_number(changes), now = RedisModule_Milliseconds();
    long long next = now > was + 1 ? now : was + 1;
    RedisModuleString *next_s = RedisModule_CreateStringFromLongLong(ctx, next);
    RedisModule_StringSet(changes, next_s);
    RedisModule_Replicate(ctx, "SET", "ss", argv[K_CHANGES], next_s);

    RedisModuleKey *users = RedisModule_OpenKey(ctx, argv[K_USERS], REDISMODULE_READ | REDISMODULE_WRITE);
    RedisModuleKey *set = RedisModule_OpenKey(ctx, argv[K_SET], REDISMODULE_READ | REDISMODULE_WRITE);
    if (RedisModule_KeyType(users) != REDISMODULE_KEYTYPE_EMPTY && RedisModule_KeyType(users) != REDISMODULE_KEYTYPE_HASH)
        return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
    if (RedisModule_KeyType(set) != REDISMODULE_KEYTYPE_EMPTY && RedisModule_KeyType(set) != REDISMODULE_KEYTYPE_ZSET)
        return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);

    /* What the script's ZREM, ZADD and HSET carry, to replicate them as it does. */
    RedisModuleString **gone = RedisModule_PoolAlloc(ctx, (n + 1) * sizeof *gone);
    RedisModuleString **added = RedisModule_PoolAlloc(ctx, (2 * n + 1) * sizeof *added);
    RedisModuleString **stored = RedisModule_PoolAlloc(ctx, (2 * n + 1) * sizeof *stored);
    RedisModuleString **ranked = RedisModule_PoolAlloc(ctx, (n + 1) * sizeof *ranked);
    long long *applied = RedisModule_PoolAlloc(ctx, (n + 1) * sizeof *applied);
    size_t n_gone = 0, n_added = 0, n_stored = 0, n_applied = 0;
    for (size_t i = 0; i < n; i++) {
        Row *r = &rows[i];
        RedisModuleString *user = RedisModule_CreateString(ctx, r->user, r->user_n);
        RedisModuleString *current = NULL;
        RedisModule_HashGet(users, REDISMODULE_HASH_NONE, user, &current, NULL);
        if (current) {
            size_t cn;
            const char *c = RedisModule_StringPtrLen(current, &cn), *cend = c + cn, *q;
            size_t vn, fn, mn;
            const char *v = field(c, cend, '|', &vn, &q);
            const char *f = field(q, cend, '|', &fn, &q);
            const char *m = field(q, cend, '|', &mn, &q);
            int ok;
            long long held = digits(v, vn, &ok);
            if (!ok || fn != 1) return RedisModule_ReplyWithError(ctx, "ERR state");
            if (held >= r->version_v) continue;
            if (f[0] == '0') gone[n_gone++] = member_in(ctx, m, mn, r->user, r->user_n);
        }
        stored[n_stored++] = user;
        stored[n_stored++] = new_state(ctx, r);
        if (r->flag == '0') {
            added[n_added++] = sorted_score(ctx, r, desc);
            added[n_added++] = ranked[n_applied] = new_member(ctx, r, (size_t)width);
        }
        applied[n_applied++] = (long long)i + 1;
    }
    /* The script's order: every removal, then every addition, then the states. */
    for (size_t i = 0; i < n_gone; i++) RedisModule_ZsetRem(set, gone[i], NULL);
    for (size_t i = 0; i < n_added; i += 2) {
        double score;
        if (RedisModule_StringToDouble(added[i], &score) != REDISMODULE_OK)
            return RedisModule_ReplyWithError(ctx, "ERR score");
        RedisModule_ZsetAdd(set, score, added[i + 1], NULL);
    }
    for (size_t i = 0; i < n_stored; i += 2) RedisModule_HashSet(users, REDISMODULE_HASH_NONE, stored[i], stored[i + 1], NULL);
    if (n_gone) RedisModule_Replicate(ctx, "ZREM", "sv", argv[K_SET], gone, n_gone);
    if (n_added) RedisModule_Replicate(ctx, "ZADD", "sv", argv[K_SET], added, n_added);
    if (n_stored) RedisModule_Replicate(ctx, "HSET", "sv", argv[K_USERS], stored, n_stored);
    if (n_added) {
        RedisModuleCallReply *r = RedisModule_Call(ctx, "HINCRBY", "!ssl", argv[K_WRITES], argv[A_BUCKET], (long long)(n_added / 2));
        if (RedisModule_CallReplyType(r) == REDISMODULE_REPLY_ERROR) return RedisModule_ReplyWithCallReply(ctx, r);
        RedisModule_Call(ctx, "EXPIRE", "!sl", argv[K_WRITES], 60LL);
    }

    RedisModule_ReplyWithArray(ctx, 4);
    RedisModule_ReplyWithArray(ctx, (long)n_applied);
    for (size_t j = 0; j < n_applied; j++) RedisModule_ReplyWithLongLong(ctx, applied[j]);
    if (want_ranks) {
        /* After the whole batch: each rank as a read right after it sees it. */
        RedisModule_ReplyWithArray(ctx, (long)n_applied);
        for (size_t j = 0; j < n_applied; j++) {
            Row *r = &rows[applied[j] - 1];
            if (r->flag != '0') { RedisModule_ReplyWithLongLong(ctx, 0); continue; }
            RedisModuleCallReply *rank = RedisModule_Call(ctx, "ZRANK", "ss", argv[K_SET], ranked[j]);
            RedisModule_ReplyWithLongLong(ctx, RedisModule_CallReplyInteger(rank) + 1);
        }
    } else {
        RedisModule_ReplyWithArray(ctx, 0);
    }
    RedisModule_ReplyWithLongLong(ctx, (long long)RedisModule_ValueLength(set));
    RedisModuleKey *last = RedisModule_OpenKey(ctx, argv[K_WRITES_LAST], REDISMODULE_READ);
    long long last_v = 0;
    if (RedisModule_KeyType(last) == REDISMODULE_KEYTYPE_HASH) {
        RedisModuleString *got = NULL;
        RedisModule_HashGet(last, REDISMODULE_HASH_NONE, argv[A_BUCKET], &got, NULL);
        if (got) {
            double d;
            if (RedisModule_StringToDouble(got, &d) == REDISMODULE_OK) last_v = (long long)d;
        }
    }
    return RedisModule_ReplyWithLongLong(ctx, last_v);
}

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    if (RedisModule_Init(ctx, "podium", 1, REDISMODULE_APIVER_1) == REDISMODULE_ERR) return REDISMODULE_ERR;
    if (RedisModule_CreateCommand(ctx, "podium.apply1", apply1, "write deny-oom", 1, 12, 1) == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    return REDISMODULE_OK;
}
