#include "ids.h"

#include <string.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int gsi_uuid_parse_n(const char *text, size_t len, uint8_t out[16])
{
    if (len != 36)
        return 0;
    size_t byte = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return 0;
            i++;
            continue;
        }
        int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[byte++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return 1;
}

int gsi_uuid_parse(const char *text, uint8_t out[16])
{
    return gsi_uuid_parse_n(text, strlen(text), out);
}

void gsi_uuid_format(const uint8_t raw[16], char out[GSI_UUID_TEXT])
{
    static const char digits[] = "0123456789abcdef";
    size_t pos = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[pos++] = '-';
        out[pos++] = digits[raw[i] >> 4];
        out[pos++] = digits[raw[i] & 15];
    }
    out[pos] = '\0';
}
