/* Running `globus-streams environment contact-lookup`: the library's one contract with the
 * CLI (SPEC 3.2), kept narrow so either side can change behind it.
 *
 *   program   $GLOBUS_STREAMS_CLI, else `globus-streams` found on PATH
 *   arguments environment contact-lookup TUNNEL_ID [--refresh]
 *   output    one line on stdout: the access point's "ip:port" or "[ipv6]:port"
 *   exit code 0 with that line; anything else is a failure (the line is ignored)
 *   deadline  the whole call (start, output, exit) ends within `timeout_ms`; a CLI still
 *             running then is killed with SIGKILL and reaped
 *   child     started with posix_spawn (no fork handlers of the host run), signal mask
 *             empty and every signal at its default disposition, stdin /dev/null, stderr
 *             /dev/null unless debug output is on, no descriptor of the host above 2, and
 *             the host's environment without LD_PRELOAD (the CLI needs no interception). */
#ifndef GSI_CLI_H
#define GSI_CLI_H

#include <stddef.h>

/* Cuts the CLI's output to its first line (without "\r\n"); its length. 0 means the CLI
 * printed nothing usable. */
size_t gsi_cli_output_line(char *output);

/* 0 with the printed line (no newline) in `out`, or an errno value: ENOENT no CLI,
 * ETIMEDOUT past the deadline, EIO it could not start, failed or printed nothing. */
int gsi_cli_contact_lookup(const char *tunnel_id, int refresh, char *out, size_t size,
                           int timeout_ms);

#endif
