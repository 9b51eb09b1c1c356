/* Tunnel conf files (SPEC 3.1) from the fuzzer's bytes, parsed from memory
 * (gsi_conf_from_text), then the contact choice connect() makes from the result. One input
 * in eight is also written as the tunnel's conf (mode 0600, a new file each time, like the
 * CLI's atomic rewrite) and loaded the way the hooks load it, cache included.
 *
 * Invariants: a conf that parses holds, for each text key, a value the text gave for that
 * key (or nothing when the key is absent), within its size limit; numbers are within
 * 0..GSI_CONF_NUMBER_MAX; the file and its cached copy give exactly the text's conf. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "contact.h"
#include "fuzz_util.h"

static const char TUNNEL[] = "5a1b1c1d-0000-4000-8000-000000000001";
static char conf_path[4096], tmp_path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = fuzz_tempdir("fuzz-conf");
    setenv("GLOBUS_STREAMS_DIR", dir, 1);
    setenv("GLOBUS_STREAMS_CLI", "/nonexistent/globus-streams", 1); /* never spawn */
    snprintf(conf_path, sizeof conf_path, "%s/%s.conf", dir, TUNNEL);
    snprintf(tmp_path, sizeof tmp_path, "%s/%s.tmp", dir, TUNNEL);
    return 0;
}

static void write_conf(const uint8_t *data, size_t size)
{
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) != 0 ||
        rename(tmp_path, conf_path) != 0)
        abort();
}

/* 1 when some line of the file sets `key` (trimmed like the reader) to exactly `value`, or
 * when `value` is empty and no line sets it to anything else. */
static int file_gives(const uint8_t *data, size_t size, const char *key, const char *value)
{
    size_t key_len = strlen(key), value_len = strlen(value);
    int seen = 0;
    for (size_t at = 0; at < size;) {
        const uint8_t *line = data + at, *nl = memchr(line, '\n', size - at);
        size_t len = nl ? (size_t)(nl - line) : size - at;
        at += len + 1;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        size_t skip = 0;
        while (skip < len && (line[skip] == ' ' || line[skip] == '\t'))
            skip++;
        const uint8_t *k = line + skip, *eq = memchr(k, '=', len - skip);
        if (eq == NULL)
            continue;
        size_t k_len = (size_t)(eq - k);
        while (k_len > 0 && (k[k_len - 1] == ' ' || k[k_len - 1] == '\t'))
            k_len--;
        if (k_len != key_len || memcmp(k, key, key_len) != 0)
            continue;
        seen = 1;
        size_t v_len = len - skip - (size_t)(eq + 1 - k);
        if (v_len == value_len && memcmp(eq + 1, value, value_len) == 0)
            return 1;
    }
    return !seen && value_len == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= GSI_CONF_MAX_FILE)
        return 0;
    /* Exactly the input and the one byte gsi_conf_parse_text ends the last line with;
     * ASan sees any access past that. */
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    gsi_conf conf, from_file;
    int error = gsi_conf_from_text(text, size, "fuzz input", &conf);
    free(text);
    /* One reader in eight goes through the file and the cache too: same bytes, same conf. */
    if (size % 8 == 0) {
        write_conf(data, size);
        int file_error = gsi_conf_load(TUNNEL, &from_file);
        FUZZ_CHECK(file_error == error, "the text gave %d, the file %d", error, file_error);
        if (!error) {
            FUZZ_CHECK(memcmp(&conf, &from_file, sizeof conf) == 0,
                       "the file's conf differs from the text's");
            FUZZ_CHECK(gsi_conf_load(TUNNEL, &from_file) == 0 &&
                           memcmp(&conf, &from_file, sizeof conf) == 0,
                       "the cached conf differs from the one read");
        }
        gsi_conf_wipe(&from_file);
    }
    if (error)
        return 0;
    FUZZ_CHECK(conf.lankey_len == strnlen(conf.lankey, sizeof conf.lankey) &&
                   conf.lankey_len < sizeof conf.lankey,
               "lankey length %zu", conf.lankey_len);
    FUZZ_CHECK(file_gives(data, size, "lankey", conf.lankey), "lankey not from the file");
    FUZZ_CHECK(memchr(conf.contact, '\0', sizeof conf.contact) &&
                   file_gives(data, size, "connector_contact_string", conf.contact),
               "contact '%s' not from the file", conf.contact);
    FUZZ_CHECK(memchr(conf.globus_contact, '\0', sizeof conf.globus_contact) &&
                   file_gives(data, size, "globus_contact", conf.globus_contact),
               "globus_contact not from the file");
    FUZZ_CHECK(conf.update_time >= 0 && conf.update_time <= GSI_CONF_NUMBER_MAX,
               "update_time %lld", (long long)conf.update_time);
    FUZZ_CHECK(conf.contact_ttl >= 0 && conf.contact_ttl <= GSI_CONF_NUMBER_MAX,
               "contact ttl %lld", (long long)conf.contact_ttl);
    FUZZ_CHECK(conf.expiration_time >= 0 && conf.expiration_time <= GSI_CONF_NUMBER_MAX,
               "expiration %lld", (long long)conf.expiration_time);
    if (conf.role == GSI_ROLE_INITIATOR) {
        struct sockaddr_storage addr;
        socklen_t len;
        gsi_contact_is_fresh(&conf, (int64_t)time(NULL));
        gsi_contact_address(TUNNEL, &conf, &addr, &len, NULL);
    }
    gsi_conf_wipe(&conf);
    return 0;
}
