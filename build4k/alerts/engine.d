build4k/alerts/engine.o: alerts/engine.c alerts/engine.h agent/config.h \
 agent/ingest.h agent/config.h agent/queues.h agent/rconn.h agent/store.h \
 agent/queues.h agent/store.h alerts/expr.h agent/buf.h alerts/labels.h \
 agent/log.h alerts/outbox.h alerts/sink.h alerts/rule.h alerts/silence.h \
 agent/strmap.h agent/util.h agent/window.h agent/xmem.h
alerts/engine.h:
agent/config.h:
agent/ingest.h:
agent/config.h:
agent/queues.h:
agent/rconn.h:
agent/store.h:
agent/queues.h:
agent/store.h:
alerts/expr.h:
agent/buf.h:
alerts/labels.h:
agent/log.h:
alerts/outbox.h:
alerts/sink.h:
alerts/rule.h:
alerts/silence.h:
agent/strmap.h:
agent/util.h:
agent/window.h:
agent/xmem.h:
