build4k/agent/cmd_silence.o: agent/cmd_silence.c agent/cmd.h \
 agent/config.h agent/buf.h agent/log.h agent/opts.h agent/xmem.h \
 alerts/silence.h agent/store.h agent/store.h agent/util.h
agent/cmd.h:
agent/config.h:
agent/buf.h:
agent/log.h:
agent/opts.h:
agent/xmem.h:
alerts/silence.h:
agent/store.h:
agent/store.h:
agent/util.h:
