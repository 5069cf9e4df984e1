build4k/agent/cmd_dlq.o: agent/cmd_dlq.c agent/cmd.h agent/config.h \
 agent/audit.h agent/store.h agent/bmq.h agent/buf.h agent/dlq.h \
 agent/rconn.h agent/signature.h agent/dlq_act.h agent/jobdata.h \
 agent/log.h agent/opts.h agent/queues.h agent/util.h agent/xmem.h
agent/cmd.h:
agent/config.h:
agent/audit.h:
agent/store.h:
agent/bmq.h:
agent/buf.h:
agent/dlq.h:
agent/rconn.h:
agent/signature.h:
agent/dlq_act.h:
agent/jobdata.h:
agent/log.h:
agent/opts.h:
agent/queues.h:
agent/util.h:
agent/xmem.h:
