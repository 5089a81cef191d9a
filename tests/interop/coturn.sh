# Sourced by the STUN interop scripts: coturn (Debian's turnserver) as a plain STUN server.
#
#   start_coturn <work dir> <address> <port> [command prefix...]
#       starts it on <address>:<port> (UDP, STUN only, no configuration file; its database, pid
#       file and log stay in <work dir>) through the prefix (e.g. ip netns exec <ns>), and waits
#       up to 10 s until it listens; sets turn_pid. On failure prints the log and exits 1.
#   stop_coturn
#       stops it (SIGTERM, SIGKILL after 5 s); safe to call when it never started.
#   coturn_log <work dir>
#       the last lines of its log, for a failure report.

turn_pid=

start_coturn() {
    local work=$1 address=$2 port=$3
    shift 3
    "$@" turnserver -n -S --listening-ip "$address" --listening-port "$port" \
        --no-tcp --no-tls --no-dtls --no-cli \
        --userdb "$work/turndb" --pidfile "$work/turnserver.pid" \
        --log-file stdout --simple-log >"$work/turnserver.log" 2>&1 &
    turn_pid=$!
    local _
    for _ in $(seq 100); do
        if "$@" ss -Hlun "sport = :$port" 2>/dev/null | grep -q "$address:$port"; then return 0; fi
        kill -0 "$turn_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "FAIL: coturn did not start listening on $address:$port"
    coturn_log "$work"
    exit 1
}

stop_coturn() {
    if [[ -n $turn_pid ]] && kill -0 "$turn_pid" 2>/dev/null; then
        kill "$turn_pid" 2>/dev/null || true
        local _
        for _ in $(seq 50); do kill -0 "$turn_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$turn_pid" 2>/dev/null || true
        wait "$turn_pid" 2>/dev/null || true
    fi
}

coturn_log() {
    tail -20 "$1/turnserver.log"
}
