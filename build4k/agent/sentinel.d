build4k/agent/sentinel.o: agent/sentinel.c agent/sentinel.h \
 agent/config.h agent/buf.h agent/log.h agent/util.h agent/xmem.h
agent/sentinel.h:
agent/config.h:
agent/buf.h:
agent/log.h:
agent/util.h:
agent/xmem.h:
