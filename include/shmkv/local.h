/* Local readers' C ABI (libshmkv.so): a process on the store's host reads
 * keys straight from the shmkvd segment NAME (/dev/shm/NAME), read-only,
 * without the store lock and without a round trip (shmkv-protocol(7), Local readers). */
#ifndef SHMKV_LOCAL_H
#define SHMKV_LOCAL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SHMKV_EXPORT __attribute__((visibility("default")))
#else
#define SHMKV_EXPORT
#endif

/* A value's kind: JSON text, as a PUT over the JSON protocol stores it ("blue"
 * with its quotes), or raw bytes, as a RESP SET stores them. */
#define SHMKV_JSON 0
#define SHMKV_BYTES 1

typedef struct shmkv_local shmkv_local;

/* shmkv_local_open maps segment NAME read-only: 0, or an errno value (ENOENT:
 * no such segment, EACCES: its mode or group refuses this user, EPERM: not a
 * regular file (a symbolic link is not followed), or a mode with the group
 * or other write bit, which shmkvd never gives a segment: users other than
 * its owner could have written it, so it is not read; EINVAL: not 1 to 255 bytes without a slash, EPROTO: not
 * a store of this shmkv's format). What the owner of /dev/shm/NAME wrote is
 * trusted, whoever it is: a shmkvd refuses to start on a segment of another
 * user, so check that shmkvd --name NAME is running (shmkv-protocol(7),
 * LOCAL READERS). */
SHMKV_EXPORT int shmkv_local_open(const char *name, shmkv_local **out); /* 0, or an errno value */

/* shmkv_local_get looks key up: 0 found, with *value a malloc'd copy of the
 * stored bytes (NUL-terminated beyond *value_len, for convenience) and *kind
 * its kind; 1 not found (or expired); <0 -errno: -EBUSY when writers kept
 * changing the store through every retry, -EOWNERDEAD when it stays so
 * because its last writer died inside a change and no shmkvd serves it any
 * more (start shmkvd --name NAME to recover it), -EIO when the segment is
 * damaged, -ENOMEM. A segment replaced by a salvage is opened again by name,
 * unseen (and refused with -EPERM as open refuses it).
 * A segment truncated under the mapping by its owner (shmkvd never does
 * that) raises SIGBUS in the calling process at the next read, as any
 * mapped file does; a process that must survive it handles SIGBUS. */
SHMKV_EXPORT int shmkv_local_get(shmkv_local *r, const char *key, size_t key_len,
                                 char **value, size_t *value_len, int *kind);
                                 /* 0 found, 1 not found, <0 -errno; kind may be NULL */
SHMKV_EXPORT void shmkv_free(void *p); /* frees a value from get */
SHMKV_EXPORT void shmkv_local_close(shmkv_local *r);

#ifdef __cplusplus
}
#endif

#endif /* SHMKV_LOCAL_H */
