build4k/tui/view.o: tui/view.c tui/view.h agent/dlq.h agent/rconn.h \
 agent/config.h agent/signature.h agent/buf.h tui/grid.h agent/buf.h \
 tui/layout.h agent/xmem.h
tui/view.h:
agent/dlq.h:
agent/rconn.h:
agent/config.h:
agent/signature.h:
agent/buf.h:
tui/grid.h:
agent/buf.h:
tui/layout.h:
agent/xmem.h:
