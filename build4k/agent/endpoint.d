build4k/agent/endpoint.o: agent/endpoint.c agent/endpoint.h \
 agent/config.h agent/queues.h agent/rconn.h agent/arena.h agent/buf.h \
 agent/ingest.h agent/store.h agent/util.h agent/xmem.h
agent/endpoint.h:
agent/config.h:
agent/queues.h:
agent/rconn.h:
agent/arena.h:
agent/buf.h:
agent/ingest.h:
agent/store.h:
agent/util.h:
agent/xmem.h:
