build4k/agent/cmd_common.o: agent/cmd_common.c agent/cmd.h agent/config.h \
 agent/buf.h agent/opts.h agent/xmem.h alerts/rule.h agent/buf.h \
 agent/config.h alerts/expr.h alerts/sink.h
agent/cmd.h:
agent/config.h:
agent/buf.h:
agent/opts.h:
agent/xmem.h:
alerts/rule.h:
agent/buf.h:
agent/config.h:
alerts/expr.h:
alerts/sink.h:
