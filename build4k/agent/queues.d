build4k/agent/queues.o: agent/queues.c agent/queues.h agent/config.h \
 agent/rconn.h agent/bmq.h agent/buf.h agent/log.h agent/util.h \
 agent/xmem.h
agent/queues.h:
agent/config.h:
agent/rconn.h:
agent/bmq.h:
agent/buf.h:
agent/log.h:
agent/util.h:
agent/xmem.h:
