build4k/agent/storeadmin.o: agent/storeadmin.c agent/storeadmin.h \
 agent/store.h agent/log.h agent/sqlembed.h agent/util.h
agent/storeadmin.h:
agent/store.h:
agent/log.h:
agent/sqlembed.h:
agent/util.h:
