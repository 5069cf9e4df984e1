build4k/agent/cmd_store.o: agent/cmd_store.c agent/cmd.h agent/config.h \
 agent/buf.h agent/log.h agent/opts.h agent/xmem.h agent/store.h \
 agent/storeadmin.h agent/util.h
agent/cmd.h:
agent/config.h:
agent/buf.h:
agent/log.h:
agent/opts.h:
agent/xmem.h:
agent/store.h:
agent/storeadmin.h:
agent/util.h:
