build4k/agent/dlq_act.o: agent/dlq_act.c agent/dlq_act.h agent/buf.h \
 agent/config.h agent/dlq.h agent/rconn.h agent/signature.h agent/audit.h \
 agent/store.h agent/bmq.h agent/cluster.h agent/log.h agent/queues.h \
 agent/strmap.h agent/util.h agent/xmem.h
agent/dlq_act.h:
agent/buf.h:
agent/config.h:
agent/dlq.h:
agent/rconn.h:
agent/signature.h:
agent/audit.h:
agent/store.h:
agent/bmq.h:
agent/cluster.h:
agent/log.h:
agent/queues.h:
agent/strmap.h:
agent/util.h:
agent/xmem.h:
