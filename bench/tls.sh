#!/usr/bin/env bash
# Ingest over TLS against plain TCP on the same stream: one redis-server
# with both a plain and a TLS port (certificates made here with openssl),
# one preloaded stream, `bullwatch agent --drain` over redis:// and over
# rediss:// (verification on) in alternating rounds, the better of two
# each. Called by bench/run.sh; runs alone too (after make bench's build):
#   BUILD=build bash bench/tls.sh      (BENCH_JOBS=N, default 100000)
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench-tls
N=${BENCH_JOBS:-100000}

o() { openssl "$@" >>"$DIR/openssl.log" 2>&1; }
o req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=bench CA" -keyout "$DIR/ca.key" -out "$DIR/ca.pem"
o req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$DIR/srv.key" -out "$DIR/srv.csr"
echo "subjectAltName=IP:127.0.0.1" >"$DIR/srv.ext"
o x509 -req -in "$DIR/srv.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" -CAcreateserial -days 1 \
    -extfile "$DIR/srv.ext" -out "$DIR/srv.pem"
port=$(free_port)
tport=$(free_port)
redis-server --port "$port" --tls-port "$tport" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$DIR" --logfile "$DIR/redis.log" --tls-cert-file "$DIR/srv.pem" \
    --tls-key-file "$DIR/srv.key" --tls-ca-cert-file "$DIR/ca.pem" --tls-auth-clients no &
PIDS+=($!)
for i in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
drain() { # url extra-redis-line -> JSON line of agent --drain
    rm -f "$DIR/d.db"*
    printf '[redis]\nurl = %s\n%s\n[queues]\npoll_every = 1s\n[store]\npath = %s\n[agent]\nblock = 20ms\nlog_level = warn\n' \
        "$1" "$2" "$DIR/d.db" >"$DIR/d.ini"
    timeout 600 "$BW" agent -c "$DIR/d.ini" --drain 2>>"$DIR/agent.err" | tail -1
}
say "TLS: preloading $N BullMQ-shaped lifecycles (20% dead), draining over redis:// and rediss://"
pre=$("$B/preload" 127.0.0.1 "$port" ing "$N" 20)
best() { # a b -> the run with more events/s
    if [ "$(j "$2" events_per_s)" -gt "$(j "$1" events_per_s)" ]; then echo "$2"; else echo "$1"; fi
}
plain=$(drain "redis://127.0.0.1:$port/0" "")
tls=$(drain "rediss://127.0.0.1:$tport/0" "tls_ca_file = $DIR/ca.pem")
plain=$(best "$plain" "$(drain "redis://127.0.0.1:$port/0" "")")
tls=$(best "$tls" "$(drain "rediss://127.0.0.1:$tport/0" "tls_ca_file = $DIR/ca.pem")")
[ -n "$plain" ] && [ -n "$tls" ] || { say "TLS rows failed: $(tail -3 "$DIR/agent.err")"; exit 1; }
row() { printf '%-44s %14s %12s %10s %8s\n' "$@"; }
mb() { node -e "console.log((Number(process.argv[1])/1024).toFixed(1)+' MB')" "$1"; }
row "ingest: plain TCP ($(j "$pre" entries) entries, same stream)" "$(j "$plain" events_per_s)" "$(j "$plain" rows_per_s)" "$(mb "$(j "$plain" peak_rss_kb)")" "$(j "$plain" cpu_s)"
row "ingest: TLS 1.3, verified (same server)" "$(j "$tls" events_per_s)" "$(j "$tls" rows_per_s)" "$(mb "$(j "$tls" peak_rss_kb)")" "$(j "$tls" cpu_s)"
node -e "console.log('TLS / plain: ' + (100*$(j "$tls" events_per_s)/$(j "$plain" events_per_s)).toFixed(0) + '% of the plain events/s, ' + ($(j "$tls" cpu_s)/$(j "$plain" cpu_s)).toFixed(2) + 'x the agent CPU')"
