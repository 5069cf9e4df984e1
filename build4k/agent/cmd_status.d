build4k/agent/cmd_status.o: agent/cmd_status.c agent/cmd.h agent/config.h \
 agent/bmq.h agent/buf.h agent/log.h agent/queues.h agent/rconn.h \
 agent/lease.h agent/store.h agent/storeadmin.h agent/util.h agent/xmem.h
agent/cmd.h:
agent/config.h:
agent/bmq.h:
agent/buf.h:
agent/log.h:
agent/queues.h:
agent/rconn.h:
agent/lease.h:
agent/store.h:
agent/storeadmin.h:
agent/util.h:
agent/xmem.h:
