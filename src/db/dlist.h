/* dlist.h - the doubly-linked LRU lists of src/db (cached readers per thread,
 * cached statements per connection), written once for both engines. A node
 * is any struct with `prev` and `next` pointers to its own type; a list is a
 * pair of head and tail lvalues. Most recently used is at the head. */
#ifndef OB_DLIST_H
#define OB_DLIST_H

/* Take node out of the list (head, tail). */
#define OB_DLIST_UNLINK(head, tail, node)                                                                  \
    do {                                                                                                   \
        if ((node)->prev)                                                                                  \
            (node)->prev->next = (node)->next;                                                             \
        else                                                                                               \
            (head) = (node)->next;                                                                         \
        if ((node)->next)                                                                                  \
            (node)->next->prev = (node)->prev;                                                             \
        else                                                                                               \
            (tail) = (node)->prev;                                                                         \
        (node)->prev = (node)->next = NULL;                                                                \
    } while (0)

/* Put node at the head of the list (head, tail). */
#define OB_DLIST_PUSH(head, tail, node)                                                                    \
    do {                                                                                                   \
        (node)->prev = NULL;                                                                               \
        (node)->next = (head);                                                                             \
        if (head)                                                                                          \
            (head)->prev = (node);                                                                         \
        (head) = (node);                                                                                   \
        if (!(tail))                                                                                       \
            (tail) = (node);                                                                               \
    } while (0)

#endif
