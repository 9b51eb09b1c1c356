/* The CLI's answer (cli.h: one line on stdout, "ip:port" or "[ipv6]:port"): the fuzzer's
 * bytes are what `globus-streams environment contact-lookup` printed. Every input goes
 * through the output-line rule and the contact parser, as connect() uses them; one input
 * in 64 is also printed by a real child process (a stand-in CLI run by
 * gsi_cli_contact_lookup: spawn, pipe, deadline, reaping).
 *
 * Invariants: the line is the output up to its first CR, LF or NUL, never longer than the
 * buffer; a lookup succeeds exactly when that line is not empty; a parsed contact formats
 * back to an address that parses to itself. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "contact.h"
#include "fuzz_util.h"

static char output_path[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = fuzz_tempdir("fuzz-cli");
    char cli[4200], script[8600];
    snprintf(output_path, sizeof output_path, "%s/output", dir);
    snprintf(cli, sizeof cli, "%s/globus-streams", dir);
    int n = snprintf(script, sizeof script, "#!/bin/sh\nexec cat '%s'\n", output_path);
    int fd = open(cli, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
    if (fd < 0 || write(fd, script, (size_t)n) != n || close(fd) != 0)
        abort();
    setenv("GLOBUS_STREAMS_CLI", cli, 1);
    return 0;
}

static void write_output(const uint8_t *data, size_t size)
{
    int fd = open(output_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) != 0)
        abort();
}

/* The expected line: the bytes before the first CR, LF or NUL, cut to `size - 1`. */
static size_t expected_line(const uint8_t *data, size_t size, size_t room)
{
    size_t n = 0;
    while (n < size && n < room - 1 && data[n] != '\r' && data[n] != '\n' && data[n] != 0)
        n++;
    return n;
}

static void check_contact(const char *line)
{
    struct sockaddr_storage addr, again;
    socklen_t len, again_len;
    if (!gsi_contact_parse(line, &addr, &len))
        return;
    char text[GSI_CONF_CONTACT_MAX];
    gsi_contact_format(&addr, text, sizeof text);
    FUZZ_CHECK(gsi_contact_parse(text, &again, &again_len) && again_len == len &&
                   memcmp(&addr, &again, len) == 0,
               "'%s' formats as '%s', which does not parse back", line, text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[GSI_CONF_CONTACT_MAX];
    char *copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    size_t len = gsi_cli_output_line(copy);
    size_t want = expected_line(data, size, size + 1);
    FUZZ_CHECK(len == want && strlen(copy) == len && memcmp(copy, data, len) == 0,
               "line of %zu bytes, expected %zu", len, want);
    check_contact(copy);
    free(copy);
    if (size % 64 != 1)
        return 0;
    write_output(data, size);
    int error = gsi_cli_contact_lookup("5a1b1c1d-0000-4000-8000-000000000001", 0, out,
                                       sizeof out, 5000);
    want = expected_line(data, size, sizeof out);
    FUZZ_CHECK(error == (want > 0 ? 0 : EIO), "lookup gave %d for a %zu-byte line", error, want);
    if (!error)
        FUZZ_CHECK(strlen(out) == want && memcmp(out, data, want) == 0, "line '%s'", out);
    return 0;
}
