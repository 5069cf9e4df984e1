build4k/tui/data.o: tui/data.c tui/data.h agent/config.h agent/dlq.h \
 agent/rconn.h agent/config.h agent/signature.h agent/buf.h agent/rconn.h \
 agent/store.h tui/view.h tui/grid.h agent/buf.h tui/layout.h agent/bmq.h \
 agent/queues.h agent/sqlembed.h alerts/labels.h alerts/silence.h \
 agent/util.h agent/xmem.h
tui/data.h:
agent/config.h:
agent/dlq.h:
agent/rconn.h:
agent/config.h:
agent/signature.h:
agent/buf.h:
agent/rconn.h:
agent/store.h:
tui/view.h:
tui/grid.h:
agent/buf.h:
tui/layout.h:
agent/bmq.h:
agent/queues.h:
agent/sqlembed.h:
alerts/labels.h:
alerts/silence.h:
agent/util.h:
agent/xmem.h:
