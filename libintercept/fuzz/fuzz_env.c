/* The environment variables read on every call (SPEC 3.3):
 * GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS and GLOBUS_STREAMS_INTERCEPT_PORT_<port>. The input is
 * the timeout's value, a newline, then the port variable's value. (GLOBUS_STREAMS_TUNNELS
 * is fuzzed by fuzz_route; the debug variables are read once per process.)
 *
 * Invariants: the timeout is always within 1..GSI_MAX_HANDSHAKE_TIMEOUT_MS; a plain decimal
 * in that range is taken as is, anything else gives the default or the number it spells.
 * A port variable names a tunnel exactly when it is a UUID, returned in canonical form. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "env.h"
#include "fuzz_util.h"
#include "ids.h"

enum { PORT = 4000 };

static long plain_decimal(const char *text)
{
    if (*text == '\0' || strlen(text) > 9)
        return -1;
    for (const char *p = text; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    return strtol(text, NULL, 10);
}

static int is_uuid(const char *text)
{
    if (strlen(text) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !isxdigit((unsigned char)text[i]))
            return 0;
    }
    return 1;
}

/* The variables live in these buffers (putenv), so setting one allocates nothing: setenv
 * would keep every value ever set. */
static char timeout_var[192], listener_var[192];

static void set_variable(char *var, const char *name, const char *value)
{
    if (var[0] == '\0') {
        snprintf(var, 192, "%s=", name);
        putenv(var);
    }
    snprintf(strchr(var, '=') + 1, 192 - strlen(name) - 1, "%s", value);
}

static void check_timeout(const char *text)
{
    set_variable(timeout_var, GSI_ENV_HANDSHAKE_TIMEOUT_MS, text);
    int got = gsi_env_handshake_timeout_ms();
    FUZZ_CHECK(got >= 1 && got <= GSI_MAX_HANDSHAKE_TIMEOUT_MS, "timeout %d for '%s'", got, text);
    long plain = plain_decimal(text);
    if (plain >= 1 && plain <= GSI_MAX_HANDSHAKE_TIMEOUT_MS)
        FUZZ_CHECK(got == plain, "'%s' gave %d", text, got);
    else if (got != GSI_DEFAULT_HANDSHAKE_TIMEOUT_MS)
        FUZZ_CHECK(strtol(text, NULL, 10) == got, "'%s' gave %d", text, got);
}

static void check_listener(const char *value)
{
    char name[64], tunnel[GSI_UUID_TEXT] = "";
    snprintf(name, sizeof name, "%s%d", GSI_ENV_INTERCEPT_PORT_PREFIX, PORT);
    set_variable(listener_var, name, value);
    int found = gsi_env_listener_tunnel(PORT, tunnel);
    FUZZ_CHECK(found == is_uuid(value), "'%s' gave %d", value, found);
    if (found) {
        FUZZ_CHECK(strcasecmp(tunnel, value) == 0, "'%s' became '%s'", value, tunnel);
        for (const char *p = tunnel; *p; p++)
            FUZZ_CHECK(!isupper((unsigned char)*p), "'%s' is not canonical", tunnel);
    }
    FUZZ_CHECK(!gsi_env_listener_tunnel(PORT + 1, tunnel), "port %d has no variable", PORT + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reader r = {data, size};
    char timeout[128], listener[128];
    fuzz_field(&r, '\n', timeout, sizeof timeout);
    fuzz_field(&r, '\n', listener, sizeof listener);
    check_timeout(timeout);
    check_listener(listener);
    return 0;
}
