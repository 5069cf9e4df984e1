build4k/agent/cmd_agent.o: agent/cmd_agent.c agent/cmd.h agent/config.h \
 agent/arena.h agent/audit.h agent/store.h agent/endpoint.h \
 agent/queues.h agent/rconn.h alerts/engine.h agent/config.h \
 agent/ingest.h agent/queues.h agent/store.h agent/failover.h \
 agent/http.h agent/buf.h agent/ingest.h agent/lease.h agent/log.h \
 agent/metrics.h agent/window.h alerts/outbox.h alerts/sink.h agent/buf.h \
 agent/storeadmin.h agent/util.h agent/xmem.h
agent/cmd.h:
agent/config.h:
agent/arena.h:
agent/audit.h:
agent/store.h:
agent/endpoint.h:
agent/queues.h:
agent/rconn.h:
alerts/engine.h:
agent/config.h:
agent/ingest.h:
agent/queues.h:
agent/store.h:
agent/failover.h:
agent/http.h:
agent/buf.h:
agent/ingest.h:
agent/lease.h:
agent/log.h:
agent/metrics.h:
agent/window.h:
alerts/outbox.h:
alerts/sink.h:
agent/buf.h:
agent/storeadmin.h:
agent/util.h:
agent/xmem.h:
