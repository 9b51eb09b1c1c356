#include "env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ids.h"
#include "log.h"

int gsi_env_handshake_timeout_ms(void)
{
    const char *text = getenv(GSI_ENV_HANDSHAKE_TIMEOUT_MS);
    if (text == NULL || *text == '\0')
        return GSI_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || value <= 0 || value > GSI_MAX_HANDSHAKE_TIMEOUT_MS) {
        GSI_WARN("%s is not a number of milliseconds in 1..%d; using %d",
                 GSI_ENV_HANDSHAKE_TIMEOUT_MS, GSI_MAX_HANDSHAKE_TIMEOUT_MS,
                 GSI_DEFAULT_HANDSHAKE_TIMEOUT_MS);
        return GSI_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    }
    return (int)value;
}

int gsi_env_listener_tunnel(unsigned port, char out[37])
{
    char name[sizeof GSI_ENV_INTERCEPT_PORT_PREFIX + 8];
    snprintf(name, sizeof name, "%s%u", GSI_ENV_INTERCEPT_PORT_PREFIX, port);
    const char *value = getenv(name);
    if (value == NULL)
        return 0;
    uint8_t raw[16];
    if (!gsi_uuid_parse(value, raw)) {
        GSI_WARN("%s is not a tunnel id; port %u is not intercepted", name, port);
        return 0;
    }
    gsi_uuid_format(raw, out);
    return 1;
}
