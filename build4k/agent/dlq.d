build4k/agent/dlq.o: agent/dlq.c agent/dlq.h agent/rconn.h agent/config.h \
 agent/signature.h agent/buf.h agent/bmq.h agent/jobdata.h \
 agent/sqlembed.h agent/util.h agent/xmem.h
agent/dlq.h:
agent/rconn.h:
agent/config.h:
agent/signature.h:
agent/buf.h:
agent/bmq.h:
agent/jobdata.h:
agent/sqlembed.h:
agent/util.h:
agent/xmem.h:
