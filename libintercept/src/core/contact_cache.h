/* Contacts the CLI gave this process, per tunnel: a CLI that could not rewrite the conf is
 * not asked again for every connection, a failed lookup is not repeated for
 * GSI_CONTACT_RETRY_MS, and `--refresh` lookups run one per tunnel at a time (callers that
 * need one meanwhile wait for its answer and then share it). Entries are per tunnel and
 * never recycled while a lookup runs, whatever the number of tunnels. */
#ifndef GSI_CONTACT_CACHE_H
#define GSI_CONTACT_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* After a failed lookup, the CLI is not asked again for this long. */
#define GSI_CONTACT_RETRY_MS 5000

/* 1 when a contact (or a failure, `failed` = 1) was remembered and is still valid. */
int gsi_cache_recall(const char *tunnel_id, char *contact, size_t size, int *failed);

/* Remembers `contact` ("" with `failed`) for `valid_ms`. */
void gsi_cache_remember(const char *tunnel_id, const char *contact, int64_t valid_ms,
                        int failed);

/* 1: the caller runs the tunnel's --refresh lookup and reports it with
 * gsi_cache_finish_forced. 0: another caller's lookup answered at most
 * GSI_CONTACT_RETRY_MS ago (waited for, up to `wait_ms`, while it runs); its answer is in
 * `out`, "" when it failed or did not come in time. */
int gsi_cache_claim_forced(const char *tunnel_id, int wait_ms, char *out, size_t size);

/* Ends a claimed --refresh lookup with `answer` ("" when it failed). */
void gsi_cache_finish_forced(const char *tunnel_id, const char *answer);

#endif
