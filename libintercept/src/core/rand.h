/* Nonces from the kernel CSPRNG: getrandom(2), else /dev/urandom. */
#ifndef GSI_RAND_H
#define GSI_RAND_H

#include <stddef.h>

/* 0 on success, -1 (errno set) when no randomness is available. */
int gsi_random_bytes(void *out, size_t len);

#endif
