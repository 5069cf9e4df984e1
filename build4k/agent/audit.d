build4k/agent/audit.o: agent/audit.c agent/audit.h agent/store.h \
 agent/util.h
agent/audit.h:
agent/store.h:
agent/util.h:
