/* Tunnel and secret ids: UUID text <-> the 16 raw bytes carried in HELLO. */
#ifndef GSI_IDS_H
#define GSI_IDS_H

#include <stddef.h>
#include <stdint.h>

#define GSI_UUID_TEXT 37 /* 36 characters and the terminator */

/* 1 when `text` is exactly a UUID (any case); fills `out`. */
int gsi_uuid_parse(const char *text, uint8_t out[16]);
/* Same for the first `len` characters of `text`. */
int gsi_uuid_parse_n(const char *text, size_t len, uint8_t out[16]);
/* Lower-case canonical form. */
void gsi_uuid_format(const uint8_t raw[16], char out[GSI_UUID_TEXT]);

#endif
