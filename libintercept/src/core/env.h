/* Every environment variable the library reads, named once (SPEC 3.3).
 *
 *   GLOBUS_STREAMS_INTERCEPT_PORT_<port>  =<tunnel_id>: connections accepted on a socket
 *                                         bound to <port> belong to that tunnel (listener)
 *   GLOBUS_STREAMS_TUNNELS                comma-separated tunnel ids whose globus_contact
 *                                         names are routed (initiator); read once, at
 *                                         the first name lookup
 *   GLOBUS_STREAMS_DIR                    conf directory (default ~/.globus/streams)
 *   GLOBUS_STREAMS_CLI                    globus-streams executable used to refresh a contact
 *   GLOBUS_STREAMS_DEBUG                  "1" turns debug output on
 *   GLOBUS_STREAMS_LOG                    file for debug output (default stderr)
 *   GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS   handshake limit per connection (default 10000)
 *
 * Malformed values never stop the host: they fall back to the default with a debug line.
 */
#ifndef GSI_ENV_H
#define GSI_ENV_H

#define GSI_ENV_INTERCEPT_PORT_PREFIX "GLOBUS_STREAMS_INTERCEPT_PORT_"
#define GSI_ENV_TUNNELS "GLOBUS_STREAMS_TUNNELS"
#define GSI_ENV_DIR "GLOBUS_STREAMS_DIR"
#define GSI_ENV_CLI "GLOBUS_STREAMS_CLI"
#define GSI_ENV_DEBUG "GLOBUS_STREAMS_DEBUG"
#define GSI_ENV_LOG "GLOBUS_STREAMS_LOG"
#define GSI_ENV_HANDSHAKE_TIMEOUT_MS "GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS"
#define GSI_ENV_HOME "HOME"
#define GSI_ENV_LD_PRELOAD "LD_PRELOAD"

#define GSI_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
#define GSI_MAX_HANDSHAKE_TIMEOUT_MS 3600000

/* GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS, validated. */
int gsi_env_handshake_timeout_ms(void);

/* Tunnel id (canonical text) for connections accepted on `port`; 0 when the port is not a
 * tunnel listener or the variable is malformed. */
int gsi_env_listener_tunnel(unsigned port, char out[37]);

#endif
