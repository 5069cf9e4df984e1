#!/usr/bin/env bash
# TLS (rediss://) against redis-server --tls-port with certificates made
# here with openssl: real BullMQ producing dead jobs over TLS, the agent
# records each exactly once with verification on, status and dlq list /
# replay work over TLS; a wrong CA, a wrong server name and a missing
# client certificate are refused with clear messages and nothing recorded;
# tls_verify = false warns; bad TLS files are FILE:LINE config errors.
. "$(dirname "$0")/lib.sh"
pki=$T_DIR/pki
mkdir -p "$pki"
mk() { openssl "$@" >>"$pki/openssl.log" 2>&1 || die "openssl $1 failed: $(tail -3 "$pki/openssl.log")"; }
ca() { # name: a self-signed CA
    mk req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bullwatch test $1" \
        -keyout "$pki/$1.key" -out "$pki/$1.pem"
}
leaf() { # name CN ext: a certificate signed by the test CA
    mk req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$pki/$1.key" -out "$pki/$1.csr"
    printf '%s\n' "$3" >"$pki/$1.ext"
    mk x509 -req -in "$pki/$1.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
        -days 2 -extfile "$pki/$1.ext" -out "$pki/$1.pem"
}
ca ca
ca wrong-ca
leaf server 127.0.0.1 "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
leaf client bullwatch-agent "extendedKeyUsage=clientAuth"

# tls_redis PORTVAR [extra args]: TLS only (--port 0), its PID in T_PIDS
tls_redis() {
    local var=$1 port i
    shift
    port=$(free_port)
    redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$T_DIR" --logfile "$T_DIR/redis-$port.log" --tls-cert-file "$pki/server.pem" \
        --tls-key-file "$pki/server.key" --tls-ca-cert-file "$pki/ca.pem" "$@" &
    T_PIDS+=($!)
    for i in $(seq 1 100); do
        tcli "$port" ping 2>/dev/null | grep -q PONG && break
        sleep 0.1
    done
    tcli "$port" ping 2>/dev/null | grep -q PONG || die "TLS redis-server did not start on $port"
    printf -v "$var" '%s' "$port"
}
tcli() { # port args...: redis-cli over TLS with the client certificate
    local p=$1
    shift
    redis-cli --tls --cacert "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key" \
        -h 127.0.0.1 -p "$p" "$@"
}
# dead_rec DEADJOBS.json OUT: deadjobs.js's record in check_ingest.js's form
dead_rec() {
    node -e 'const d=require(process.argv[1]);require("fs").writeFileSync(process.argv[2],JSON.stringify({dead:d.dead.map(id=>({queue:d.queue,id}))}))' "$1" "$2"
}
# tls_ini FILE PORT STORE [extra [redis] lines]
tls_ini() {
    local f=$1 port=$2 store=$3
    shift 3
    cat >"$f" <<INI
[redis]
url = rediss://127.0.0.1:$port/0
${*:-tls_ca_file = $pki/ca.pem}
[queues]
discover_every = 1s
poll_every = 500ms
[store]
path = $store
[agent]
block = 200ms
INI
}

tls_redis TP --tls-auth-clients no
export BW_TLS_CA=$pki/ca.pem
ini=$T_DIR/agent.ini
tls_ini "$ini" "$TP" "$T_DIR/bw.db"

# --- config: bad files are start-up errors with FILE:LINE ---
tls_ini "$T_DIR/bad1.ini" "$TP" "$T_DIR/x.db" "tls_ca_file = $pki/no-such.pem"
"$BW" check-config -c "$T_DIR/bad1.ini" >/dev/null 2>"$T_DIR/bad1.err"
check "an unreadable tls_ca_file: exit 2, FILE:LINE and the OS's reason" bash -c \
    "[ $? = 2 ] && grep -q \"^$T_DIR/bad1.ini:3: .*cannot read tls_ca_file '$pki/no-such.pem': No such file or directory\" '$T_DIR/bad1.err'"
echo "not a certificate" >"$pki/junk.pem"
tls_ini "$T_DIR/bad2.ini" "$TP" "$T_DIR/x.db" "tls_ca_file = $pki/junk.pem"
"$BW" agent -c "$T_DIR/bad2.ini" >/dev/null 2>"$T_DIR/bad2.err"
check "a tls_ca_file without PEM: the agent exits 2 at start-up with FILE:LINE" bash -c \
    "[ $? = 2 ] && grep -q \"^$T_DIR/bad2.ini:3: .*tls_ca_file '$pki/junk.pem': no CA certificate in it\" '$T_DIR/bad2.err'"
tls_ini "$T_DIR/bad3.ini" "$TP" "$T_DIR/x.db" "tls_ca_file = $pki/ca.pem
tls_cert_file = $pki/client.pem
tls_key_file = $pki/server.key"
"$BW" check-config -c "$T_DIR/bad3.ini" >/dev/null 2>"$T_DIR/bad3.err"
check "a client key that is not the certificate's: exit 2, FILE:LINE" bash -c \
    "[ $? = 2 ] && grep -q \"^$T_DIR/bad3.ini:5: .*tls_key_file '$pki/server.key' is not the key of tls_cert_file\" '$T_DIR/bad3.err'"

# --- real BullMQ over TLS, the agent over TLS with verification on ---
start_agent "$ini"
check "the agent connects over TLS with the certificate verified" \
    wait_for 20 grep -q "(stream link): connected over TLS (TLSv1.3, .*, certificate verified)" "$T_DIR/agent.log"
node_js workload.js --redis "rediss://127.0.0.1:$TP/0" --bullmq 6 --jobs 600 --tag tls \
    --out "$T_DIR/wl.json" >"$T_DIR/wl.out" 2>&1 || die "workload over TLS failed: $(tail -3 "$T_DIR/wl.out")"
check "the agent catches up over TLS" wait_for 60 agent_caught_up "$ini"
failures_json "$T_DIR/failures.json" "$ini"
check "every dead job of the TLS workload recorded exactly once" \
    node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/wl.json" "$T_DIR/failures.json"
"$BW" status -c "$ini" --json >"$T_DIR/st.json" 2>"$T_DIR/st.err"
node_js counts.js --redis "rediss://127.0.0.1:$TP/0" --bullmq 6 --queues tls-a,tls-b,tls-c \
    >"$T_DIR/counts.json" 2>"$T_DIR/counts.err" || not_ok "counts.js over TLS failed"
check "status over TLS: counts equal getJobCounts()" \
    node "$NODE_DIR/js/check_ingest.js" counts "$T_DIR/st.json" "$T_DIR/counts.json" 6
"$BW" dlq list tls-a -c "$ini" --limit 0 --json >"$T_DIR/dl.json" 2>"$T_DIR/dl.err"
kept=$(tcli "$TP" zcard bull:tls-a:failed)
check "dlq list over TLS lists every job of the failed set ($kept)" node -e \
    'const j=require(process.argv[1]);process.exit(j.jobs.length===+process.argv[2]&&j.jobs.length>0?0:1)' \
    "$T_DIR/dl.json" "$kept"
one=$(node -e 'console.log(require(process.argv[1]).jobs[0].job_id)' "$T_DIR/dl.json")
"$BW" dlq replay tls-a "$one" --yes -c "$ini" >"$T_DIR/rp.out" 2>"$T_DIR/rp.err"
check "dlq replay over TLS: the job leaves the failed set and waits again" bash -c \
    "[ $? = 0 ] && [ -z \"\$(redis-cli --tls --cacert '$pki/ca.pem' -p $TP zscore bull:tls-a:failed '$one')\" ] &&
     [ \"\$(redis-cli --tls --cacert '$pki/ca.pem' -p $TP zcard bull:tls-a:failed)\" = $((kept - 1)) ]"
check "no TLS link went down during the run" bash -c "! grep -q 'retrying with backoff' '$T_DIR/agent.log'"
# the links killed by the server: both come back over TLS, nothing lost or doubled
tcli "$TP" client kill type normal skipme yes >/dev/null
check "links killed by the server are restored over TLS" \
    wait_for 20 grep -q "(stream link): connection restored over TLS" "$T_DIR/agent.log"
node_js deadjobs.js --redis "rediss://127.0.0.1:$TP/0" --bullmq 6 --queue tls-after --jobs 100 \
    --out "$T_DIR/after.json" >"$T_DIR/after.out" 2>&1 || die "deadjobs over TLS failed: $(tail -3 "$T_DIR/after.out")"
dead_rec "$T_DIR/after.json" "$T_DIR/after-rec.json"
check "the agent catches up after the restore" wait_for 60 agent_caught_up "$ini"
failures_json "$T_DIR/failures2.json" "$ini"
check "after the restore: the 100 new dead jobs recorded exactly once, the earlier ones not again" bash -c \
    "node '$NODE_DIR/js/check_ingest.js' dead '$T_DIR/after-rec.json' '$T_DIR/failures2.json' tls-after &&
     node '$NODE_DIR/js/check_ingest.js' dead '$T_DIR/wl.json' '$T_DIR/failures2.json' tls-a,tls-b,tls-c"
check "SIGTERM stops the TLS agent with exit 0" stop_agent

# --- a wrong CA: refused with a clear message, retried, nothing recorded ---
wini=$T_DIR/wrong.ini
tls_ini "$wini" "$TP" "$T_DIR/wrong.db" "tls_ca_file = $pki/wrong-ca.pem"
msg="TLS handshake failed: certificate verify failed: self-signed certificate in certificate chain (server name '127.0.0.1', CA file $pki/wrong-ca.pem)"
"$BW" status -c "$wini" >/dev/null 2>"$T_DIR/w.err"
check "status with a wrong CA exits 1 naming the endpoint, OpenSSL's reason and the CA file" bash -c \
    "[ $? = 1 ] && grep -qF \"127.0.0.1:$TP/0\" '$T_DIR/w.err' && grep -qF \"$msg\" '$T_DIR/w.err'"
conns() { tcli "$TP" info stats | sed -n 's/^total_connections_received:\([0-9]*\).*/\1/p'; }
c0=$(conns)
start_agent "$wini" "$T_DIR/wrong.log"
retried() { [ "$(conns)" -ge $((c0 + 8)) ]; }
check "the agent keeps retrying a refused TLS link" wait_for 30 retried
check "the refusal is logged once, not once per retry, with the endpoint, reason and CA file" bash -c \
    "[ \$(grep -cF \"$msg\" '$T_DIR/wrong.log') = 1 ] && grep -qF \"redis 127.0.0.1:$TP/0 (cmd link): $msg; retrying with backoff\" '$T_DIR/wrong.log'"
check "the refused agent stops with exit 0" stop_agent
failures_json "$T_DIR/wf.json" "$wini"
check "nothing recorded through a refused TLS link" node -e \
    'const j=require(process.argv[1]);process.exit(Array.isArray(j)&&j.length===0?0:1)' "$T_DIR/wf.json"

# --- a certificate for another name ---
tls_ini "$T_DIR/name.ini" "$TP" "$T_DIR/x.db" "tls_ca_file = $pki/ca.pem
tls_server_name = redis.example.org"
"$BW" status -c "$T_DIR/name.ini" >/dev/null 2>"$T_DIR/name.err"
check "a certificate that does not name tls_server_name is refused: hostname mismatch" bash -c \
    "[ $? = 1 ] && grep -qF \"certificate verify failed: hostname mismatch (server name 'redis.example.org'\" '$T_DIR/name.err'"

tls_ini "$T_DIR/dns.ini" "$TP" "$T_DIR/x.db" "tls_ca_file = $pki/ca.pem
tls_server_name = localhost"
"$BW" status -c "$T_DIR/dns.ini" --json >"$T_DIR/dns.json" 2>"$T_DIR/dns.err"
check "tls_server_name = localhost: SNI and the certificate's DNS name, status works" bash -c \
    "[ $? = 0 ] && [ -s '$T_DIR/dns.json' ]"

# --- tls_verify = false: works with the wrong CA, and is warned about ---
tls_ini "$T_DIR/nv.ini" "$TP" "$T_DIR/nv.db" "tls_ca_file = $pki/wrong-ca.pem
tls_verify = false"
"$BW" check-config -c "$T_DIR/nv.ini" >"$T_DIR/nv.out" 2>"$T_DIR/nv.err"
check "check-config warns about tls_verify = false" grep -q "tls_verify = false: the server's certificate is not checked" "$T_DIR/nv.err"
"$BW" status -c "$T_DIR/nv.ini" --json >"$T_DIR/nv.json" 2>/dev/null
check "tls_verify = false: status connects in spite of the wrong CA" test -s "$T_DIR/nv.json"
start_agent "$T_DIR/nv.ini" "$T_DIR/nv.log"
check "the agent warns about tls_verify = false at start-up" \
    wait_for 10 grep -q "tls_verify = false: the server's certificate is not checked" "$T_DIR/nv.log"
check "the agent's log says the certificate is not verified" \
    wait_for 10 grep -q "connected over TLS (.*certificate NOT verified" "$T_DIR/nv.log"
check "the unverified agent stops with exit 0" stop_agent

# --- a server that requires a client certificate ---
tls_redis MP --tls-auth-clients yes
tls_ini "$T_DIR/nocert.ini" "$MP" "$T_DIR/nc.db"
"$BW" status -c "$T_DIR/nocert.ini" >/dev/null 2>"$T_DIR/nc.err"
check "no client certificate for a server that wants one: exit 1, the reason and what to set" bash -c \
    "[ $? = 1 ] && grep -qE '(certificate required|Connection reset by peer) \(the server (wants|asked for) a client certificate: set tls_cert_file and tls_key_file\)' '$T_DIR/nc.err'"
mini=$T_DIR/mtls.ini
tls_ini "$mini" "$MP" "$T_DIR/mtls.db" "tls_ca_file = $pki/ca.pem
tls_cert_file = $pki/client.pem
tls_key_file = $pki/client.key"
start_agent "$mini" "$T_DIR/mtls.log"
check "the agent connects with its client certificate" \
    wait_for 20 grep -q "(stream link): connected over TLS" "$T_DIR/mtls.log"
BW_TLS_CERT=$pki/client.pem BW_TLS_KEY=$pki/client.key node_js deadjobs.js \
    --redis "rediss://127.0.0.1:$MP/0" --bullmq 5 --queue mtls --jobs 200 --out "$T_DIR/mdead.json" \
    >"$T_DIR/mdead.out" 2>&1 || die "deadjobs over mutual TLS failed: $(tail -3 "$T_DIR/mdead.out")"
dead_rec "$T_DIR/mdead.json" "$T_DIR/mrec.json"
check "mutual TLS: the agent catches up" wait_for 60 agent_caught_up "$mini"
failures_json "$T_DIR/mfail.json" "$mini"
check "mutual TLS: every one of the 200 dead jobs (BullMQ 5) recorded exactly once" bash -c \
    "node '$NODE_DIR/js/check_ingest.js' dead '$T_DIR/mrec.json' '$T_DIR/mfail.json' && [ \$(node -e 'console.log(require(process.argv[1]).dead.length)' '$T_DIR/mrec.json') = 200 ]"
check "the mutual-TLS agent stops with exit 0" stop_agent

# --- tls_* keys belong to rediss:// urls ---
printf '[redis]\nurl = redis://127.0.0.1:%s/0\ntls_ca_file = %s\n' "$TP" "$pki/ca.pem" >"$T_DIR/mix.ini"
"$BW" check-config -c "$T_DIR/mix.ini" >/dev/null 2>"$T_DIR/mix.err"
check "a tls_* key with a redis:// url is a FILE:LINE error" bash -c \
    "[ $? = 2 ] && grep -q \"^$T_DIR/mix.ini:3: .*tls_ca_file is set but the url is not rediss://\" '$T_DIR/mix.err'"

# --- a Redis Cluster over TLS (rediss+cluster://): 3 masters, TLS only ---
# the nodes' certificate also authenticates them to each other on the bus
leaf node 127.0.0.1 "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth,clientAuth"
cports=() caddrs=()
pong() { tcli "$1" ping 2>/dev/null | grep -q PONG; }
for i in 1 2 3; do
    for try in 1 2 3; do # another port when this one (or its bus port) was taken meanwhile
        p=$(cluster_port)
        mkdir -p "$T_DIR/cl-$p"
        redis-server --port 0 --tls-port "$p" --bind 127.0.0.1 --save '' --appendonly no \
            --cluster-enabled yes --tls-cluster yes --cluster-config-file "$T_DIR/cl-$p/nodes.conf" \
            --dir "$T_DIR/cl-$p" --logfile "$T_DIR/cl-$p/redis.log" --tls-cert-file "$pki/node.pem" \
            --tls-key-file "$pki/node.key" --tls-ca-cert-file "$pki/ca.pem" &
        T_PIDS+=($!)
        wait_for 10 pong "$p" && break
    done
    pong "$p" || die "TLS cluster node $p did not start"
    cports+=("$p")
    caddrs+=("127.0.0.1:$p")
done
timeout 60 redis-cli --tls --cacert "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key" --cluster create "${caddrs[@]}" --cluster-replicas 0 --cluster-yes \
    >"$T_DIR/cl-create.log" 2>&1 || die "the TLS cluster did not form: $(tail -3 "$T_DIR/cl-create.log")"
cl_ok() { for p in "${cports[@]}"; do tcli "$p" cluster info | grep -q '^cluster_state:ok' || return 1; done; }
wait_for 20 cl_ok || die "the TLS cluster is not ok"
seeds=$(IFS=,; echo "${caddrs[*]}")
cat >"$T_DIR/cl.ini" <<INI
[redis]
url = rediss+cluster://$seeds
prefix = bull
tls_ca_file = $pki/ca.pem
tls_cert_file = $pki/client.pem
tls_key_file = $pki/client.key
[queues]
discover_every = 1s
poll_every = 500ms
[store]
path = $T_DIR/cl.db
[agent]
block = 200ms
INI
start_agent "$T_DIR/cl.ini" "$T_DIR/cl-agent.log"
BW_TLS_CERT=$pki/client.pem BW_TLS_KEY=$pki/client.key node_js clusterjobs.js \
    --url "rediss+cluster://$seeds" --bullmq 6 --prefix bull --queues '{pay},{sms}' --jobs 5 \
    --out "$T_DIR/cl-jobs.json" >"$T_DIR/cl-jobs.out" 2>&1 ||
    die "BullMQ over a TLS cluster failed: $(tail -3 "$T_DIR/cl-jobs.out")"
cl_rows() { [ "$(sqlite3 "$T_DIR/cl.db" "SELECT count(*) || ' ' || count(DISTINCT queue || job_id) FROM failures")" = "10 10" ]; }
check "TLS cluster: the 10 dead jobs of two queues recorded once each" wait_for 20 cl_rows
check "TLS cluster: every node link is verified TLS" grep -q "node 127.0.0.1:${cports[2]} (stream link): connected over TLS" "$T_DIR/cl-agent.log"
"$BW" dlq replay '{sms}' --all --yes -c "$T_DIR/cl.ini" >"$T_DIR/cl-replay.out" 2>&1
check "TLS cluster: dlq replay" grep -q "replayed 5 of 5" "$T_DIR/cl-replay.out"
check "TLS cluster: the agent stops with exit 0" stop_agent
exit $T_FAILED
