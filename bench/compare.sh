#!/usr/bin/env bash
# Side-by-side benchmark: postfach (release build) against Dovecot on the same
# machine, identical workloads, loopback only (issue #6).
#
#   bench/compare.sh                     # everything, 100 000-message mailbox
#   BIG_N=20000 IDLE_NS="1000" bench/compare.sh      # a quicker run
#   WORKLOADS="mixed big" bench/compare.sh           # a subset
#   SERVERS=postfach WORKLOADS=idle IDLE_NS=50000 USERS=100 bench/compare.sh   # 50 000 IDLE, postfach only
#
# Knobs (environment): WORKLOADS ("mixed lmtp big idle"), MIX_CLIENTS ("10 50"),
# MIX_SECONDS (20), BIG_N (100000), BIG_REPEAT (5: each repetition also times 100 pipelined SELECTs), IDLE_NS ("1000 10000 50000"),
# IDLE_HOLD (10), MEM_GUARD_MB (3072), LMTP_SENDERS ("1 4 16"), LMTP_MESSAGES (2000), USERS (50),
# SERVERS ("postfach dovecot"), DC_IDLE_MAX (10000: Dovecot's ~5 MB per IDLE connection would not
# fit 50 000), PF_SINGLE_MAX (15000: above it postfach's IDLE run uses IDLE_WORKERS (4) worker
# processes, since one process holds at most its open-file limit, 20 000 here),
# CORPUS_N (2000), SEED (1), OUT (bench/results/<date>), KEEP_TMP (unset),
# AUTH_CACHE_TTL (300: both servers' authentication caches, in seconds; 0 = off).
#
# Writes raw JSON per workload and server plus summary.md to $OUT and prints
# the summary table. Everything it starts is stopped by PID on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
WORKLOADS=${WORKLOADS:-"mixed lmtp big idle"}
MIX_CLIENTS=${MIX_CLIENTS:-"10 50"}
MIX_SECONDS=${MIX_SECONDS:-20}
BIG_N=${BIG_N:-100000}
BIG_REPEAT=${BIG_REPEAT:-5}
IDLE_NS=${IDLE_NS:-"1000 10000 50000"}
SERVERS=${SERVERS:-"postfach dovecot"}
DC_IDLE_MAX=${DC_IDLE_MAX:-10000}
PF_SINGLE_MAX=${PF_SINGLE_MAX:-15000}
IDLE_WORKERS=${IDLE_WORKERS:-4}
IDLE_HOLD=${IDLE_HOLD:-10}
LMTP_SENDERS=${LMTP_SENDERS:-"1 4 16"}
LMTP_MESSAGES=${LMTP_MESSAGES:-2000}
USERS=${USERS:-50}
MEM_GUARD_MB=${MEM_GUARD_MB:-3072}
CORPUS_N=${CORPUS_N:-2000}
SEED=${SEED:-1}
AUTH_CACHE_TTL=${AUTH_CACHE_TTL:-300}
PASSWORD=bench-secret
OUT=${OUT:-$ROOT/bench/results/$(date -u +%Y-%m-%d_%H%M)}
mkdir -p "$OUT"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/run.log" >&2; }

# ---------------------------------------------------------------- cleanup
PIDS=()
T=$(mktemp -d /tmp/postfach-compare.XXXXXX)
chmod 755 "$T"
cleanup() {
    local pid
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]:-}"; do
        for _ in $(seq 1 50); do
            [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    done
    if [ -z "${KEEP_TMP:-}" ]; then rm -rf "$T"; else log "kept $T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# More file descriptors for the IDLE workload (hard limit permitting).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
log "fd limit $(ulimit -n)"

# ---------------------------------------------------------------- tools
need_apt=()
if [[ " $SERVERS " == *" dovecot "* ]]; then
    command -v dovecot >/dev/null || need_apt+=(dovecot-imapd dovecot-lmtpd)
    [ -x /usr/lib/dovecot/lmtp ] || need_apt+=(dovecot-lmtpd)
fi
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
if [ ${#need_apt[@]} -gt 0 ]; then
    log "installing ${need_apt[*]} from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

log "building release binaries"
(cd "$ROOT" && cargo build --release --bin postfach && cargo build --release -p postfach-bench --bin postfach-bench) \
    >"$OUT/build.log" 2>&1
PF=$CARGO_TARGET_DIR/release/postfach
PB=$CARGO_TARGET_DIR/release/postfach-bench

free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    echo "no free port" >&2
    return 1
}
wait_port() { # port, seconds
    local i
    for i in $(seq 1 $(($2 * 10))); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "port $1 did not open" >&2
    return 1
}

# ---------------------------------------------------------------- corpus
log "corpus: $CORPUS_N messages, seed $SEED"
"$PB" corpus --out "$T/corpus" --count "$CORPUS_N" --seed "$SEED" | tee -a "$OUT/run.log"

# ---------------------------------------------------------------- postfach
PF_IMAP=$(free_port)
PF_LMTP=$(free_port)
mkdir -p "$T/pf"
# Every load comes from 127.0.0.1: lift the per-IP and per-account caps
# (defaults 100, for a household behind one NAT), as for Dovecot.
printf '[limits]\nmax_connections_per_ip = 200000\nmax_connections_per_account = 200000\n' >"$T/pf/postfach.toml"
# Credential cache (src/auth.rs): a repeated login with the same password
# skips Argon2. Dovecot's auth_cache below gets the same TTL, but on a hit it
# still verifies the password against the cached hash (passdb-cache.c,
# passdb_cache_verify_plain), so it saves only the passwd-file lookup.
# AUTH_CACHE_TTL=0 compares Argon2 on every login on both sides.
printf '[auth]\ncache_ttl = %s\n' "$AUTH_CACHE_TTL" >>"$T/pf/postfach.toml"
log "postfach: creating $USERS users + big1"
for i in $(seq 1 "$USERS") big; do
    u=bench$i
    [ "$i" = big ] && u=big1
    echo "$PASSWORD" | "$PF" --data "$T/pf" user add "$u" --password-stdin >/dev/null 2>>"$OUT/postfach.log"
done
PF_ARGS=(--data "$T/pf" serve --imap "127.0.0.1:$PF_IMAP" --imaps none --managesieve none)
PF_HAS_LMTP=0
if "$PF" serve --help | grep -q -- '--lmtp'; then
    PF_HAS_LMTP=1
    PF_ARGS+=(--lmtp "127.0.0.1:$PF_LMTP")
fi
start_postfach() { # [serve flags…]: (re)starts postfach with the same ports
    if [ -n "${PF_PID:-}" ]; then
        kill "$PF_PID" 2>/dev/null || true
        wait "$PF_PID" 2>/dev/null || true
    fi
    "$PF" "${PF_ARGS[@]}" "$@" >>"$OUT/postfach.log" 2>&1 &
    PF_PID=$!
    PIDS+=("$PF_PID")
    wait_port "$PF_IMAP" 30
    log "postfach pid $PF_PID $* imap $PF_IMAP lmtp $([ $PF_HAS_LMTP = 1 ] && echo "$PF_LMTP" || echo none)"
}
PF_WORKERS=1
start_postfach

# ---------------------------------------------------------------- dovecot
DC_PID=""
DC_IMAP=""
DC_LMTP=""
if [[ " $SERVERS " == *" dovecot "* ]]; then
DC_IMAP=$(free_port)
DC_LMTP=$(free_port)
DC=$T/dc
mkdir -p "$DC/run" "$DC/state" "$DC/mail"
if [ "$(id -u)" = 0 ]; then
    # Dovecot refuses mail access as UID 0: mail belongs to an unprivileged user.
    id benchmail >/dev/null 2>&1 || useradd -r -M -d /nonexistent -s /usr/sbin/nologin benchmail
    MAIL_USER=benchmail
    INTERNAL_USER=dovecot
    LOGIN_USER=dovenull
else
    MAIL_USER=$(id -un)
    INTERNAL_USER=$MAIL_USER
    LOGIN_USER=$MAIL_USER
fi
MAIL_UID=$(id -u "$MAIL_USER")
MAIL_GID=$(id -g "$MAIL_USER")
chown "$MAIL_USER:" "$DC/mail"
# The very same password hashes as postfach (argon2id PHC strings), so both
# servers pay the same cost per LOGIN.
sqlite3 -separator ' ' "$T/pf/directory.sqlite" "SELECT name, password_hash FROM accounts" |
    while read -r name hash; do
        echo "$name:{ARGON2ID}$hash:$MAIL_UID:$MAIL_GID::$DC/mail/$name::"
    done >"$DC/passwd"
chmod 644 "$DC/passwd"
cat >"$DC/dovecot.conf" <<EOF
# Generated by bench/compare.sh: a private Dovecot on loopback.
base_dir = $DC/run
state_dir = $DC/state
instance_name = postfach-compare-$$
log_path = $DC/dovecot.log
info_log_path = $DC/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
auth_cache_size = $([ "$AUTH_CACHE_TTL" = 0 ] && echo 0 || echo 10M)
auth_cache_ttl = ${AUTH_CACHE_TTL}s
auth_cache_negative_ttl = 0
default_internal_user = $INTERNAL_USER
default_internal_group = $(id -gn "$INTERNAL_USER")
default_login_user = $LOGIN_USER
mail_uid = $MAIL_UID
mail_gid = $MAIL_GID
first_valid_uid = 1
mail_location = maildir:$DC/mail/%n/Maildir
mail_fsync = always
default_process_limit = 12000
default_client_limit = 15000
default_vsz_limit = 1G
passdb {
  driver = passwd-file
  args = $DC/passwd
}
userdb {
  driver = passwd-file
  args = $DC/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DC_IMAP
  }
  inet_listener imaps {
    port = 0
  }
  process_limit = 12000
}
service imap {
  process_limit = 12000
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $DC_LMTP
  }
}
service anvil {
  client_limit = 15000
}
protocol imap {
  mail_max_userip_connections = 20000
}
protocol lmtp {
  postmaster_address = postmaster@localhost
}
EOF
dovecot -c "$DC/dovecot.conf" -F >>"$OUT/dovecot.stdout.log" 2>&1 &
DC_PID=$!
PIDS+=("$DC_PID")
wait_port "$DC_IMAP" 30
log "dovecot pid $DC_PID ($(dovecot --version)) imap $DC_IMAP lmtp $DC_LMTP"
fi

port_of() { [ "$1" = postfach ] && echo "$PF_IMAP" || echo "$DC_IMAP"; }
lmtp_of() { [ "$1" = postfach ] && echo "$PF_LMTP" || echo "$DC_LMTP"; }

# Resident memory of a server: postfach's process (with workers: the
# supervisor and every worker); Dovecot's master and all its children. RSS counts shared pages once per process (the issue's
# measure); PSS shares them out and is reported alongside.
mem_of() { # server -> "rss_kb pss_kb processes"
    local pids
    # postfach with workers: the supervisor and its workers.
    if [ "$1" = postfach ]; then pids="$PF_PID $({ pgrep -P "$PF_PID" || true; } | tr '\n' ' ')"; else pids="$DC_PID $(pgrep -P "$DC_PID" | tr '\n' ' ')"; fi
    local rss=0 pss=0 n=0 p v w
    for p in $pids; do
        v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
        w=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
        rss=$((rss + ${v:-0}))
        pss=$((pss + ${w:-0}))
        n=$((n + 1))
    done
    echo "$rss $pss $n"
}

for w in $WORKLOADS; do
    case $w in
    mixed)
        for c in $MIX_CLIENTS; do
            for s in $SERVERS; do
                log "mixed: $s, $c clients, ${MIX_SECONDS}s"
                "$PB" imap --port "$(port_of $s)" --user-pattern 'bench%d' --users "$USERS" --password "$PASSWORD" \
                    --clients "$c" --seconds "$MIX_SECONDS" --seed "$SEED" --corpus "$T/corpus" \
                    --json "$OUT/mixed-c$c-$s.json" 2>&1 | tee "$OUT/mixed-c$c-$s.txt"
            done
        done
        ;;
    lmtp)
        for n in $LMTP_SENDERS; do
            for s in $SERVERS; do
                if [ $s = postfach ] && [ $PF_HAS_LMTP = 0 ]; then
                    log "lmtp: postfach has no --lmtp in this build: not measured"
                    echo '{"workload":"lmtp","not_measured":"postfach serve has no --lmtp in this build"}' >"$OUT/lmtp-s$n-$s.json"
                    continue
                fi
                log "lmtp: $s, $n senders, $LMTP_MESSAGES messages"
                "$PB" lmtp --port "$(lmtp_of $s)" --senders "$n" --messages "$LMTP_MESSAGES" \
                    --rcpt-pattern 'bench%d@localhost' --users "$USERS" --seed "$SEED" --corpus "$T/corpus" \
                    --json "$OUT/lmtp-s$n-$s.json" 2>&1 | tee "$OUT/lmtp-s$n-$s.txt"
            done
        done
        ;;
    big)
        for s in $SERVERS; do
            log "bigmailbox: $s, $BIG_N messages"
            "$PB" bigmailbox --port "$(port_of $s)" --user big1 --password "$PASSWORD" --count "$BIG_N" \
                --repeat "$BIG_REPEAT" --corpus "$T/corpus" --json "$OUT/big-$s.json" 2>&1 | tee "$OUT/big-$s.txt"
            du -sk "$([ $s = postfach ] && echo "$T/pf" || echo "$DC/mail/big1")" | awk '{print "disk_kb " $1}' \
                >>"$OUT/big-$s.txt"
        done
        ;;
    idle)
        for n in $IDLE_NS; do
            for s in $SERVERS; do
                if [ "$s" = dovecot ] && [ "$n" -gt "$DC_IDLE_MAX" ]; then
                    log "idle: $n connections: only postfach runs (Dovecot's ~5 MB per IDLE connection would not fit; DC_IDLE_MAX=$DC_IDLE_MAX)"
                    echo "{\"server\":\"dovecot\",\"connections\":$n,\"not_measured\":\"above DC_IDLE_MAX=$DC_IDLE_MAX: Dovecot's memory would not fit\"}" >"$OUT/idle-n$n-dovecot.mem.json"
                    continue
                fi
                # One postfach process holds at most its open-file limit: above
                # PF_SINGLE_MAX, worker processes; back to one process after.
                want=1
                if [ "$s" = postfach ] && [ "$n" -gt "$PF_SINGLE_MAX" ]; then want=$IDLE_WORKERS; fi
                if [ "$s" = postfach ] && [ "$want" != "$PF_WORKERS" ]; then
                    start_postfach --workers "$want"
                    PF_WORKERS=$want
                fi
                sleep 3
                read -r rss0 pss0 np0 < <(mem_of $s)
                log "idle: $s, $n connections (baseline rss ${rss0} kB, pss ${pss0} kB, $np0 processes)"
                rm -f "$T/ready" "$T/ready.progress"
                "$PB" idle --port "$(port_of $s)" --user-pattern 'bench%d' --users "$USERS" --password "$PASSWORD" \
                    --connections "$n" --hold $((IDLE_HOLD + 600)) --ready-file "$T/ready" \
                    --json "$OUT/idle-n$n-$s.json" >"$OUT/idle-n$n-$s.txt" 2>&1 &
                IPID=$!
                PIDS+=("$IPID")
                guard=""
                for _ in $(seq 1 1800); do
                    [ -s "$T/ready" ] && break
                    kill -0 $IPID 2>/dev/null || break
                    # Memory guard: stop adding load before the machine runs out.
                    if [ "$(awk '/MemAvailable/ {print $2}' /proc/meminfo)" -lt $((MEM_GUARD_MB * 1024)) ]; then
                        guard="memory guard: MemAvailable < ${MEM_GUARD_MB} MiB"
                        break
                    fi
                    sleep 1
                done
                if [ -n "$guard" ]; then
                    est=$(cat "$T/ready.progress" 2>/dev/null || echo 0)
                    log "idle: $s: $guard after $est connections; measuring now"
                else
                    sleep "$IDLE_HOLD"
                    est=$(cat "$T/ready" 2>/dev/null || echo 0)
                fi
                read -r rss1 pss1 np1 < <(mem_of $s)
                log "idle: $s, $est established: rss ${rss1} kB, pss ${pss1} kB, $np1 processes ($(awk -v r="$rss1" -v e="${est:-0}" 'BEGIN { if (e > 0) printf "%.1f KiB/conn total RSS", r / e; else printf "no connections" }'))"
                printf '{"server":"%s","connections":%s,"established":%s,"guard":"%s","baseline_rss_kb":%s,"loaded_rss_kb":%s,"baseline_pss_kb":%s,"loaded_pss_kb":%s,"baseline_processes":%s,"loaded_processes":%s,"workers":%s}\n' \
                    "$s" "$n" "${est:-0}" "$guard" "$rss0" "$rss1" "$pss0" "$pss1" "$np0" "$np1" "$([ "$s" = postfach ] && echo "$PF_WORKERS" || echo 0)" >"$OUT/idle-n$n-$s.mem.json"
                # Release: the generator ends IDLE on every connection and exits.
                kill -INT $IPID 2>/dev/null || true
                for _ in $(seq 1 120); do kill -0 $IPID 2>/dev/null || break; sleep 1; done
                kill -9 $IPID 2>/dev/null || true
                wait $IPID 2>/dev/null || true
                grep -h "delivery check" "$OUT/idle-n$n-$s.txt" | sed "s/^/idle: $s: /" | tee -a "$OUT/run.log" >&2 || true
            done
        done
        if [ "$PF_WORKERS" != 1 ] && [[ " $SERVERS " == *" postfach "* ]]; then
            start_postfach
            PF_WORKERS=1
        fi
        ;;
    *) log "unknown workload $w" ;;
    esac
done

{
    echo "# postfach vs Dovecot, $(date -u +'%Y-%m-%d %H:%M UTC')"
    echo
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r)"
    echo "postfach $(cd "$ROOT" && git rev-parse --short HEAD), $(rustc --version), $(command -v dovecot >/dev/null && dovecot --version | sed "s/^/Dovecot /")"
    echo "WORKLOADS='$WORKLOADS' SERVERS='$SERVERS' MIX_CLIENTS='$MIX_CLIENTS' MIX_SECONDS=$MIX_SECONDS BIG_N=$BIG_N IDLE_NS='$IDLE_NS' USERS=$USERS CORPUS_N=$CORPUS_N SEED=$SEED"
    echo "IDLE: postfach with $IDLE_WORKERS worker processes above $PF_SINGLE_MAX connections (memory = RSS of the supervisor and all workers); Dovecot only up to $DC_IDLE_MAX connections."
    echo
    "$PB" report --dir "$OUT"
} | tee "$OUT/summary.md"
