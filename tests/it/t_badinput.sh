#!/usr/bin/env bash
# Bad input: stream entries that miss fields, carry unknown events or binary;
# job hashes with non-JSON data, a 5 MB payload, secrets, a key of the wrong
# type; an events key that is not a stream. The agent keeps running, stores
# what it can, and logs a line naming queue and stream id.
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini"
start_agent "$T_DIR/agent.ini"
node_js badinput.js --redis "$REDIS_URL" --out "$T_DIR/ids.json" >"$T_DIR/bad.out" 2>&1 ||
    die "badinput.js failed: $(tail -3 "$T_DIR/bad.out")"
id() { node -e 'console.log(require(process.argv[1])[process.argv[2]])' "$T_DIR/ids.json" "$1"; }
row_for_last() {
    "$BW" query job_history -c "$T_DIR/agent.ini" --param queue=bad --param job_id=last --json |
        grep -q 'ordinary failure'
}
check "the ordinary failure after the bad input is recorded" wait_for 30 row_for_last
check "the agent is still running" kill -0 "$AGENT_PID"
log=$T_DIR/agent.log
check "entry without 'event' is logged with queue and stream id" \
    grep -q "queue 'bad' stream id $(id no_event): malformed entry skipped: no 'event' field" "$log"
check "'failed' without jobId is logged with queue and stream id" \
    grep -q "queue 'bad' stream id $(id no_jobid): malformed entry skipped: 'failed' event without jobId" "$log"
check "non-JSON job data is logged with queue, job and stream id" \
    grep -q "queue 'bad' job 'nonjson' (stream id $(id nonjson)): job data is not JSON" "$log"
check "the events key that is not a stream is named in the log" \
    grep -q "queue 'weird': key 'bull:weird:events' is a string, not a stream" "$log"
check "a job key of the wrong type is logged" grep -q "job 'wrongtype': HGETALL failed" "$log"
check "no raw escape byte reached the log" bash -c "! grep -q $'\x1b' '$log'"

cat >"$T_DIR/rows.sql" <<'SQL'
SELECT job_id, data_json, data_truncated, data_size, length(CAST(data AS BLOB)) AS data_len,
       hash_missing, instr(data, 'hunter2') + instr(data, 's3cr3t') + instr(data, 'tok-123') AS leaks,
       instr(data, '[redacted]') AS redacted, length(CAST(failed_reason AS BLOB)) AS reason_len,
       signature
FROM failures WHERE queue = 'bad' ORDER BY job_id;
SQL
"$BW" query "$T_DIR/rows.sql" -c "$T_DIR/agent.ini" --json >"$T_DIR/rows.json"
row() { node -e 'const r=require(process.argv[1]).find(x=>x.job_id===process.argv[2]);if(!r)process.exit(1);const ok=new Function("r","return "+process.argv[3])(r);process.exit(ok?0:1)' "$T_DIR/rows.json" "$1" "$2"; }
check "non-JSON data stored as text, flagged" row nonjson 'r.data_json===0 && r.data_len===17'
check "5 MB data: size recorded, stored cut to 64 KiB, flagged" \
    row big 'r.data_size>5*1024*1024 && r.data_truncated===1 && r.data_len<=65536 && r.data_len>60000'
check "secrets redacted before storing" row secret 'r.leaks===0 && r.redacted>0'
check "binary data and a reason with escapes and NUL are stored whole" \
    row bin 'r.data_json===0 && r.reason_len===38 && r.signature'
check "a failure whose job hash is of the wrong type keeps the event" row wrongtype 'r.hash_missing===1'
check "a failure whose job hash never existed keeps the event" row gone 'r.hash_missing===1'
"$BW" query minute_counts -c "$T_DIR/agent.ini" --param queue=bad --json >"$T_DIR/min.json"
check "malformed and unknown events are counted" node -e \
    'const r=require(process.argv[1]);const s=k=>r.reduce((a,x)=>a+x[k],0);process.exit(s("malformed")===2&&s("unknown")===2?0:1)' "$T_DIR/min.json"
"$BW" query failures -c "$T_DIR/agent.ini" --param queue=bad >"$T_DIR/table.txt"
check "the human table escapes control characters" bash -c "grep -q '\\\\x1b\\]0;pwned' '$T_DIR/table.txt' && ! grep -q $'\x1b' '$T_DIR/table.txt'"
check "SIGTERM stops the agent with exit 0" stop_agent
