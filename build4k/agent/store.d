build4k/agent/store.o: agent/store.c agent/store.h agent/config.h \
 agent/log.h agent/sqlembed.h agent/xmem.h
agent/store.h:
agent/config.h:
agent/log.h:
agent/sqlembed.h:
agent/xmem.h:
