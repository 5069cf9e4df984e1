build4k/tui/app.o: tui/app.c agent/cmd.h agent/config.h tui/data.h \
 agent/config.h agent/dlq.h agent/rconn.h agent/signature.h agent/buf.h \
 agent/rconn.h agent/store.h tui/view.h tui/grid.h agent/buf.h \
 tui/layout.h agent/dlq_act.h agent/dlq.h alerts/silence.h agent/log.h \
 agent/opts.h agent/queues.h agent/util.h agent/xmem.h
agent/cmd.h:
agent/config.h:
tui/data.h:
agent/config.h:
agent/dlq.h:
agent/rconn.h:
agent/signature.h:
agent/buf.h:
agent/rconn.h:
agent/store.h:
tui/view.h:
tui/grid.h:
agent/buf.h:
tui/layout.h:
agent/dlq_act.h:
agent/dlq.h:
alerts/silence.h:
agent/log.h:
agent/opts.h:
agent/queues.h:
agent/util.h:
agent/xmem.h:
