/* rate_limit: a small map keyed by u32 (context ids, call tokens); one translation unit with rate_limit.c. */
#ifndef RATE_LIMIT_U32_MAP_H
#define RATE_LIMIT_U32_MAP_H

#include <stdlib.h>

/* ---- u32-keyed map (context ids, call tokens) ------------------------------ */

typedef struct map_entry {
    uint32_t key;
    void *value;
    struct map_entry *next;
} map_entry;

typedef struct {
    map_entry *buckets[256];
} u32_map;

static void *map_get(u32_map *m, uint32_t key) {
    for (map_entry *e = m->buckets[key & 255]; e; e = e->next)
        if (e->key == key) return e->value;
    return NULL;
}

static void map_put(u32_map *m, uint32_t key, void *value) {
    map_entry *e = (map_entry *)malloc(sizeof *e);
    if (!e) return;
    e->key = key;
    e->value = value;
    e->next = m->buckets[key & 255];
    m->buckets[key & 255] = e;
}

static void *map_take(u32_map *m, uint32_t key) {
    for (map_entry **link = &m->buckets[key & 255]; *link; link = &(*link)->next) {
        if ((*link)->key == key) {
            map_entry *e = *link;
            void *value = e->value;
            *link = e->next;
            free(e);
            return value;
        }
    }
    return NULL;
}

#endif
