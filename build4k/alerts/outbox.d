build4k/alerts/outbox.o: alerts/outbox.c alerts/outbox.h alerts/sink.h \
 agent/buf.h agent/config.h agent/store.h agent/lease.h agent/log.h \
 agent/util.h agent/window.h agent/store.h agent/xmem.h
alerts/outbox.h:
alerts/sink.h:
agent/buf.h:
agent/config.h:
agent/store.h:
agent/lease.h:
agent/log.h:
agent/util.h:
agent/window.h:
agent/store.h:
agent/xmem.h:
