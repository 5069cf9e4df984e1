build4k/agent/cmd_sink.o: agent/cmd_sink.c agent/cmd.h agent/config.h \
 agent/opts.h agent/xmem.h alerts/labels.h agent/buf.h agent/log.h \
 alerts/outbox.h alerts/sink.h agent/config.h agent/store.h alerts/sink.h \
 agent/store.h agent/util.h agent/window.h
agent/cmd.h:
agent/config.h:
agent/opts.h:
agent/xmem.h:
alerts/labels.h:
agent/buf.h:
agent/log.h:
alerts/outbox.h:
alerts/sink.h:
agent/config.h:
agent/store.h:
alerts/sink.h:
agent/store.h:
agent/util.h:
agent/window.h:
