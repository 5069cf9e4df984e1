build4k/agent/cmd_query.o: agent/cmd_query.c agent/cmd.h agent/config.h \
 agent/buf.h agent/log.h agent/opts.h agent/sqlembed.h agent/store.h \
 agent/util.h agent/xmem.h
agent/cmd.h:
agent/config.h:
agent/buf.h:
agent/log.h:
agent/opts.h:
agent/sqlembed.h:
agent/store.h:
agent/util.h:
agent/xmem.h:
