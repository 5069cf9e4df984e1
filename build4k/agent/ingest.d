build4k/agent/ingest.o: agent/ingest.c agent/ingest.h agent/config.h \
 agent/queues.h agent/rconn.h agent/store.h agent/ingest_int.h \
 agent/arena.h agent/bmq.h agent/buf.h agent/event.h agent/strmap.h \
 agent/window.h agent/log.h agent/util.h agent/xmem.h
agent/ingest.h:
agent/config.h:
agent/queues.h:
agent/rconn.h:
agent/store.h:
agent/ingest_int.h:
agent/arena.h:
agent/bmq.h:
agent/buf.h:
agent/event.h:
agent/strmap.h:
agent/window.h:
agent/log.h:
agent/util.h:
agent/xmem.h:
