/* The installed library exports only the libc calls it hooks (the test library adds its
 * gsi_test_* entry points); everything else is built with -fvisibility=hidden. */
#ifndef GSI_EXPORT_H
#define GSI_EXPORT_H

#define GSI_EXPORT __attribute__((visibility("default")))

#endif
