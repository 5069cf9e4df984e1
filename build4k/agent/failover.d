build4k/agent/failover.o: agent/failover.c agent/failover.h \
 agent/config.h agent/queues.h agent/rconn.h agent/store.h agent/bmq.h \
 agent/buf.h agent/log.h agent/util.h agent/xmem.h
agent/failover.h:
agent/config.h:
agent/queues.h:
agent/rconn.h:
agent/store.h:
agent/bmq.h:
agent/buf.h:
agent/log.h:
agent/util.h:
agent/xmem.h:
