build4k/agent/window.o: agent/window.c agent/window.h agent/store.h \
 agent/log.h agent/util.h agent/xmem.h
agent/window.h:
agent/store.h:
agent/log.h:
agent/util.h:
agent/xmem.h:
