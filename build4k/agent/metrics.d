build4k/agent/metrics.o: agent/metrics.c agent/metrics.h agent/buf.h \
 agent/config.h agent/ingest.h agent/queues.h agent/rconn.h agent/store.h \
 agent/window.h agent/util.h agent/version.h
agent/metrics.h:
agent/buf.h:
agent/config.h:
agent/ingest.h:
agent/queues.h:
agent/rconn.h:
agent/store.h:
agent/window.h:
agent/util.h:
agent/version.h:
