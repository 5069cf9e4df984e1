build4k/agent/lease.o: agent/lease.c agent/lease.h agent/log.h \
 agent/rconn.h agent/config.h agent/sqlembed.h agent/util.h agent/xmem.h
agent/lease.h:
agent/log.h:
agent/rconn.h:
agent/config.h:
agent/sqlembed.h:
agent/util.h:
agent/xmem.h:
